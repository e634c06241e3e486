/**
 * @module server/middleware/session
 * Resolves the session cookie to a person on every request, and the guards
 * routes use to require one.
 */
import { createMiddleware } from 'hono/factory';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from '../auth/cookie';
import { validateSessionToken } from '../auth/session';
import type { AppEnv, Auth } from '../context';
import { authRequired, forbidden } from '../errors';

/** Sets `auth` to the session's person, or null; slides the cookie's expiry when the session moved. */
export const loadSession = createMiddleware<AppEnv>(async (c, next) => {
  const token = readSessionCookie(c);
  if (!token) {
    c.set('auth', null);
    return next();
  }
  const { db, config, now } = c.var.deps;
  const result = await validateSessionToken(db, token, now());
  if (!result) {
    c.set('auth', null);
    clearSessionCookie(c, config);
    return next();
  }
  c.set('auth', { session: result.session, user: result.user });
  if (result.refreshed) {
    setSessionCookie(c, config, token, result.session.expiresAt);
  }
  return next();
});

/**
 * The signed-in person.
 * @throws {HttpError} 401 when nobody is signed in.
 */
export function requireAuth(auth: Auth | null): Auth {
  if (!auth) {
    throw authRequired();
  }
  return auth;
}

/**
 * The signed-in person, who must be an admin.
 * @throws {HttpError} 401 when nobody is signed in, 403 for non-admins.
 */
export function requireAdmin(auth: Auth | null): Auth {
  const signedIn = requireAuth(auth);
  if (signedIn.user.role !== 'admin') {
    throw forbidden('Only admins can do that');
  }
  return signedIn;
}
