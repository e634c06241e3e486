/**
 * @module db/queries/share-flags
 * Custom mode "share emails" flags, one per (mailbox owner, record), last
 * writer wins by HLC. Stamps compare as strings (their fixed-width form sorts
 * like the stamps), under the "C" collation so a locale never reorders them.
 */
import type { Queryable } from '../types';

export interface ShareFlagRow {
  shared: boolean;
  hlc: string;
}

export async function findShareFlag(q: Queryable, ownerId: string, recordId: string): Promise<ShareFlagRow | null> {
  const rows = await q.query<ShareFlagRow>(
    'select shared, hlc from email_share_flags where owner_id = $1 and record_id = $2',
    [ownerId, recordId],
  );
  return rows[0] ?? null;
}

/**
 * Writes the flag unless the stored stamp is the same or later, in one
 * statement, so concurrent writers settle by stamp and not by arrival.
 * @returns whether this write won.
 */
export async function writeShareFlag(
  q: Queryable,
  flag: { ownerId: string; recordId: string; shared: boolean; hlc: string },
): Promise<boolean> {
  const rows = await q.query<{ owner_id: string }>(
    `insert into email_share_flags as f (owner_id, record_id, shared, hlc) values ($1, $2, $3, $4)
     on conflict (owner_id, record_id) do update set shared = excluded.shared, hlc = excluded.hlc, updated_at = now()
       where f.hlc collate "C" < excluded.hlc collate "C"
     returning f.owner_id`,
    [flag.ownerId, flag.recordId, flag.shared, flag.hlc],
  );
  return rows.length > 0;
}
