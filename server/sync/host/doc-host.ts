/**
 * @module server/sync/host/doc-host
 * The DocHost. Each person's document is written by the one process that
 * holds its lease; the others keep replicas for their sockets. An edit
 * received for a document another process writes is forwarded there and
 * counts once acknowledged (stored); that process's stored updates come back
 * over the bus. A process that loses a lease stops writing that document at
 * once; sockets following it here keep hearing updates through a replica, or
 * through this process as the next writer.
 */
import type { Logger } from 'pino';
import type { Db } from '../../../db/types';
import type { Author, DocHost, EditPolicy, HostedDoc, ResetListener, UpdateListener } from '../types';
import { AppendBatcher } from './append-batcher';
import { BackgroundPacer } from './background';
import type { Bus } from './bus';
import { handleBusMessage } from './bus-handlers';
import { collectChanges } from '../policy/changed-keys';
import type { CapturedChanges, CollectChanges } from './changed-keys';
import { DocHandle } from './doc-handle';
import type { BuildDoc } from './doc-store';
import { DOC_HOST_ERRORS, DocHostError, isRetryable } from './errors';
import type { DocLeases } from './leases';
import { Listeners } from './listeners';
import { startMaintenance } from './maintenance';
import { DOC_HOST_DEFAULTS, type DocHostOptions } from './options';
import { REQUEST_OUTCOMES, Requests, type RequestBody } from './requests';
import { Residency } from './residency';
import { RESIDENT_MODES, type ResidentDoc } from './resident';
import type { AutoRebuild } from './resident-deps';
import { recoverReviews, reviewStored, type ReviewingHost } from './review-recovery';

export interface DocHostDeps {
  db: Db;
  log: Logger;
  bus: Bus;
  leases: DocLeases;
  /** Writes a new or rebuilt document's whole content (the projection's builder). */
  build: BuildDoc;
  /** Brings a stored document up to date when this process takes its lease (changes made while nobody held it). */
  refresh?: BuildDoc;
  policy: EditPolicy;
  /** Hears of each automatic rebuild of an outgrown document (figures for benchmarks and logs). */
  onRebuilt?: (rebuild: AutoRebuild) => void;
  /** Reads what a client's update changed while it is applied; the policy's `collectChanges` by default. */
  collectChanges?: CollectChanges;
  options?: Partial<DocHostOptions>;
}

const RETRY_MS = [50, 100, 200, 400, 800] as const;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
/** Drops that are routine, not worth a warning. */
const QUIET_DROPS = new Set(['evicted', 'host closed']);

export class SyncDocHost implements DocHost {
  readonly processId: string;
  readonly options: DocHostOptions;
  readonly requests: Requests;
  private readonly residency: Residency;
  private readonly handles = new Map<string, DocHandle>();
  private readonly listeners: Listeners;
  private readonly stops: (() => void)[] = [];
  private readonly releases = new Set<Promise<void>>();
  private closed = false;
  private releaseOnClose = true;
  private readonly reviewing: ReviewingHost;
  private readonly pacer: BackgroundPacer;

  constructor(private readonly deps: DocHostDeps) {
    this.processId = deps.bus.processId;
    this.options = { ...DOC_HOST_DEFAULTS, ...deps.options };
    this.requests = new Requests(deps.bus);
    this.listeners = new Listeners(deps.log);
    this.reviewing = { db: deps.db, log: deps.log, decide: (writer, author, changes) => this.decide(writer, author, changes) };
    const appender = new AppendBatcher(deps.db);
    this.pacer = new BackgroundPacer({ concurrency: this.options.foldConcurrency, maxWaitMs: this.options.foldMaxWaitMs, storing: () => appender.busy });
    this.residency = new Residency({
      db: deps.db,
      bus: deps.bus,
      leases: deps.leases,
      build: deps.build,
      refresh: deps.refresh,
      recover: (writer) => this.recoverReviews(writer).then(() => undefined),
      maxResident: this.options.maxResident,
      hasSubscribers: (userId) => this.hasSubscribers(userId),
      warn: (message) => this.warn(message),
      info: (userId, message) => deps.log.info({ userId }, message),
      residentDeps: {
        db: deps.db,
        log: deps.log,
        bus: deps.bus,
        build: deps.build,
        collectChanges: deps.collectChanges ?? collectChanges,
        compactUpdates: this.options.compactUpdates,
        compactBytes: this.options.compactBytes,
        compactTailRatio: this.options.compactTailRatio,
        compactMinBytes: this.options.compactMinBytes,
        compactDelayMs: this.options.compactDelayMs,
        rebuildRatio: this.options.rebuildRatio,
        rebuildMinBytes: this.options.rebuildMinBytes,
        appender,
        pacer: this.pacer,
        hooks: {
          notify: (userId, update, origin) => this.listeners.notify(userId, update, origin),
          notifyReset: (userId, epoch) => this.listeners.notifyReset(userId, epoch),
          dropped: (resident, reason) => this.onDropped(resident, reason),
          promote: (resident) => this.promote(resident),
          rebuilt: (rebuild) => deps.onRebuilt?.(rebuild),
        },
      },
    });
    this.stops.push(deps.bus.subscribe((m) => !this.closed && handleBusMessage(this, m)));
    this.stops.push(deps.bus.onReconnect(() => this.residency.byMode(RESIDENT_MODES.replica).forEach((r) => void r.catchUp().catch(this.warn('sync catch-up failed')))));
    this.stops.push(startMaintenance(this));
  }

  get bus(): Bus {
    return this.deps.bus;
  }

  get leases(): DocLeases {
    return this.deps.leases;
  }

  get db(): Db {
    return this.deps.db;
  }

  get log(): Logger {
    return this.deps.log;
  }

  /** The documents in memory, least recently used first. */
  get residents(): ReadonlyMap<string, ResidentDoc> {
    return this.residency.residents;
  }

  async open(userId: string): Promise<HostedDoc> {
    this.assertOpen();
    await this.residency.ensure(userId);
    let handle = this.handles.get(userId);
    if (!handle) {
      handle = new DocHandle(userId, this);
      this.handles.set(userId, handle);
    }
    return handle;
  }

  findWritable(userId: string): HostedDoc | null {
    const r = this.residents.get(userId);
    return r?.isWriter() ? r : null;
  }

  /** How many documents this process has in memory, by role, and how many people's sockets follow one here (benchmarks, health). */
  stats(): { writers: number; replicas: number; followed: number } {
    return {
      writers: this.residency.byMode(RESIDENT_MODES.writer).length,
      replicas: this.residency.byMode(RESIDENT_MODES.replica).length,
      followed: this.listeners.userIds().length,
    };
  }

  writableUserIds(): string[] {
    return this.residency.byMode(RESIDENT_MODES.writer).map((r) => r.userId);
  }

  /** Resolves once the update is in Postgres and, when this process holds the document, reviewed. */
  async receive(userId: string, update: Uint8Array, author: Author): Promise<void> {
    await this.untilDone(async () => {
      const writer = await this.writable(userId);
      if (!writer) {
        return this.forward(userId, { kind: 'client-update', userId, update, author }, this.options.ackTimeoutMs);
      }
      // Folds wait while the edit is applied and reviewed: its author waits for the answer.
      await this.inForeground(async () => {
        const applied = await writer.apply(update, author);
        await this.review(writer, author, applied.changes, applied.persisted);
      });
      return true;
    });
  }

  inForeground<T>(work: () => Promise<T>): Promise<T> {
    return this.pacer.inForeground(work);
  }

  async rebuild(userId: string): Promise<void> {
    await this.untilDone(async () => {
      const writer = await this.writable(userId);
      if (!writer) {
        return this.forward(userId, { kind: 'rebuild-request', userId }, this.options.forwardDeadlineMs);
      }
      await writer.rebuild();
      return true;
    });
  }

  subscribe(userId: string, listener: UpdateListener, onReset?: ResetListener): () => void {
    const unsubscribe = this.listeners.add(userId, listener, onReset);
    // Relaying another writer's updates needs the document here.
    this.reopen(userId);
    return unsubscribe;
  }

  hasSubscribers(userId: string): boolean {
    return this.listeners.has(userId);
  }

  /** Shuts down; `release: false` keeps the leases until they expire, as a process that died would. */
  async close(options: { release?: boolean } = {}): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.releaseOnClose = options.release ?? true;
    this.stops.forEach((stop) => stop());
    this.pacer.close();
    this.requests.close();
    const all = [...this.residents.values()];
    if (this.releaseOnClose) {
      await Promise.allSettled(all.map((r) => r.idle()));
    }
    all.forEach((r) => r.drop('host closed'));
    await Promise.allSettled([...this.releases]);
    await this.deps.bus.close();
    await this.deps.leases.close();
  }

  /** The writer of a person's document here, taking the lease when it is free; null when another process holds it. */
  async writable(userId: string): Promise<ResidentDoc | null> {
    this.assertOpen();
    const r = await this.residency.ensure(userId);
    return (await this.promote(r)) ? r : null;
  }

  promote(r: ResidentDoc): Promise<boolean> {
    return this.closed ? Promise.resolve(r.isWriter()) : this.residency.promote(r);
  }

  evict(r: ResidentDoc): void {
    this.residency.evict(r);
  }

  /** Loads the documents that sockets here follow but that are not in memory (a reload that failed, a drop). */
  reopenFollowed(): void {
    this.listeners.userIds().forEach((userId) => this.reopen(userId));
  }

  /** Forgets the handles of people with neither a loaded document nor subscribers. */
  forgetHandles(): void {
    for (const userId of [...this.handles.keys()]) {
      if (!this.residents.has(userId) && !this.hasSubscribers(userId)) {
        this.handles.delete(userId);
      }
    }
  }

  /** Lets the policy decide a client's update as it is stored under `stored`'s seqs; kept until decided (review-recovery.ts). */
  review(writer: ResidentDoc, author: Author, changes: CapturedChanges, stored: Promise<readonly number[]>): Promise<void> {
    return reviewStored(this.reviewing, writer, author, changes, stored);
  }

  /** Decides the stored updates of a document that are still undecided (a crash, a failed review). */
  recoverReviews(writer: ResidentDoc): Promise<number> {
    return recoverReviews(this.reviewing, writer);
  }

  private async decide(writer: ResidentDoc, author: Author, changes: CapturedChanges): Promise<void> {
    if (changes.changed.size === 0) {
      return;
    }
    const context = { ...(changes.previous ? { previous: changes.previous } : {}), ...(changes.written ? { written: changes.written } : {}) };
    await writer.review(() => this.deps.policy.review(writer, author, changes.changed, context));
  }

  warn(message: string): (error: unknown) => void {
    return (error) => this.deps.log.warn({ err: error }, message);
  }

  /** Runs `attempt` until it reports done, retrying while the document moves between processes. */
  private async untilDone(attempt: () => Promise<boolean>): Promise<void> {
    this.assertOpen();
    const deadline = Date.now() + this.options.forwardDeadlineMs;
    for (let i = 0; ; i++) {
      try {
        if (await attempt()) {
          return;
        }
      } catch (error) {
        if (!isRetryable(error)) {
          throw error;
        }
      }
      if (this.closed || Date.now() > deadline) {
        throw new DocHostError(DOC_HOST_ERRORS.unavailable, 'no process could take this sync document in time');
      }
      await sleep(RETRY_MS[Math.min(i, RETRY_MS.length - 1)] as number);
    }
  }

  /** Sends a request to the document's holder. @returns whether it acknowledged. */
  private async forward(userId: string, body: RequestBody, timeoutMs: number): Promise<boolean> {
    const holder = await this.deps.leases.holder(userId);
    if (holder === null || holder === this.processId) {
      return false;
    }
    return (await this.requests.send(holder, body, timeoutMs)) === REQUEST_OUTCOMES.ok;
  }

  private onDropped(r: ResidentDoc, reason: string): void {
    this.residency.forget(r);
    if (r.lease && (!this.closed || this.releaseOnClose)) {
      const release: Promise<void> = this.deps.leases
        .release(r.lease)
        .catch(() => {})
        .finally(() => this.releases.delete(release));
      this.releases.add(release);
    }
    if (!QUIET_DROPS.has(reason)) {
      this.deps.log.warn({ userId: r.userId, reason }, 'sync document dropped');
    }
    // Its sockets keep hearing updates: through a replica, or as the writer again once the lease is free.
    this.reopen(r.userId);
  }

  private reopen(userId: string): void {
    if (!this.closed && this.hasSubscribers(userId) && !this.residents.has(userId) && !this.residency.isLoading(userId)) {
      this.residency.ensure(userId).catch(this.warn('sync document could not be opened for its subscribers'));
    }
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new DocHostError(DOC_HOST_ERRORS.closed, 'the document host is closed');
    }
  }
}
