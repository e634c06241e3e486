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

const base64Of = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** The updates of a batch as the statement takes them: dot-prefixed base64, joined by commas (see below). */
export const joinUpdates = (updates: readonly Uint8Array[]): string => updates.map((u) => `.${base64Of(u)}`).join(',');

/** The inverse of {@link joinUpdates} (what a statement was given, for tests and tracing). */
export const splitUpdates = (joined: string): Uint8Array[] => joined.split(',').map((part) => new Uint8Array(Buffer.from(part.slice(1), 'base64')));

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
  // Three parameters, whatever the row count: the statement's text never changes, so Postgres parses and plans it
  // once per connection instead of once per fan-out (a VALUES list of 600 parameters cost more of the server's CPU
  // than storing the rows). The updates travel as one text of base64 joined by commas (not in base64's alphabet):
  // postgres.js sends parameters as text and types an array of buffers as one bytea, and as a text[] of hex the
  // offline batch's fan-out (200 updates of 40 KB) spent about half a second of the event loop in hex encoding,
  // array quoting and length counting. Each starts with a dot, so an empty update is still an element.
  const rows = await q.query<{ user_id: string; seq: number }>(
    `insert into sync_doc_updates (user_id, seq, update)
     select d.user_id, ${HEAD_SEQ} + 1, decode(substr(i.update, 2), 'base64')
       from unnest($1::uuid[], $2::text[], string_to_array($3::text, ',')) as i (user_id, writer, update)
       join sync_docs d on d.user_id = i.user_id and d.writer = i.writer
       for share of d
     returning user_id, seq`,
    [appends.map((a) => a.userId), appends.map((a) => a.writer), joinUpdates(appends.map((a) => a.update))],
  );
  return new Map(rows.map((r) => [r.user_id, r.seq]));
}
