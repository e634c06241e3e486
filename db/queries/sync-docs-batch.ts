/**
 * @module db/queries/sync-docs-batch
 * Server updates of many documents appended in one statement (a fan-out
 * writes one update into each of hundreds of documents): one round trip
 * and one plan instead of one autocommitted insert per document. Same
 * contract as `appendSyncDocUpdate`, per row: the next seq of its
 * document, only while `writer` still holds it.
 */
import type { Queryable } from '../types';
import { HEAD_SEQ } from './sync-docs';

export interface SyncDocAppend {
  userId: string;
  writer: string;
  update: Uint8Array;
}

/** Rows per statement: 3 parameters each, far under Postgres's 65,535. */
export const MAX_BATCH_APPENDS = 2_000;

/**
 * Appends one update to each of several documents, in one statement.
 * @param appends at most one per document (two would take the same seq).
 * @returns the seq of each stored update by user id; a document missing from
 *   it is no longer held by the append's writer (nothing was stored for it).
 */
export async function appendSyncDocUpdates(q: Queryable, appends: readonly SyncDocAppend[]): Promise<Map<string, number>> {
  if (appends.length === 0) {
    return new Map();
  }
  if (new Set(appends.map((a) => a.userId)).size !== appends.length || appends.length > MAX_BATCH_APPENDS) {
    throw new Error('appendSyncDocUpdates takes at most one update per document, and at most MAX_BATCH_APPENDS');
  }
  // Three array parameters, whatever the row count: the statement's text never changes, so Postgres parses and
  // plans it once per connection instead of once per fan-out (a VALUES list of 600 parameters cost more of the
  // server's CPU than storing the rows). Updates travel as hex: postgres.js types an array of buffers as one
  // bytea, not bytea[].
  const rows = await q.query<{ user_id: string; seq: number }>(
    `insert into sync_doc_updates (user_id, seq, update)
     select d.user_id, ${HEAD_SEQ} + 1, decode(i.update, 'hex')
       from unnest($1::uuid[], $2::text[], $3::text[]) as i (user_id, writer, update)
       join sync_docs d on d.user_id = i.user_id and d.writer = i.writer
       for share of d
     returning user_id, seq`,
    [appends.map((a) => a.userId), appends.map((a) => a.writer), appends.map((a) => Buffer.from(a.update.buffer, a.update.byteOffset, a.update.byteLength).toString('hex'))],
  );
  return new Map(rows.map((r) => [r.user_id, r.seq]));
}
