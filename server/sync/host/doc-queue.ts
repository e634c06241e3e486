/**
 * @module server/sync/host/doc-queue
 * The order of a document's work: appends, relays and folds run one at a
 * time in one queue, so Postgres receives updates in the order they were
 * applied; policy reviews run one after another in another, so
 * compensations land in order.
 */
const noop = () => {};

export class DocQueue {
  private chain: Promise<void> = Promise.resolve();
  private reviews: Promise<void> = Promise.resolve();
  private reviewing = 0;

  /** Whether a review is queued or running. */
  get reviewBusy(): boolean {
    return this.reviewing > 0;
  }

  /** Runs `fn` after everything queued so far; nothing else in the queue interleaves with it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.then(noop, noop);
    return next;
  }

  review(fn: () => Promise<void>): Promise<void> {
    this.reviewing += 1;
    const next = this.reviews.then(fn).finally(() => (this.reviewing -= 1));
    this.reviews = next.catch(noop);
    return next;
  }

  /** Settles once what is queued now (not what comes later) has run. */
  drained(): Promise<void> {
    return this.chain;
  }

  /** Settles once the reviews queued now have run. */
  reviewed(): Promise<void> {
    return this.reviews;
  }
}
