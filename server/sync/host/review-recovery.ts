/**
 * @module server/sync/host/review-recovery
 * Never an undecided update. A client's update is stored together with what
 * it changed (`sync_doc_reviews`), so the edit policy can decide it even if
 * this process dies first or the decision's transaction fails: the row goes
 * only once the decision committed. The writer of a document reviews what
 * is left when it takes the lease (before it refreshes the document from
 * Postgres) and, after a failed review here, on the maintenance sweep. A
 * review that runs twice (a crash between the commit and the row's delete)
 * changes nothing: the write log (`sync_writes`) knows every decided write.
 */
import type { Logger } from 'pino';
import { deleteSyncDocReviews, listSyncDocReviews } from '../../../db/queries/sync-reviews';
import type { Db } from '../../../db/types';
import type { Author } from '../types';
import type { CapturedChanges } from './changed-keys';
import type { ResidentDoc } from './resident';
import { decodeChanges, recoveredAuthor } from './review-journal';

export interface ReviewingHost {
  readonly db: Db;
  readonly log: Logger;
  /** Runs the edit policy on changes applied to `writer` (in its review queue). */
  decide(writer: ResidentDoc, author: Author, changes: CapturedChanges): Promise<void>;
}

const running = new WeakMap<ResidentDoc, Promise<number>>();

/**
 * Decides a client's update stored under `seqs`, then forgets its stored
 * changes. A failure leaves them stored and marks the document for a retry.
 */
export async function reviewStored(host: ReviewingHost, writer: ResidentDoc, author: Author, changes: CapturedChanges, seqs: readonly number[]): Promise<void> {
  const live = () => seqs.forEach((seq) => writer.liveReviews.delete(seq));
  seqs.forEach((seq) => writer.liveReviews.add(seq));
  try {
    await host.decide(writer, author, changes);
  } catch (error) {
    live();
    writer.needsReview = true;
    throw error;
  }
  // Decided and compensated. Forgetting the stored changes is bookkeeping with a commit of its own, so it waits in
  // the review queue instead of holding up the socket's next update; the seqs stay live until it lands, so a recovery
  // meanwhile does not review them again. A failure only means one more review later, which changes nothing.
  void writer.review(() =>
    deleteSyncDocReviews(host.db, writer.userId, seqs)
      .catch((error: unknown) => host.log.warn({ err: error, userId: writer.userId }, 'sync review bookkeeping failed; the update will be reviewed again'))
      .finally(live),
  );
}

async function recover(host: ReviewingHost, writer: ResidentDoc): Promise<number> {
  writer.needsReview = false;
  const rows = (await listSyncDocReviews(host.db, writer.userId)).filter((row) => !writer.liveReviews.has(row.seq));
  let reviewed = 0;
  for (const row of rows) {
    if (!writer.isWriter()) {
      // The lease moved on: the next holder reviews the rest.
      break;
    }
    await reviewStored(host, writer, recoveredAuthor(row), decodeChanges(row.changes), [row.seq]);
    reviewed += 1;
  }
  if (reviewed > 0) {
    host.log.info({ userId: writer.userId, reviewed }, 'sync updates stored before a crash or a failed review were reviewed');
  }
  return reviewed;
}

/**
 * Reviews every stored update of the document that is still undecided (one
 * run at a time per document). @returns how many were reviewed.
 * @throws when one could not be decided (the rest stay for the next try).
 */
export function recoverReviews(host: ReviewingHost, writer: ResidentDoc): Promise<number> {
  const current = running.get(writer);
  if (current) {
    return current;
  }
  const run = recover(host, writer).catch((error: unknown) => {
    writer.needsReview = true;
    throw error;
  });
  const settled = run.finally(() => running.delete(writer));
  running.set(writer, settled);
  return settled;
}
