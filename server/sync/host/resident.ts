/**
 * @module server/sync/host/resident
 * A person's document in this process's memory, as its writer or as a
 * replica.
 *
 * Writer: every update of the Y.Doc (a client's, a server write, even a stray
 * direct write) is appended to Postgres, in the order it was applied, before
 * listeners hear of it; the Y.Doc keeps one random client id for the whole
 * lease. Replica: follows the writer's stored updates (replica-feed.ts).
 */
import * as Y from 'yjs';
import { replaceSyncDoc, type SyncDocState } from '../../../db/queries/sync-docs';
import type { SyncDocReviewInput } from '../../../db/queries/sync-reviews';
import type { Author, HostedDoc } from '../types';
import type { BusMessage, UpdateOrigin } from './bus';
import { mergeChanges, type CapturedChanges } from './changed-keys';
import { applyState, assignWriterId, buildFreshDoc, mergeAll, newEpoch, type LoadedDoc } from './doc-store';
import { DOC_HOST_ERRORS, DocHostError } from './errors';
import type { DocLease } from './leases';
import { catchUp as catchUpReplica, relay as relayToReplica, type DocUpdateMessage, type ReplicaTarget } from './replica-feed';
import { RESIDENT_MODES, type ResidentDeps, type ResidentMode } from './resident-deps';
import { encodeChanges } from './review-journal';
import { fencedOut, WriteLog } from './write-log';

export { RESIDENT_MODES, type ResidentDeps, type ResidentHooks, type ResidentMode } from './resident-deps';

/** The updates one call produced, so it can wait for exactly their persistence. */
interface Capture {
  origin: UpdateOrigin;
  updates: Uint8Array[];
  /** Each update's seq once stored. */
  persisted: Promise<number>[];
  changes: CapturedChanges | null;
}

const SERVER_ORIGIN = Symbol('server-write');
const RELAY_ORIGIN = Symbol('relay');
const noop = () => {};

export class ResidentDoc implements HostedDoc, ReplicaTarget {
  mode: ResidentMode;
  lease: DocLease | null;
  lastUsed = Date.now();
  private current: Y.Doc;
  private currentEpoch: string;
  private readonly log: WriteLog;
  private reviewing = 0;
  private chain: Promise<void> = Promise.resolve();
  private reviews: Promise<void> = Promise.resolve();
  private gate: Promise<void> | null = null;
  private capture: Capture | null = null;
  private relayOrigin: UpdateOrigin = 'server';
  private compactTimer: ReturnType<typeof setTimeout> | null = null;
  /** Seqs of client updates whose review runs now (a recovery leaves them alone). */
  readonly liveReviews = new Set<number>();
  /** A review failed here: its stored updates wait for a retry (maintenance) or the next holder. */
  needsReview = false;

  constructor(
    readonly userId: string,
    loaded: LoadedDoc,
    lease: DocLease | null,
    private readonly deps: ResidentDeps,
  ) {
    this.current = loaded.doc;
    this.currentEpoch = loaded.epoch;
    this.log = new WriteLog(deps.db, userId, deps, loaded);
    this.lease = lease;
    this.mode = lease ? RESIDENT_MODES.writer : RESIDENT_MODES.replica;
    if (lease && !loaded.built) {
      assignWriterId(this.current);
    }
    this.attach(this.current);
  }

  get doc(): Y.Doc {
    return this.current;
  }

  get epoch(): string {
    return this.currentEpoch;
  }

  /** The last seq this document holds (writer: stored; replica: applied). */
  get lastSeq(): number {
    return this.log.lastSeq;
  }

  set lastSeq(seq: number) {
    this.log.lastSeq = seq;
  }

  /** Whether something is still to be stored or decided: such a document is never evicted. */
  get busy(): boolean {
    return this.log.pending > 0 || this.reviewing > 0 || this.gate !== null;
  }

  isWriter(): boolean {
    return this.mode === RESIDENT_MODES.writer;
  }

  isReplica(): boolean {
    return this.mode === RESIDENT_MODES.replica;
  }

  touch(): void {
    this.lastUsed = Date.now();
  }

  async write(fn: (doc: Y.Doc) => void): Promise<Uint8Array | null> {
    await this.passGate();
    if (this.isReplica() && !(await this.deps.hooks.promote(this))) {
      throw new DocHostError(DOC_HOST_ERRORS.notHolder, 'another process holds this document');
    }
    const capture = this.run({ origin: 'server', updates: [], persisted: [], changes: null }, () =>
      this.current.transact(() => fn(this.current), SERVER_ORIGIN),
    );
    await Promise.all(capture.persisted);
    return mergeAll(capture.updates);
  }

  /**
   * Applies a client's update as the writer.
   * @returns what it changed, and a promise of the seqs it was stored under
   *   (with what it changed, for the review), once all of it is in Postgres.
   */
  async apply(update: Uint8Array, author: Author): Promise<{ changes: CapturedChanges; persisted: Promise<number[]> }> {
    await this.passGate();
    const changes: CapturedChanges = { changed: new Map() };
    const capture = this.run({ origin: author, updates: [], persisted: [], changes }, () => Y.applyUpdate(this.current, update, author));
    return { changes, persisted: Promise.all(capture.persisted) };
  }

  /** Runs a policy review after the previous ones, so compensations land in order. */
  review(fn: () => Promise<void>): Promise<void> {
    this.reviewing += 1;
    const next = this.reviews.then(fn).finally(() => (this.reviewing -= 1));
    this.reviews = next.catch(noop);
    return next;
  }

  /** Replaces the document by a fresh build under a new epoch; listeners are told to reset. */
  async rebuild(): Promise<void> {
    await this.passGate();
    this.assertWriter();
    let open = noop;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    try {
      // Edits wait at the gate; what was applied before is stored first.
      await this.chain;
      const lease = this.assertWriter();
      const epoch = newEpoch();
      const doc = await buildFreshDoc(this.userId, epoch, this.deps.build);
      const snapshot = Y.encodeStateAsUpdate(doc);
      const seq = await replaceSyncDoc(this.deps.db, { userId: this.userId, writer: lease.token, epoch, snapshot });
      if (seq === null) {
        this.drop('fenced out by another writer');
        throw fencedOut();
      }
      this.replaceWith({ doc, epoch, seq, tail: { count: 0, bytes: 0 }, snapshotBytes: snapshot.length, built: true });
      this.publish({ kind: 'reset', userId: this.userId, epoch, seq });
    } finally {
      this.gate = null;
      open();
    }
  }

  /** Turns a replica into the writer with the state just read under `lease`. */
  becomeWriter(lease: DocLease, loaded: LoadedDoc): void {
    if (loaded.doc !== this.current) {
      this.replaceWith(loaded);
    }
    this.currentEpoch = loaded.epoch;
    this.log.moveTo(loaded);
    if (!loaded.built) {
      assignWriterId(this.current);
    }
    this.lease = lease;
    this.mode = RESIDENT_MODES.writer;
  }

  /** Stops writing and leaves service at once; whatever is still queued fails. */
  drop(reason: string): void {
    if (this.mode === RESIDENT_MODES.dropped) {
      return;
    }
    this.mode = RESIDENT_MODES.dropped;
    if (this.compactTimer) {
      clearTimeout(this.compactTimer);
    }
    this.detach(this.current);
    this.deps.hooks.dropped(this, reason);
  }

  /** Settles once everything queued (appends, relays, reviews) is done. */
  async idle(): Promise<void> {
    await this.chain;
    await this.reviews;
  }

  /** Runs `fn` in this document's queue: no append or relay interleaves with it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.then(noop, noop);
    return next;
  }

  /** Applies a relayed update in seq order, reading Postgres on a gap or a new epoch. */
  relay(message: DocUpdateMessage): void {
    this.exclusive(() => relayToReplica(this.deps.db, this, message)).catch((error: unknown) => this.deps.log.warn({ err: error, userId: this.userId }, 'sync relay failed'));
  }

  /** Reads what the writer stored since this replica's seq (a lost message, a reconnect, a new epoch). */
  catchUp(): Promise<void> {
    return this.exclusive(() => catchUpReplica(this.deps.db, this));
  }

  applyRelayed(update: Uint8Array, origin: UpdateOrigin): void {
    this.relayOrigin = origin;
    try {
      Y.applyUpdate(this.current, update, RELAY_ORIGIN);
    } finally {
      this.relayOrigin = 'server';
    }
  }

  applyStored(state: SyncDocState): void {
    this.relayOrigin = 'server';
    applyState(this.current, state, RELAY_ORIGIN);
  }

  replaceWith(loaded: LoadedDoc): void {
    this.detach(this.current);
    this.current = loaded.doc;
    this.currentEpoch = loaded.epoch;
    this.log.moveTo(loaded);
    if (this.isWriter() && !loaded.built) {
      assignWriterId(this.current);
    }
    this.attach(this.current);
    this.deps.hooks.notifyReset(this.userId, loaded.epoch);
  }

  private run(capture: Capture, fn: () => void): Capture {
    this.assertWriter();
    this.touch();
    this.capture = capture;
    try {
      fn();
    } finally {
      this.capture = null;
    }
    return capture;
  }

  private readonly onUpdate = (update: Uint8Array): void => {
    if (this.isReplica()) {
      this.deps.hooks.notify(this.userId, update, this.relayOrigin);
      return;
    }
    if (!this.isWriter()) {
      return;
    }
    const capture = this.capture;
    if (!capture) {
      // Someone wrote the Y.Doc directly: still stored before anyone hears of it.
      this.deps.log.warn({ userId: this.userId }, 'sync document written outside DocHost; stored as a server write');
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
  };

  private readonly onTransaction = (tr: Y.Transaction): void => {
    const changes = this.capture?.changes;
    if (changes) {
      mergeChanges(changes, this.deps.collectChanges(tr));
    }
  };

  /** Stores in apply order, then tells listeners and the other processes. */
  private enqueue(update: Uint8Array, origin: UpdateOrigin, review: SyncDocReviewInput | undefined): Promise<number> {
    this.log.pending += 1;
    const persisted = this.exclusive(async () => {
      try {
        return await this.append(update, origin, review);
      } finally {
        this.log.pending -= 1;
      }
    });
    void this.exclusive(() => this.compactIfDue());
    return persisted;
  }

  private async append(update: Uint8Array, origin: UpdateOrigin, review: SyncDocReviewInput | undefined): Promise<number> {
    const seq = await this.log.store(this.assertWriter(), update, (reason) => this.drop(reason), review);
    this.deps.hooks.notify(this.userId, update, origin);
    this.publish({ kind: 'doc-update', userId: this.userId, epoch: this.currentEpoch, seq, update, origin });
    if (this.log.outgrown && !this.compactTimer) {
      this.scheduleCompaction();
    }
    return seq;
  }

  /** Folds an outgrown tail a little later, and only once no other document's updates wait to be stored (they go first). */
  private scheduleCompaction(): void {
    this.compactTimer = setTimeout(() => {
      this.compactTimer = null;
      if (this.deps.appender?.busy && this.isWriter()) {
        this.scheduleCompaction();
        return;
      }
      void this.exclusive(() => this.compactIfDue(true));
    }, this.deps.compactDelayMs * (1 + Math.random()));
    this.compactTimer.unref();
  }

  private async compactIfDue(outgrown = false): Promise<void> {
    if (this.lease && this.isWriter()) {
      await this.log.compactIfDue(this.lease, () => Y.encodeStateAsUpdate(this.current), (reason) => this.drop(reason), this.deps.log, outgrown);
    }
  }

  private publish(message: BusMessage): void {
    this.deps.bus.publish(message).catch((error: unknown) => this.deps.log.warn({ err: error, userId: this.userId }, 'sync bus publish failed'));
  }

  private assertWriter(): DocLease {
    if (!this.isWriter() || !this.lease) {
      throw new DocHostError(this.isReplica() ? DOC_HOST_ERRORS.notHolder : DOC_HOST_ERRORS.leaseLost, 'this process does not write this document');
    }
    return this.lease;
  }

  private async passGate(): Promise<void> {
    while (this.gate) {
      await this.gate;
    }
  }

  private attach(doc: Y.Doc): void {
    doc.on('update', this.onUpdate);
    doc.on('afterTransaction', this.onTransaction);
  }

  private detach(doc: Y.Doc): void {
    doc.off('update', this.onUpdate);
    doc.off('afterTransaction', this.onTransaction);
  }
}
