/**
 * @module db/queries/sync-writes
 * The log of every editable write a person's document carried, keyed by
 * (person, key, stamp): a write replayed after a reconnect, a retry or a
 * document reset finds its row and changes nothing. Conversion requests keep
 * the server's answer in `value`, so the answer can be written again.
 */
import type { Queryable } from '../types';

export interface SyncWriteRow {
  key: string;
  hlc: string;
  value: unknown;
  outcome: 'applied' | 'lost' | 'refused';
  reason: string | null;
}

/** The log key of a document key: `map:key`, so keys of different maps never meet. */
export const syncWriteKey = (map: string, key: string): string => `${map}:${key}`;

const pairKey = (key: string, hlc: string): string => `${key}\u0000${hlc}`;

/** The logged writes among `pairs`, by {@link pairKey}-joined key and stamp. */
export async function findSyncWrites(
  q: Queryable,
  userId: string,
  pairs: readonly { key: string; hlc: string }[],
): Promise<Map<string, SyncWriteRow>> {
  if (pairs.length === 0) {
    return new Map();
  }
  const rows = await q.query<SyncWriteRow>(
    `select w.key, w.hlc, w.value, w.outcome, w.reason from sync_writes w
     join unnest($2::text[], $3::text[]) as p(key, hlc) on p.key = w.key and p.hlc = w.hlc
     where w.user_id = $1`,
    [userId, pairs.map((p) => p.key), pairs.map((p) => p.hlc)],
  );
  return new Map(rows.map((r) => [pairKey(r.key, r.hlc), r]));
}

/** Looks a write up in the result of {@link findSyncWrites}. */
export function loggedWrite(found: ReadonlyMap<string, SyncWriteRow>, key: string, hlc: string): SyncWriteRow | undefined {
  return found.get(pairKey(key, hlc));
}

/** Logs writes; one already logged (same person, key and stamp) is left as it was. */
export async function insertSyncWrites(q: Queryable, userId: string, rows: readonly SyncWriteRow[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await q.query(
    `insert into sync_writes (user_id, key, hlc, value, outcome, reason)
     select $1, t.key, t.hlc, t.value::jsonb, t.outcome, t.reason
     from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) as t(key, hlc, value, outcome, reason)
     on conflict (user_id, key, hlc) do nothing`,
    [
      userId,
      rows.map((r) => r.key),
      rows.map((r) => r.hlc),
      rows.map((r) => (r.value === undefined ? null : JSON.stringify(r.value))),
      rows.map((r) => r.outcome),
      rows.map((r) => r.reason),
    ],
  );
}

/**
 * The latest logged value (by stamp) of each key that has one: for
 * conversion requests, the server's last answer.
 */
export async function latestLoggedValues(q: Queryable, userId: string, keys: readonly string[]): Promise<Map<string, unknown>> {
  if (keys.length === 0) {
    return new Map();
  }
  const rows = await q.query<{ key: string; value: unknown }>(
    `select distinct on (key) key, value from sync_writes
     where user_id = $1 and key = any($2::text[]) and value is not null
     order by key, hlc collate "C" desc`,
    [userId, keys],
  );
  return new Map(rows.map((r) => [r.key, r.value]));
}
