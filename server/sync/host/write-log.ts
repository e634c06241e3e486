/**
 * @module server/sync/host/write-log
 * Where a writer stands in Postgres: the last stored seq, the tail's size
 * (compaction thresholds) and how many applied updates still wait to be
 * stored. Every write names the lease's fencing token; a null answer means
 * another writer claimed the document.
 */
import type { Logger } from 'pino';
import { appendSyncDocUpdate, compactSyncDoc } from '../../../db/queries/sync-docs';
import type { SyncDocReviewInput } from '../../../db/queries/sync-reviews';
import type { Db } from '../../../db/types';
import type { AppendBatcher } from './append-batcher';
import { DOC_HOST_ERRORS, DocHostError } from './errors';
import type { DocLease } from './leases';

/** Called when this process must stop writing the document, before the error is thrown. */
export type OnLost = (reason: string) => void;

export const fencedOut = () => new DocHostError(DOC_HOST_ERRORS.leaseLost, 'the document passed to another writer');

export interface LogPosition {
  seq: number;
  tail: { count: number; bytes: number };
  snapshotBytes?: number;
}

export interface CompactionLimits {
  compactUpdates: number;
  compactBytes: number;
  compactTailRatio: number;
  compactMinBytes: number;
  /** How long an outgrown tail waits before it is folded (plus as much jitter at most). */
  compactDelayMs: number;
  appender?: AppendBatcher;
}

export class WriteLog {
  /** Updates applied to the Y.Doc and not yet stored (or failed). */
  pending = 0;
  lastSeq: number;
  private tail: { count: number; bytes: number };
  private snapshotBytes: number;

  constructor(
    private readonly db: Db,
    private readonly userId: string,
    private readonly limits: CompactionLimits,
    at: LogPosition,
  ) {
    this.lastSeq = at.seq;
    this.tail = { ...at.tail };
    this.snapshotBytes = at.snapshotBytes ?? 0;
  }

  moveTo(at: LogPosition): void {
    this.lastSeq = at.seq;
    this.tail = { ...at.tail };
    this.snapshotBytes = at.snapshotBytes ?? 0;
  }

  /**
   * Stores an update as the next seq under `lease` (a client's with what the
   * edit policy must still decide).
   * @returns the seq.
   * @throws {DocHostError} when the lease ran out, the write failed (later
   *   updates may build on this one, so none may be stored now: the document
   *   must be reloaded from Postgres) or another writer claimed the document;
   *   `lost` is called first.
   */
  async store(lease: DocLease, update: Uint8Array, lost: OnLost, review?: SyncDocReviewInput): Promise<number> {
    if (Date.now() > lease.validUntil) {
      lost('lease expired before it was renewed');
      throw new DocHostError(DOC_HOST_ERRORS.leaseLost, 'the lease expired');
    }
    let seq: number | null;
    try {
      // A server write joins other documents' in one statement; a client's goes alone, with what it changed.
      const appender = this.limits.appender;
      seq =
        appender && !review
          ? await appender.append({ userId: this.userId, writer: lease.token, update })
          : await appendSyncDocUpdate(this.db, this.userId, lease.token, update, review);
    } catch (error) {
      lost('an update could not be stored');
      throw new DocHostError(DOC_HOST_ERRORS.persistFailed, 'the update could not be stored', { cause: error });
    }
    if (seq === null) {
      lost('fenced out by another writer');
      throw fencedOut();
    }
    this.lastSeq = seq;
    this.tail.count += 1;
    this.tail.bytes += update.length;
    return seq;
  }

  /**
   * Whether the tail should be folded now: past a threshold, and nothing
   * waiting, so the Y.Doc holds exactly what Postgres holds up to `lastSeq`
   * and a snapshot can never contain an update that was not stored.
   */
  get compactionDue(): boolean {
    return this.pending === 0 && (this.tail.count > this.limits.compactUpdates || this.tail.bytes > this.limits.compactBytes);
  }

  /**
   * Whether the tail outgrew its share of the snapshot. Not urgent: the
   * resident folds it a little later, so a fan-out burst that grows hundreds
   * of tails at once is not followed at once by hundreds of snapshots.
   */
  get outgrown(): boolean {
    return this.tail.bytes > Math.max(this.limits.compactMinBytes, this.snapshotBytes * this.limits.compactTailRatio);
  }

  /** Bytes in Postgres: snapshot and tail. */
  get storedBytes(): number {
    return this.snapshotBytes + this.tail.bytes;
  }

  /**
   * Whether the tail outgrew the snapshot itself: then its fold waits for
   * nobody, or a document written without pause while fan-outs keep the
   * appender busy would store several times its content.
   */
  get overdue(): boolean {
    return this.tail.bytes > Math.max(this.limits.compactMinBytes, this.snapshotBytes);
  }

  /**
   * Replaces the tail up to `lastSeq` by a snapshot when due (or `outgrown`);
   * a failure only leaves the tail as it is.
   * @returns the new snapshot's size, or null when nothing was folded.
   */
  async compactIfDue(lease: DocLease, snapshot: () => Uint8Array, lost: OnLost, log: Logger, outgrown = false): Promise<number | null> {
    if (!this.compactionDue && !(outgrown && this.pending === 0 && this.outgrown)) {
      return null;
    }
    try {
      const bytes = snapshot();
      if (await compactSyncDoc(this.db, { userId: this.userId, writer: lease.token, snapshot: bytes, seq: this.lastSeq })) {
        this.tail = { count: 0, bytes: 0 };
        this.snapshotBytes = bytes.length;
        return bytes.length;
      }
      lost('fenced out by another writer');
    } catch (error) {
      log.warn({ err: error, userId: this.userId }, 'sync compaction failed; the tail stays');
    }
    return null;
  }
}
