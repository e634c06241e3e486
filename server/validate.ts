/**
 * @module server/validate
 * Parses request bodies and params with zod; every failure becomes a 400
 * that names the field, never a 500.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { ERROR_CODES } from '../sync/api';
import { HttpError } from './errors';

/**
 * Reads and validates a JSON body.
 * @throws {HttpError} 400 `invalid_json` for a body that is not JSON, 400 `validation_failed` naming the first bad field.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(415 as 400, ERROR_CODES.badRequest, 'Send the body as application/json');
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new HttpError(400, ERROR_CODES.invalidJson, 'The request body is not valid JSON');
  }
  return check(schema, body);
}

/**
 * Validates any value (path params, query).
 * @throws {HttpError} 400 naming the first bad field.
 */
export function check<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) {
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
  const message = issue ? describe(field, issue.message) : 'Invalid input';
  throw new HttpError(400, ERROR_CODES.validationFailed, message, field);
}

function describe(field: string | undefined, message: string): string {
  return field ? `${field}: ${message}` : message;
}
