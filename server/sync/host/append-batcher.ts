/**
 * @module server/sync/host/append-batcher
 * Group commit of server updates across documents. A fan-out writes one
 * update into each of hundreds of documents at once; each document still
 * stores its updates one after another (its write queue), but the updates of
 * different documents that wait at the same moment go to Postgres in one
 * multi-row statement. Each caller hears back only once its row committed,
 * so nothing is sent that is not stored.
 */
import { appendSyncDocUpdates, MAX_BATCH_APPENDS, type SyncDocAppend } from '../../../db/queries/sync-docs-batch';
import type { Queryable } from '../../../db/types';

/** Bytes per statement (beyond the first row): a burst of large updates goes in several statements, none holding the connection for long. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** Documents with an update queued, being stored or stored just now from which on a fan-out is under way, not a trickle of single writes. */
export const CROWDED_APPENDS = 16;

/**
 * How far back stored rows still count towards `crowded`: a fan-out is
 * written a few documents per turn of the event loop (projection/write-turns),
 * so at any one moment only a few of its updates wait here.
 */
const RECENT_MS = 250;

interface Waiting extends SyncDocAppend {
  resolve: (seq: number | null) => void;
  reject: (error: unknown) => void;
}

export class AppendBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private inFlight = false;
  private inFlightRows = 0;
  /** Rows stored per statement lately (time, rows), oldest first. */
  private stored: [number, number][] = [];

  constructor(
    private readonly db: Queryable,
    private readonly maxRows = MAX_BATCH_APPENDS,
    private readonly maxBytes = MAX_BATCH_BYTES,
  ) {}

  /** Whether updates wait or are being stored: background work (compaction) should give way. */
  get busy(): boolean {
    return this.inFlight || this.waiting.length > 0;
  }

  /** Whether a fan-out is being stored: even urgent background work waits for it. */
  get crowded(): boolean {
    return this.inFlightRows + this.waiting.length + this.recentRows() >= CROWDED_APPENDS;
  }

  private recentRows(): number {
    const since = performance.now() - RECENT_MS;
    while (this.stored.length > 0 && (this.stored[0] as [number, number])[0] < since) {
      this.stored.shift();
    }
    return this.stored.reduce((n, [, rows]) => n + rows, 0);
  }

  /** @returns the update's seq, or null when `writer` no longer holds the document. */
  append(append: SyncDocAppend): Promise<number | null> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ ...append, resolve, reject });
      this.schedule();
    });
  }

  /**
   * One statement in flight at a time: appends arriving meanwhile gather for
   * the next one. The first flush waits for the current turn of the event
   * loop to end, so a burst of writes lands in one statement.
   */
  private schedule(): void {
    if (this.scheduled || this.inFlight || this.waiting.length === 0) {
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.take();
    this.inFlight = true;
    this.inFlightRows = batch.length;
    try {
      const seqs = await appendSyncDocUpdates(this.db, batch);
      this.stored.push([performance.now(), batch.length]);
      // Counting drops the rows that aged out, so the list stays short even when nobody asks.
      this.recentRows();
      batch.forEach((w) => w.resolve(seqs.get(w.userId) ?? null));
    } catch (error) {
      batch.forEach((w) => w.reject(error));
    } finally {
      this.inFlight = false;
      this.inFlightRows = 0;
      this.schedule();
    }
  }

  /** The next batch: the oldest waiting update of each document (a second one takes the next seq, so it waits), within the size limits. */
  private take(): Waiting[] {
    const batch: Waiting[] = [];
    const rest: Waiting[] = [];
    const users = new Set<string>();
    let bytes = 0;
    for (const w of this.waiting) {
      const fits = batch.length === 0 || (batch.length < this.maxRows && bytes + w.update.length <= this.maxBytes);
      const next = fits && !users.has(w.userId);
      // Seen either way: a document's later update never overtakes one that waits.
      users.add(w.userId);
      if (next) {
        bytes += w.update.length;
        batch.push(w);
      } else {
        rest.push(w);
      }
    }
    this.waiting = rest;
    return batch;
  }
}
