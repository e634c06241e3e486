/**
 * @module db/queries/signatures
 * A person's email signature (`user_signatures`); no row means none.
 */
import type { Queryable } from '../types';

export interface SignatureRow {
  body: string;
  updatedAt: Date;
}

export async function findSignature(q: Queryable, userId: string): Promise<SignatureRow | null> {
  const rows = await q.query<SignatureRow>('select body, updated_at as "updatedAt" from user_signatures where user_id = $1', [userId]);
  return rows[0] ?? null;
}

/** Inserts or replaces the person's signature. */
export async function saveSignature(q: Queryable, userId: string, body: string, at: Date): Promise<SignatureRow> {
  const rows = await q.query<SignatureRow>(
    `insert into user_signatures (user_id, body, updated_at) values ($1, $2, $3)
     on conflict (user_id) do update set body = excluded.body, updated_at = excluded.updated_at
     returning body, updated_at as "updatedAt"`,
    [userId, body, at],
  );
  return rows[0] as SignatureRow;
}
