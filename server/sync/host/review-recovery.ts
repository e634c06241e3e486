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
 * Decides a client's update while it is being stored under the seqs `stored`
 * resolves to, then forgets its stored changes. Deciding need not wait for
 * the store: a decision that commits first is still safe, as a crash or a
 * failed store leaves the update unacknowledged, so its client sends it
 * again and the write log (`sync_writes`) answers the replay with the same
 * decision; and the compensation is stored after the update (one append
 * queue per document), so no one hears of it first. A failed decision
 * leaves the stored changes for a retry and marks the document.
 */
export async function reviewStored(host: ReviewingHost, writer: ResidentDoc, author: Author, changes: CapturedChanges, stored: Promise<readonly number[]>): Promise<void> {
  const marked = stored.then((seqs) => {
    seqs.forEach((seq) => writer.liveReviews.add(seq));
    return seqs;
  });
  const [decided, kept] = await Promise.allSettled([host.decide(writer, author, changes), marked]);
  if (kept.status === 'rejected') {
    if (decided.status === 'rejected') {
      writer.needsReview = true;
    }
    throw kept.reason;
  }
  const seqs = kept.value;
  const live = () => seqs.forEach((seq) => writer.liveReviews.delete(seq));
  if (decided.status === 'rejected') {
    live();
    writer.needsReview = true;
    throw decided.reason;
  }
  // Forgetting the stored changes is bookkeeping with a commit of its own, so it waits in the review queue instead of
  // holding up the socket's next update; the seqs stay live until it lands, so a recovery meanwhile does not review
  // them again. A failure only means one more review later, which changes nothing.
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
    await reviewStored(host, writer, recoveredAuthor(row), decodeChanges(row.changes), Promise.resolve([row.seq]));
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
