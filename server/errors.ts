/**
 * @module server/errors
 * One error type for every expected failure, with a stable code the app can
 * switch on, and one handler that turns anything thrown into a JSON body
 * without leaking stacks.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { ERROR_CODES, type ApiErrorBody, type ErrorCode } from '../sync/api';
import { SecretError } from './secrets/envelope';

/** An expected failure: status, stable code, a message safe to show a person. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly headers?: Record<string, string>,
    readonly details?: Record<string, string>,
  ) {
    super(message);
  }
}

/** 400 with the offending field named. */
export const invalid = (field: string, message: string) =>
  new HttpError(400, ERROR_CODES.validationFailed, message, field);
export const notFound = (what: string) => new HttpError(404, ERROR_CODES.notFound, `${what} not found`);
export const forbidden = (message = 'You do not have permission to do that') =>
  new HttpError(403, ERROR_CODES.forbidden, message);
export const authRequired = () => new HttpError(401, ERROR_CODES.authRequired, 'Log in to continue');

/**
 * Builds the one `onError` handler.
 * @param log where unexpected errors are reported (expected ones are not).
 */
export function errorHandler(log: Logger) {
  return function onError(error: Error, c: Context): Response {
    const body = toBody(error);
    if (body.status >= 500) {
      // A 5xx the app maps (a mailbox key missing, a mail server down) is an operator's matter, not a bug.
      const known = body.json.error.code !== ERROR_CODES.internal;
      log.error({ err: error, code: body.json.error.code, requestId: c.get('requestId') as string | undefined }, known ? 'request failed' : 'unhandled error');
    }
    const headers = error instanceof HttpError ? error.headers : undefined;
    return c.json(body.json, body.status, headers);
  };
}

function toBody(error: Error): { status: ContentfulStatusCode; json: ApiErrorBody } {
  if (error instanceof HttpError) {
    const err = {
      code: error.code,
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
      ...(error.details ? { details: error.details } : {}),
    };
    return { status: error.status, json: { error: err } };
  }
  if (error instanceof SecretError) {
    // A mailbox's sealed password needs a key this process does not hold (a KEK removed too early, a restored dump):
    // the person can act on it by reconnecting the mailbox; it is not a bug in the request.
    const message = 'This mailbox’s stored password cannot be opened with the keys Shoal has now; reconnect the mailbox or restore its key';
    return { status: 503, json: { error: { code: ERROR_CODES.mailboxSecretUnavailable, message } } };
  }
  if (error instanceof HTTPException) {
    // Raised by Hono's own middleware (e.g. body limit); keep the status, give it a code.
    const status = error.status as ContentfulStatusCode;
    const code = status === 413 ? ERROR_CODES.payloadTooLarge : ERROR_CODES.badRequest;
    return { status, json: { error: { code, message: error.message || 'Bad request' } } };
  }
  return { status: 500, json: { error: { code: ERROR_CODES.internal, message: 'Something went wrong on our side' } } };
}
