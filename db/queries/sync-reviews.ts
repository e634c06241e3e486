/**
 * @module db/queries/sync-reviews
 * Stored client updates the edit policy has not decided yet (one row per
 * update, written with it by `appendSyncDocUpdate`). `changes` is opaque
 * JSON here: the sync host encodes and decodes it.
 */
import type { Queryable } from '../types';

export interface SyncDocReviewRow {
  seq: number;
  authorId: string;
  sessionId: string;
  changes: unknown;
}

/** What `appendSyncDocUpdate` stores beside a client's update. */
export interface SyncDocReviewInput {
  authorId: string;
  sessionId: string;
  /** JSON text. */
  changes: string;
}

/** A document's undecided updates, oldest first. */
export async function listSyncDocReviews(q: Queryable, userId: string): Promise<SyncDocReviewRow[]> {
  return q.query<SyncDocReviewRow>(
    `select seq, author_id as "authorId", session_id as "sessionId", changes from sync_doc_reviews where user_id = $1 order by seq`,
    [userId],
  );
}

/** Forgets updates once their decision committed. */
export async function deleteSyncDocReviews(q: Queryable, userId: string, seqs: readonly number[]): Promise<void> {
  if (seqs.length === 0) {
    return;
  }
  await q.query('delete from sync_doc_reviews where user_id = $1 and seq = any($2::int8[])', [userId, seqs]);
}
