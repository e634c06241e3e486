/**
 * @module server/sync/host/doc-recorder
 * The writer's half of a resident document: every update of its Y.Doc (a
 * client's, a server write, even a stray direct write) is appended to
 * Postgres in the order it was applied, before listeners or other processes
 * hear of it. A client's update is stored with what it changed, for its
 * review.
 */
import type * as Y from 'yjs';
import type { SyncDocReviewInput } from '../../../db/queries/sync-reviews';
import type { BusMessage, UpdateOrigin } from './bus';
import { mergeChanges, type CapturedChanges } from './changed-keys';
import type { DocQueue } from './doc-queue';
import type { DocUpkeep } from './doc-upkeep';
import type { DocLease } from './leases';
import type { ResidentDeps } from './resident-deps';
import { encodeChanges } from './review-journal';
import type { WriteLog } from './write-log';

/** The updates one call produced, so it can wait for exactly their persistence. */
export interface Capture {
  origin: UpdateOrigin;
  updates: Uint8Array[];
  /** Each update's seq once stored. */
  persisted: Promise<number>[];
  changes: CapturedChanges | null;
}

/** The resident as its recorder sees it. */
export interface RecordedDoc {
  readonly userId: string;
  readonly epoch: string;
  isWriter(): boolean;
  /** @throws DocHostError when this process does not write the document. */
  assertWriter(): DocLease;
  drop(reason: string): void;
}

const noop = () => {};

export class DocRecorder {
  private capture: Capture | null = null;

  constructor(
    private readonly target: RecordedDoc,
    private readonly log: WriteLog,
    private readonly queue: DocQueue,
    private readonly upkeep: DocUpkeep,
    private readonly deps: ResidentDeps,
  ) {}

  /** Runs `fn` (which changes the Y.Doc) and collects the updates it produced and their persistence. */
  run(capture: Capture, fn: () => void): Capture {
    this.target.assertWriter();
    this.capture = capture;
    try {
      fn();
    } finally {
      this.capture = null;
    }
    return capture;
  }

  /** The Y.Doc's `update` event, as the writer. */
  record(update: Uint8Array): void {
    const capture = this.capture;
    if (!capture) {
      // Someone wrote the Y.Doc directly: still stored before anyone hears of it.
      this.deps.log.warn({ userId: this.target.userId }, 'sync document written outside DocHost; stored as a server write');
    }
    const origin = capture?.origin ?? 'server';
    // A client's update is stored with what it changed (captured just before, in afterTransaction) until it is decided.
    const review = origin !== 'server' && capture?.changes ? { authorId: origin.userId, sessionId: origin.sessionId, changes: encodeChanges(capture.changes) } : undefined;
    const persisted = this.enqueue(update, origin, review);
    if (capture) {
      capture.updates.push(update);
      capture.persisted.push(persisted);
    } else {
      persisted.catch(noop);
    }
  }

  /** The Y.Doc's `afterTransaction` event: what a client's update changed. */
  collect(tr: Y.Transaction): void {
    const changes = this.capture?.changes;
    if (changes) {
      mergeChanges(changes, this.deps.collectChanges(tr));
    }
  }

  publish(message: BusMessage): void {
    this.deps.bus.publish(message).catch((error: unknown) => this.deps.log.warn({ err: error, userId: this.target.userId }, 'sync bus publish failed'));
  }

  /** Stores in apply order, then tells listeners and the other processes. */
  private enqueue(update: Uint8Array, origin: UpdateOrigin, review: SyncDocReviewInput | undefined): Promise<number> {
    this.log.pending += 1;
    const persisted = this.queue.exclusive(async () => {
      try {
        return await this.append(update, origin, review);
      } finally {
        this.log.pending -= 1;
      }
    });
    this.upkeep.afterEnqueue();
    return persisted;
  }

  private async append(update: Uint8Array, origin: UpdateOrigin, review: SyncDocReviewInput | undefined): Promise<number> {
    const seq = await this.log.store(this.target.assertWriter(), update, (reason) => this.target.drop(reason), review);
    this.deps.hooks.notify(this.target.userId, update, origin);
    this.publish({ kind: 'doc-update', userId: this.target.userId, epoch: this.target.epoch, seq, update, origin });
    this.upkeep.afterStore();
    return seq;
  }
}
