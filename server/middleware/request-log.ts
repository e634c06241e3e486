/**
 * @module server/middleware/request-log
 * A request id per request (echoed in `X-Request-Id`) and one log line per
 * response. Paths are logged with secrets masked: invite tokens travel in URLs.
 */
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context';

const SECRET_SEGMENTS = /^(\/api\/invites\/)[^/]+/;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Masks secret path segments before they are logged. */
export function maskPath(path: string): string {
  return path.replace(SECRET_SEGMENTS, '$1[token]');
}

/** Sets `requestId` and a child logger, then logs the response. */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header('x-request-id');
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  const log = c.var.deps.log.child({ requestId });
  c.set('requestId', requestId);
  c.set('log', log);
  const started = performance.now();
  await next();
  c.header('X-Request-Id', requestId);
  const ms = Math.round((performance.now() - started) * 10) / 10;
  log.info({ method: c.req.method, path: maskPath(c.req.path), status: c.res.status, ms }, 'request');
});
