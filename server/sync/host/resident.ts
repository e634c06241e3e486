/**
 * @module server/sync/host/resident
 * A person's document in this process's memory, as its writer or as a
 * replica.
 *
 * Writer: every update of the Y.Doc is stored before listeners hear of it
 * (doc-recorder.ts); the Y.Doc keeps one random client id for the whole
 * lease; storage is kept near the content (doc-upkeep.ts), by a rebuild
 * under a new epoch when needed. Replica: follows the writer's stored
 * updates (replica-feed.ts).
 */
import * as Y from 'yjs';
import { replaceSyncDoc, type SyncDocState } from '../../../db/queries/sync-docs';
import type { Author, HostedDoc } from '../types';
import type { UpdateOrigin } from './bus';
import type { CapturedChanges } from './changed-keys';
import { applyState, assignWriterId, buildFreshDoc, mergeAll, newEpoch, type LoadedDoc } from './doc-store';
import { DocQueue } from './doc-queue';
import { DocRecorder, type Capture } from './doc-recorder';
import { DocUpkeep } from './doc-upkeep';
import { DOC_HOST_ERRORS, DocHostError } from './errors';
import { belongsTo } from './foreign-update';
import { Gate } from './gate';
import type { DocLease } from './leases';
import { catchUp as catchUpReplica, relay as relayToReplica, type DocUpdateMessage, type ReplicaTarget } from './replica-feed';
import { RESIDENT_MODES, type ResidentDeps, type ResidentMode } from './resident-deps';
import { fencedOut, WriteLog } from './write-log';

export { RESIDENT_MODES, type ResidentDeps, type ResidentHooks, type ResidentMode } from './resident-deps';

const SERVER_ORIGIN = Symbol('server-write');
const RELAY_ORIGIN = Symbol('relay');

export class ResidentDoc implements HostedDoc, ReplicaTarget {
  mode: ResidentMode;
  lease: DocLease | null;
  lastUsed = Date.now();
  private current: Y.Doc;
  private currentEpoch: string;
  private readonly log: WriteLog;
  private readonly queue = new DocQueue();
  private readonly gate = new Gate();
  private readonly upkeep: DocUpkeep;
  private readonly recorder: DocRecorder;
  private relayOrigin: UpdateOrigin = 'server';
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
    this.upkeep = new DocUpkeep(this, this.log, deps, loaded);
    this.recorder = new DocRecorder(this, this.log, this.queue, this.upkeep, deps);
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
    return this.log.pending > 0 || this.queue.reviewBusy || this.gate.isClosed;
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
    await this.gate.pass();
    if (this.isReplica() && !(await this.deps.hooks.promote(this))) {
      throw new DocHostError(DOC_HOST_ERRORS.notHolder, 'another process holds this document');
    }
    const capture = this.record({ origin: 'server', updates: [], persisted: [], changes: null }, () =>
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
    await this.gate.pass();
    const changes: CapturedChanges = { changed: new Map() };
    if (!belongsTo(this.current, this.currentEpoch, update)) {
      this.assertWriter();
      this.deps.log.info({ userId: this.userId, connectionId: author.connectionId }, 'sync update of another epoch left out (its client resets)');
      return { changes, persisted: Promise.resolve([]) };
    }
    const capture = this.record({ origin: author, updates: [], persisted: [], changes }, () => Y.applyUpdate(this.current, update, author));
    return { changes, persisted: Promise.all(capture.persisted) };
  }

  /** Runs a policy review after the previous ones, so compensations land in order. */
  review(fn: () => Promise<void>): Promise<void> {
    return this.queue.review(fn);
  }

  /**
   * Replaces the document by a fresh build from canonical state under a new
   * epoch; listeners (sockets here, replicas elsewhere through the bus) are
   * told to reset.
   */
  async rebuild(): Promise<void> {
    await this.gate.pass();
    this.assertWriter();
    // Decisions under way commit first, so the build reads them (their compensations still pass the open gate).
    await this.queue.reviewed();
    await this.gate.hold(async () => {
      // Edits wait at the gate; what was applied before is stored first.
      await this.queue.drained();
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
      this.recorder.publish({ kind: 'reset', userId: this.userId, epoch, seq });
    });
  }

  /** Turns a replica into the writer with the state just read under `lease`. */
  becomeWriter(lease: DocLease, loaded: LoadedDoc): void {
    if (loaded.doc !== this.current) {
      this.replaceWith(loaded);
    }
    this.currentEpoch = loaded.epoch;
    this.log.moveTo(loaded);
    this.upkeep.reset(loaded);
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
    this.upkeep.stop();
    this.detach(this.current);
    this.deps.hooks.dropped(this, reason);
  }

  /** Settles once everything queued (appends, relays, reviews) is done. */
  async idle(): Promise<void> {
    await this.queue.drained();
    await this.queue.reviewed();
  }

  /** Runs `fn` in this document's queue: no append or relay interleaves with it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.exclusive(fn);
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
    this.upkeep.reset(loaded);
    if (this.isWriter() && !loaded.built) {
      assignWriterId(this.current);
    }
    this.attach(this.current);
    this.deps.hooks.notifyReset(this.userId, loaded.epoch);
  }

  private record(capture: Capture, fn: () => void): Capture {
    this.touch();
    return this.recorder.run(capture, fn);
  }

  private readonly onUpdate = (update: Uint8Array): void => {
    if (this.isReplica()) {
      this.deps.hooks.notify(this.userId, update, this.relayOrigin);
    } else if (this.isWriter()) {
      this.recorder.record(update);
    }
  };

  private readonly onTransaction = (tr: Y.Transaction): void => this.recorder.collect(tr);

  assertWriter(): DocLease {
    if (!this.isWriter() || !this.lease) {
      throw new DocHostError(this.isReplica() ? DOC_HOST_ERRORS.notHolder : DOC_HOST_ERRORS.leaseLost, 'this process does not write this document');
    }
    return this.lease;
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
