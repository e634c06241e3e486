/**
 * @module server/sync/projection/change-feed
 * Turns domain changes into refreshes of the documents this process hosts.
 * Changes arrive from the bus (every process gets every change; each writes
 * only the documents it holds the lease of). A burst is folded into one
 * scope per person, so ten records imported at once re-read a document
 * once, and bursts run one after another, so a later change is never
 * overtaken by an earlier one's slower refresh.
 */
import type { Logger } from 'pino';
import { findViewers } from '../../../db/queries/projection';
import { listThreadsStartedBefore } from '../../../db/queries/projection-audience';
import type { Queryable } from '../../../db/types';
import type { Stamped } from '../../../sync/doc/schema';
import type { HostedDoc } from '../types';
import { planChange, type HostedPerson, type ScopePlan } from './audience';
import type { ChangeBus, DomainChange } from './changes';
import { FULL_SCOPE, type RefreshScope } from './scope';
import type { Projection } from './writer';

/** The documents this process writes now (the host's leases). */
export interface HostedDocs {
  hostedUserIds(): Iterable<string>;
  /** The hosted document, or undefined when this process does not hold it (any more). */
  hosted(userId: string): HostedDoc | undefined;
  /** Runs work ahead of the host's background work; absent, it just runs. */
  inForeground?<T>(work: () => Promise<T>): Promise<T>;
}

export interface ChangeFeedOptions {
  db: Queryable;
  projection: Projection;
  docs: HostedDocs;
  bus: ChangeBus;
  log: Logger;
  /** Refreshes running at once (Postgres has a pool; PGlite serialises anyway). */
  concurrency?: number;
  /**
   * Every this often, every hosted document is re-read whole: threads leave
   * the activity window with time alone, and a change lost on the bus
   * (pub/sub is at-most-once) must not leave a document stale for long.
   * 0 turns it off.
   */
  sweepMs?: number;
  /** Tells when the bus connection came back (changes published meanwhile were lost): everything is re-read. */
  onReconnect?: (handler: () => void) => () => void;
}

export const SWEEP_MS = 3_600_000;
/** After a failed burst, everything is re-read this much later. */
const RETRY_MS = 5_000;

export interface FeedStats {
  changes: number;
  refreshes: number;
  /** Refreshes that wrote something, and how much. */
  writes: number;
  bytes: number;
  failures: number;
}

type CarriedChange = Extract<DomainChange, { kind: 'thread-fields' }> & { values: Record<string, Stamped<unknown>> };

const carriesValues = (change: DomainChange): change is CarriedChange => change.kind === 'thread-fields' && change.values !== undefined;

/** A scope that only re-reads fields of held threads (a committed edit). */
function isFieldsOnly(scope: RefreshScope): boolean {
  return !scope.all && !scope.maps?.length && !scope.threadIds?.length && !scope.recordIds?.length && (scope.fieldThreadIds?.length ?? 0) > 0;
}

async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class ChangeFeed {
  readonly stats: FeedStats = { changes: 0, refreshes: 0, writes: 0, bytes: 0, failures: 0 };
  private queue: DomainChange[] = [];
  private sweepPending = false;
  private draining: Promise<void> | null = null;
  private readonly unsubscribe: () => void;
  private readonly stopReconnects: () => void;
  private readonly timers: ReturnType<typeof setTimeout>[] = [];

  constructor(private readonly o: ChangeFeedOptions) {
    this.unsubscribe = o.bus.subscribe((change) => this.accept(change));
    this.stopReconnects = o.onReconnect?.(() => this.requestSweep()) ?? (() => {});
    const sweepMs = o.sweepMs ?? SWEEP_MS;
    if (sweepMs > 0) {
      const timer = setInterval(() => this.requestSweep(), sweepMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** Re-reads every hosted document whole, soon (after a bus reconnect, on the sweep timer, after a failure). */
  requestSweep(): void {
    this.sweepPending = true;
    this.draining ??= this.drain();
  }

  /** Queues a change for this process's documents (the bus calls it; tests may too). */
  accept(change: DomainChange): void {
    this.queue.push(change);
    this.stats.changes += 1;
    this.draining ??= this.drain();
  }

  /** Resolves once every change accepted so far has been written. */
  async idle(): Promise<void> {
    while (this.draining) {
      await this.draining;
    }
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.stopReconnects();
    this.timers.forEach((timer) => clearTimeout(timer));
    await this.idle();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 || this.sweepPending) {
        const sweep = this.sweepPending;
        this.sweepPending = false;
        await this.apply(this.queue.splice(0), sweep);
      }
    } finally {
      this.draining = null;
    }
  }

  /** A burst whose audience could not be resolved is not dropped: everything is re-read a little later. */
  private retryLater(): void {
    const timer = setTimeout(() => this.requestSweep(), RETRY_MS);
    timer.unref();
    this.timers.push(timer);
  }

  /** Field edits for many people at once: one read, then one small write per document. */
  private async applyFields(entries: readonly (readonly [string, RefreshScope])[]): Promise<void> {
    const threadIds = [...new Set(entries.flatMap(([, scope]) => scope.fieldThreadIds ?? []))];
    const targets = entries.flatMap(([userId]) => {
      const hosted = this.o.docs.hosted(userId);
      return hosted ? [{ userId, hosted }] : [];
    });
    try {
      const written = await this.o.projection.refreshFields(targets, threadIds);
      this.stats.refreshes += targets.length;
      this.stats.writes += written.filter((b) => b > 0).length;
      this.stats.bytes += written.reduce((a, b) => a + b, 0);
    } catch (err) {
      this.stats.failures += 1;
      this.o.log.error({ err, people: targets.length }, 'sync field fan-out failed');
    }
  }

  private async hostedPeople(): Promise<Map<string, HostedPerson>> {
    const viewers = await findViewers(this.o.db, [...this.o.docs.hostedUserIds()]);
    const out = new Map<string, HostedPerson>();
    for (const viewer of viewers) {
      const hosted = this.o.docs.hosted(viewer.id);
      if (hosted) {
        out.set(viewer.id, { viewer, doc: hosted.doc });
      }
    }
    return out;
  }

  /**
   * Committed edits that carry their values go straight into the documents
   * holding their threads: an edit's fan-out waits for no read. Only threads
   * older than the activity window go on to be re-read for their audience
   * (status and assignee decide whether an old thread is in a working set).
   * @returns the changes still to plan.
   */
  private async applyCarried(burst: readonly DomainChange[]): Promise<DomainChange[]> {
    const carried = burst.filter(carriesValues);
    if (carried.length === 0) {
      return [...burst];
    }
    const values = new Map(carried.flatMap((c) => Object.entries(c.values)));
    const targets = [...this.o.docs.hostedUserIds()].flatMap((userId) => this.o.docs.hosted(userId) ?? []);
    // Ahead of folds: a fold holds its document's queue, and the fan-out's update for that document waits behind it.
    const write = () => this.o.projection.writeFieldValues(targets, values);
    const written = (this.o.docs.inForeground ? this.o.docs.inForeground(write) : write()).then((bytes) => {
      this.stats.refreshes += targets.length;
      this.stats.writes += bytes.filter((b) => b > 0).length;
      this.stats.bytes += bytes.reduce((a, b) => a + b, 0);
    });
    const threadIds = [...new Set(carried.flatMap((c) => c.threadIds))];
    const [old] = await Promise.allSettled([listThreadsStartedBefore(this.o.db, threadIds, this.o.projection.windowStart()), written]);
    await written.catch((err: unknown) => {
      this.stats.failures += 1;
      this.o.log.error({ err, people: targets.length }, 'sync field fan-out failed');
    });
    if (old.status === 'rejected') {
      throw old.reason;
    }
    const rest = burst.filter((c) => !carriesValues(c));
    return old.value.length > 0 ? [...rest, { kind: 'thread-fields', threadIds: old.value }] : rest;
  }

  private async apply(burst: readonly DomainChange[], sweep: boolean): Promise<void> {
    const plan: ScopePlan = new Map();
    try {
      const changes = await this.applyCarried(burst);
      if (changes.length === 0 && !sweep) {
        return;
      }
      const hosted = await this.hostedPeople();
      if (hosted.size === 0) {
        return;
      }
      if (sweep) {
        hosted.forEach((_, userId) => plan.set(userId, FULL_SCOPE));
      }
      const ctx = { db: this.o.db, hosted, windowStart: this.o.projection.windowStart() };
      for (const change of changes) {
        await planChange(ctx, plan, change);
      }
    } catch (err) {
      this.stats.failures += 1;
      this.o.log.error({ err, kinds: burst.map((c) => c.kind) }, 'sync fan-out could not resolve its audience; re-reading everything shortly');
      this.retryLater();
      return;
    }
    const fieldsOnly = [...plan].filter(([, scope]) => isFieldsOnly(scope));
    if (fieldsOnly.length > 0) {
      await this.applyFields(fieldsOnly);
    }
    await runLimited([...plan].filter(([, scope]) => !isFieldsOnly(scope)), this.o.concurrency ?? 4, async ([userId, scope]) => {
      const hosted = this.o.docs.hosted(userId);
      if (!hosted) {
        return;
      }
      try {
        const { bytes } = await this.o.projection.refresh(userId, scope, hosted);
        this.stats.refreshes += 1;
        this.stats.writes += bytes > 0 ? 1 : 0;
        this.stats.bytes += bytes;
      } catch (err) {
        this.stats.failures += 1;
        this.o.log.error({ err, userId }, 'sync projection refresh failed');
      }
    });
  }
}
