/**
 * @module db/queries/sessions
 */
import type { Queryable } from '../types';

export interface SessionRow {
  id: string;
  secretHash: Uint8Array;
  userId: string;
  createdAt: Date;
  lastVerifiedAt: Date;
  expiresAt: Date;
}

const COLUMNS = `id, secret_hash as "secretHash", user_id as "userId", created_at as "createdAt",
  last_verified_at as "lastVerifiedAt", expires_at as "expiresAt"`;

/** Stores a new session (the secret only as its SHA-256). */
export async function insertSession(q: Queryable, session: Omit<SessionRow, 'createdAt'>): Promise<void> {
  await q.query(
    `insert into sessions (id, secret_hash, user_id, last_verified_at, expires_at) values ($1, $2, $3, $4, $5)`,
    [session.id, session.secretHash, session.userId, session.lastVerifiedAt, session.expiresAt],
  );
}

/** Finds a session by id. */
export async function findSession(q: Queryable, id: string): Promise<SessionRow | null> {
  const rows = await q.query<SessionRow>(`select ${COLUMNS} from sessions where id = $1`, [id]);
  return rows[0] ?? null;
}

/** Slides a session's expiry forward. */
export async function touchSession(q: Queryable, id: string, lastVerifiedAt: Date, expiresAt: Date): Promise<void> {
  await q.query('update sessions set last_verified_at = $2, expires_at = $3 where id = $1', [
    id,
    lastVerifiedAt,
    expiresAt,
  ]);
}

/** Deletes one session. */
export async function deleteSession(q: Queryable, id: string): Promise<void> {
  await q.query('delete from sessions where id = $1', [id]);
}

/** Deletes every session of a person. @returns the deleted session ids (so live sockets can be closed). */
export async function deleteUserSessions(q: Queryable, userId: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>('delete from sessions where user_id = $1 returning id', [userId]);
  return rows.map((r) => r.id);
}

/** Removes expired sessions. @returns how many. */
export async function deleteExpiredSessions(q: Queryable, now: Date): Promise<number> {
  const rows = await q.query<{ id: string }>('delete from sessions where expires_at <= $1 returning id', [now]);
  return rows.length;
}
