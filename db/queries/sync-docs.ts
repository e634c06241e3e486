/**
 * @module db/queries/sync-docs
 * A person's sync document as stored bytes: a snapshot plus a tail of
 * updates numbered by `seq`. Only the writer named in `sync_docs.writer` (a
 * fencing token handed out with the document's lease) may append, compact or
 * replace; a writer that was fenced out gets nothing back and must stop.
 * Knows nothing of Yjs: updates are opaque bytes here.
 */
import type { Db, Queryable } from '../types';
import type { SyncDocReviewInput } from './sync-reviews';

export interface SyncDocUpdateRow {
  seq: number;
  update: Uint8Array;
}

export interface SyncDocState {
  epoch: string;
  snapshotSeq: number;
  /** Null when the caller already has everything up to `snapshotSeq`, or nothing was ever snapshotted. */
  snapshot: Uint8Array | null;
  /** Updates after the snapshot (and after the caller's seq), in order. */
  tail: SyncDocUpdateRow[];
}

export interface SyncDocHead {
  epoch: string;
  seq: number;
}

/** The highest seq of a document: its tail's last row, or the snapshot's seq when the tail is empty. */
export const HEAD_SEQ = `greatest(d.snapshot_seq, coalesce((select max(u.seq) from sync_doc_updates u where u.user_id = d.user_id), 0))`;

/**
 * Makes `writer` the only one allowed to write the document from now on.
 * @returns the document's epoch, or null when it does not exist yet.
 */
export async function claimSyncDoc(q: Queryable, userId: string, writer: string): Promise<string | null> {
  const rows = await q.query<{ epoch: string }>('update sync_docs set writer = $2 where user_id = $1 returning epoch', [userId, writer]);
  return rows[0]?.epoch ?? null;
}

/**
 * Stores a new document with its first snapshot.
 * @returns false when the document already exists (another writer created it first).
 */
export async function insertSyncDoc(q: Queryable, doc: { userId: string; epoch: string; snapshot: Uint8Array; writer: string }): Promise<boolean> {
  const rows = await q.query<{ user_id: string }>(
    `insert into sync_docs (user_id, epoch, snapshot, snapshot_seq, writer) values ($1, $2, $3, 0, $4)
     on conflict (user_id) do nothing returning user_id`,
    [doc.userId, doc.epoch, doc.snapshot, doc.writer],
  );
  return rows.length > 0;
}

/**
 * Reads a document in one statement (one consistent view, even while a
 * compaction commits): the snapshot when it covers more than `afterSeq`,
 * then every tail update after both.
 * @param afterSeq the last seq the caller holds; -1 for everything.
 * @returns null when the document does not exist.
 */
export async function readSyncDoc(q: Queryable, userId: string, afterSeq = -1): Promise<SyncDocState | null> {
  const rows = await q.query<{ part: number; seq: number; data: Uint8Array | null; epoch: string | null }>(
    `select 0 as part, d.snapshot_seq as seq, case when d.snapshot_seq > $2 then d.snapshot end as data, d.epoch
       from sync_docs d where d.user_id = $1
     union all
     select 1, u.seq, u.update, null from sync_doc_updates u where u.user_id = $1 and u.seq > $2
     order by part, seq`,
    [userId, afterSeq],
  );
  const [head, ...tail] = rows;
  if (!head || head.part !== 0 || head.epoch === null) {
    return null;
  }
  return {
    epoch: head.epoch,
    snapshotSeq: head.seq,
    snapshot: head.data,
    tail: tail.filter((r) => r.seq > head.seq && r.data !== null).map((r) => ({ seq: r.seq, update: r.data as Uint8Array })),
  };
}

/**
 * Appends an update as the next seq, in one statement. The row lock on the
 * document orders this against a takeover: an append either commits before
 * the new writer claims (and the new writer reads it) or finds the new token.
 * @param review for a client's update: what the edit policy must still
 *   decide, stored in the same statement (so an update is never stored
 *   without it, whatever crashes next).
 * @returns the update's seq, or null when `writer` no longer holds the document.
 */
export async function appendSyncDocUpdate(q: Queryable, userId: string, writer: string, update: Uint8Array, review?: SyncDocReviewInput): Promise<number | null> {
  const append = `insert into sync_doc_updates (user_id, seq, update)
     select d.user_id, ${HEAD_SEQ} + 1, $3 from sync_docs d
      where d.user_id = $1 and d.writer = $2
      for share of d
     returning user_id, seq`;
  const rows = review
    ? await q.query<{ seq: number }>(
        `with appended as (${append}),
         pending as (insert into sync_doc_reviews (user_id, seq, author_id, session_id, changes)
           select user_id, seq, $4, $5, $6::text::jsonb from appended)
         select seq from appended`,
        [userId, writer, update, review.authorId, review.sessionId, review.changes],
      )
    : await q.query<{ seq: number }>(append, [userId, writer, update]);
  return rows[0]?.seq ?? null;
}

/**
 * Replaces the tail up to `seq` by a snapshot that contains it, in one transaction.
 * @returns false when `writer` no longer holds the document (nothing changed).
 */
export async function compactSyncDoc(db: Db, c: { userId: string; writer: string; snapshot: Uint8Array; seq: number }): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ user_id: string }>(
      `update sync_docs set snapshot = $3, snapshot_seq = $4, updated_at = now()
        where user_id = $1 and writer = $2 and snapshot_seq <= $4 returning user_id`,
      [c.userId, c.writer, c.snapshot, c.seq],
    );
    if (rows.length === 0) {
      return false;
    }
    await tx.query('delete from sync_doc_updates where user_id = $1 and seq <= $2', [c.userId, c.seq]);
    return true;
  });
}

/**
 * Replaces the whole document (a rebuild under a new epoch): the snapshot
 * takes the current head seq, so seqs keep growing across epochs, and the
 * tail is dropped, in one transaction.
 * @returns the snapshot's seq, or null when `writer` no longer holds the document.
 */
export async function replaceSyncDoc(db: Db, r: { userId: string; writer: string; epoch: string; snapshot: Uint8Array }): Promise<number | null> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ snapshot_seq: number }>(
      `update sync_docs d set epoch = $3, snapshot = $4, snapshot_seq = ${HEAD_SEQ}, updated_at = now()
        where d.user_id = $1 and d.writer = $2 returning d.snapshot_seq`,
      [r.userId, r.writer, r.epoch, r.snapshot],
    );
    const seq = rows[0]?.snapshot_seq;
    if (seq === undefined) {
      return null;
    }
    await tx.query('delete from sync_doc_updates where user_id = $1', [r.userId]);
    return seq;
  });
}

/** The epoch and head seq of several documents (missing ones left out), to spot a replica that fell behind. */
export async function findSyncDocHeads(q: Queryable, userIds: readonly string[]): Promise<Map<string, SyncDocHead>> {
  if (userIds.length === 0) {
    return new Map();
  }
  const rows = await q.query<{ user_id: string; epoch: string; seq: number }>(
    `select d.user_id, d.epoch, ${HEAD_SEQ} as seq from sync_docs d where d.user_id = any($1::uuid[])`,
    [userIds],
  );
  return new Map(rows.map((r) => [r.user_id, { epoch: r.epoch, seq: r.seq }]));
}

/** How many updates and bytes the tail holds (compaction thresholds after a load). */
export async function measureSyncDocTail(q: Queryable, userId: string): Promise<{ count: number; bytes: number }> {
  const rows = await q.query<{ count: number; bytes: number }>(
    'select count(*)::int8 as count, coalesce(sum(length(update)), 0)::int8 as bytes from sync_doc_updates where user_id = $1',
    [userId],
  );
  return { count: rows[0]?.count ?? 0, bytes: rows[0]?.bytes ?? 0 };
}
