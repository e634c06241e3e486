/**
 * @module server/auth/session
 * Sessions with an inactivity timeout: a session lives 30 days past its last
 * use, and use is written back at most hourly so reads stay cheap.
 */
import {
  deleteSession,
  deleteUserSessions,
  findSession,
  insertSession,
  touchSession,
} from '../../db/queries/sessions';
import { findUserById, type UserWithGroupsRow } from '../../db/queries/users';
import type { Queryable } from '../../db/types';
import { issueToken, secretMatches, splitToken } from './tokens';

export const SESSION_TTL_MS = 30 * 24 * 3_600_000;
export const SESSION_REFRESH_MS = 3_600_000;

export interface SessionInfo {
  id: string;
  userId: string;
  expiresAt: Date;
}

export interface ValidatedSession {
  session: SessionInfo;
  user: UserWithGroupsRow;
  /** True when the expiry moved, so the cookie should be sent again. */
  refreshed: boolean;
}

/**
 * Starts a session for a person.
 * @returns the token for the cookie and the stored session.
 */
export async function createSession(
  q: Queryable,
  userId: string,
  now: Date,
): Promise<{ token: string; session: SessionInfo }> {
  const issued = issueToken();
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await insertSession(q, { id: issued.id, secretHash: issued.secretHash, userId, lastVerifiedAt: now, expiresAt });
  return { token: issued.token, session: { id: issued.id, userId, expiresAt } };
}

/**
 * Checks a presented token: shape, secret, expiry, and that its person is still active.
 * @returns the session and person, or null for anything invalid (expired ones are deleted).
 */
export async function validateSessionToken(
  q: Queryable,
  token: string,
  now: Date,
): Promise<ValidatedSession | null> {
  const parts = splitToken(token);
  if (!parts) {
    return null;
  }
  const row = await findSession(q, parts.id);
  if (!row || !secretMatches(parts.secret, row.secretHash)) {
    return null;
  }
  if (row.expiresAt.getTime() <= now.getTime()) {
    await deleteSession(q, row.id);
    return null;
  }
  const user = await findUserById(q, row.userId);
  if (!user || !user.active) {
    return null;
  }
  const session: SessionInfo = { id: row.id, userId: row.userId, expiresAt: row.expiresAt };
  if (now.getTime() - row.lastVerifiedAt.getTime() < SESSION_REFRESH_MS) {
    return { session, user, refreshed: false };
  }
  session.expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await touchSession(q, row.id, now, session.expiresAt);
  return { session, user, refreshed: true };
}

/** Ends one session. */
export function invalidateSession(q: Queryable, sessionId: string): Promise<void> {
  return deleteSession(q, sessionId);
}

/** Ends every session of a person (log out everywhere, deactivation). */
export function invalidateUserSessions(q: Queryable, userId: string): Promise<string[]> {
  return deleteUserSessions(q, userId);
}
