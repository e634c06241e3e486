/**
 * @module server/commands/log-in
 * Password log-in with back-off per account and per address, and the same
 * work for unknown emails as for known ones.
 */
import { findUserCredentials } from '../../db/queries/users';
import { ERROR_CODES } from '../../sync/api';
import { verifyDecoy, verifyPassword } from '../auth/password';
import { createSession } from '../auth/session';
import {
  recordFailedAttempt,
  recordSuccessfulAttempt,
  throttleKeys,
  waitBeforeAttempt,
} from '../auth/throttle';
import type { Deps } from '../context';
import { HttpError } from '../errors';

export interface LogInResult {
  userId: string;
  token: string;
  expiresAt: Date;
}

/**
 * Checks credentials and starts a session.
 * @param ip the client address (for the per-address throttle).
 * @throws {HttpError} 429 `too_many_attempts` (with Retry-After), 401 `invalid_credentials`, 403 `account_deactivated`.
 */
export async function logIn(deps: Deps, input: { email: string; password: string }, ip: string): Promise<LogInResult> {
  const { db } = deps;
  const keys = throttleKeys(input.email, ip);
  const wait = await waitBeforeAttempt(db, keys, deps.now());
  if (wait > 0) {
    const seconds = Math.ceil(wait / 1000);
    throw new HttpError(
      429,
      ERROR_CODES.tooManyAttempts,
      `Too many failed attempts; try again in ${seconds} second${seconds === 1 ? '' : 's'}`,
      undefined,
      { 'Retry-After': String(seconds) },
    );
  }
  const user = await findUserCredentials(db, input.email);
  const valid = user ? await verifyPassword(user.passwordHash, input.password) : await verifyDecoy(input.password);
  if (!user || !valid) {
    await recordFailedAttempt(db, keys, deps.now());
    throw new HttpError(401, ERROR_CODES.invalidCredentials, 'Email or password is incorrect');
  }
  await recordSuccessfulAttempt(db, keys);
  if (!user.active) {
    throw new HttpError(403, ERROR_CODES.deactivated, 'This account has been deactivated; ask an admin to reactivate it');
  }
  const { token, session } = await createSession(db, user.id, deps.now());
  return { userId: user.id, token, expiresAt: session.expiresAt };
}
