/**
 * @module server/middleware/origin-check
 * CSRF defence for every state-changing request, JSON included (Hono's
 * `csrf()` only looks at form content types): the browser-set `Origin`
 * header must be one of ours.
 */
import { createMiddleware } from 'hono/factory';
import { ERROR_CODES } from '../../sync/api';
import type { AppEnv } from '../context';
import { HttpError } from '../errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a browser-set `Origin` is one of ours (shared with the `/sync` WebSocket upgrade). */
export function isAllowedOrigin(origins: readonly string[], origin: string | undefined): boolean {
  return origin !== undefined && origins.includes(origin);
}

/** Refuses non-GET/HEAD requests whose `Origin` is missing or foreign with 403. */
export const originCheck = createMiddleware<AppEnv>(async (c, next) => {
  if (SAFE_METHODS.has(c.req.method)) {
    return next();
  }
  if (!isAllowedOrigin(c.var.deps.config.origins, c.req.header('origin'))) {
    throw new HttpError(403, ERROR_CODES.originRejected, 'This request did not come from the Shoal app');
  }
  return next();
});
