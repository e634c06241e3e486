/**
 * @module server/sync/host/doc-upkeep
 * Keeps a written document's storage near its content. The tail is folded
 * into a new snapshot when it is due (at once) or has outgrown its share of
 * the snapshot (a little later, paced behind foreground work by the host's
 * BackgroundPacer). Each fold also checks
 * the new snapshot against what a fresh build would encode to: overwrites
 * leave deleted items no fold removes, so once the snapshot passes
 * `rebuildRatio` × that size the document is rebuilt from canonical state
 * under a new epoch (its sockets reset, keeping their unsent edits).
 */
import type { Logger } from 'pino';
import * as Y from 'yjs';
import type { AppendBatcher } from './append-batcher';
import type { BackgroundPacer, PacedTurn } from './background';
import type { LoadedDoc } from './doc-store';
import type { AutoRebuild } from './resident-deps';
import { bloated, freshSize, type RebuildLimits } from './fresh-size';
import type { DocLease } from './leases';
import type { CompactionLimits, WriteLog } from './write-log';

/** The resident as its upkeep sees it. */
export interface UpkeepTarget {
  readonly userId: string;
  readonly doc: Y.Doc;
  readonly lease: DocLease | null;
  isWriter(): boolean;
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  drop(reason: string): void;
  rebuild(): Promise<void>;
}

export interface UpkeepDeps extends CompactionLimits, RebuildLimits {
  log: Logger;
  appender?: AppendBatcher;
  /** Starts the folds, behind foreground work. */
  pacer: BackgroundPacer;
  hooks: { rebuilt?(rebuild: AutoRebuild): void };
}

/**
 * Stored bytes (snapshot + tail) past this multiple of a fresh encoding make
 * the tail overdue: with rebuilds at 1.35× and this, what a document keeps in
 * Postgres stays within about twice its content.
 */
export const MAX_STORED_RATIO = 1.6;

export class DocUpkeep {
  /** Encoded size of a fresh build of the content, as last measured (null: not yet, e.g. loaded from Postgres). */
  private fresh: number | null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private rebuilding = false;
  private stopped = false;

  constructor(
    private readonly target: UpkeepTarget,
    private readonly log: WriteLog,
    private readonly deps: UpkeepDeps,
    loaded: LoadedDoc,
  ) {
    this.fresh = freshOf(loaded);
  }

  /** The document was replaced or taken over with `loaded`. */
  reset(loaded: LoadedDoc): void {
    this.fresh = freshOf(loaded);
  }

  /** A rebuild stored a fresh snapshot of `bytes`. */
  rebuilt(bytes: number): void {
    this.fresh = bytes;
  }

  /** After each queued append: folds a due tail in the document's queue. */
  afterEnqueue(): void {
    void this.target.exclusive(() => this.compactIfDue());
  }

  /** After each stored append: an outgrown tail is folded a little later, an overdue one at once (but after a fan-out). */
  afterStore(): void {
    if (this.stopped || !this.log.outgrown) {
      return;
    }
    if (this.urgent()) {
      this.cancelTimer();
      this.fold();
      return;
    }
    if (!this.timer) {
      this.schedule();
    }
  }

  /** A tail past the snapshot's size, or stored bytes past MAX_STORED_RATIO × the content. */
  private overdue(): boolean {
    return this.log.overdue || (this.fresh !== null && this.log.storedBytes > this.fresh * MAX_STORED_RATIO);
  }

  /**
   * An overdue tail is folded at once, unless a fan-out is being stored:
   * folding hundreds of documents in the middle of one delays every
   * recipient, and each is folded as soon as the fan-out is through.
   */
  private urgent(): boolean {
    return this.overdue() && !this.deps.appender?.crowded;
  }

  private cancelTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer();
    this.deps.pacer.cancel(this.target.userId);
    this.deps.pacer.cancel(this.measureKey);
  }

  /** The pacer's key of the measure after a fold (the fold's own key is the person's id). */
  private get measureKey(): string {
    return `${this.target.userId}:fresh`;
  }

  /** Folds an outgrown tail later; the pacer then lets other documents' queued updates go first, unless the tail is overdue by then. */
  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fold();
    }, this.deps.compactDelayMs * (1 + Math.random()));
    this.timer.unref();
  }

  /**
   * Folds in the document's queue once the pacer starts it; an overdue tail
   * does not wait for storing, unless a fan-out crowds it. Its turn in the
   * queue may come during an edit: then it steps back before encoding.
   */
  private fold(): void {
    const run = (turn: PacedTurn) => (this.stopped ? Promise.resolve() : this.target.exclusive(() => (turn.stepBack() ? Promise.resolve() : this.compactIfDue(true))));
    this.deps.pacer.enqueue(this.target.userId, run, () => this.urgent());
  }

  private async compactIfDue(outgrown = false): Promise<void> {
    const lease = this.target.lease;
    if (!lease || !this.target.isWriter()) {
      return;
    }
    const bytes = await this.log.compactIfDue(lease, () => Y.encodeStateAsUpdate(this.target.doc), (reason) => this.target.drop(reason), this.deps.log, outgrown);
    if (bytes !== null) {
      this.check(bytes);
    }
  }

  /**
   * Right after a fold: a snapshot that looks bloated against the last
   * measure is measured again, soon but never during an edit (it costs about
   * 1.5 encodes). It does not wait for other documents' stores, as a fold
   * need not: a steadily written document should not outgrow its rebuild.
   */
  private check(snapshotBytes: number): void {
    if (this.rebuilding || this.stopped || (this.fresh !== null && !bloated(snapshotBytes, this.fresh, this.deps))) {
      return;
    }
    const run = (turn: PacedTurn) => (this.stopped ? Promise.resolve() : this.target.exclusive(async () => (turn.stepBack() ? undefined : this.measure(snapshotBytes))));
    this.deps.pacer.enqueue(this.measureKey, run, () => true);
  }

  /**
   * Measures the content again (it may have grown since the last measure, or
   * since the fold), in the document's queue; a snapshot still bloated
   * against it sets off a rebuild.
   */
  private measure(snapshotBytes: number): void {
    if (this.rebuilding || this.stopped || !this.target.isWriter()) {
      return;
    }
    this.fresh = freshSize(this.target.doc);
    if (!bloated(snapshotBytes, this.fresh, this.deps)) {
      return;
    }
    this.rebuilding = true;
    const fresh = this.fresh;
    // Not awaited here: a rebuild waits for this queue to drain.
    setTimeout(() => void this.rebuild(snapshotBytes, fresh), 0).unref();
  }

  private async rebuild(snapshotBytes: number, fresh: number): Promise<void> {
    try {
      if (this.target.isWriter() && !this.stopped) {
        await this.target.rebuild();
        const figures: AutoRebuild = { userId: this.target.userId, snapshotBytes, freshBytes: fresh, rebuiltBytes: this.fresh ?? 0 };
        this.deps.log.info(figures, 'sync document rebuilt under a new epoch (stored size outgrew its content)');
        this.deps.hooks.rebuilt?.(figures);
      }
    } catch (error) {
      // The lease moved, or the build failed: the next fold checks again.
      this.deps.log.warn({ err: error, userId: this.target.userId }, 'sync rebuild of an outgrown document failed');
    } finally {
      this.rebuilding = false;
    }
  }
}

function freshOf(loaded: LoadedDoc): number | null {
  return loaded.built && loaded.snapshotBytes !== undefined ? loaded.snapshotBytes : null;
}
