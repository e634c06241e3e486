/**
 * @module server/ingest/read-ahead
 * A queue between a producer that runs ahead (IMAP fetches) and a consumer
 * that may fall behind (database writes), bounded by bytes rather than by
 * batches: a batch of 100 messages is 200 KB of mailing list or 100 MB of
 * attachments. The consumer takes every waiting batch at once, up to a
 * limit, so when it is the slower side its fixed cost per take (round trips,
 * commit) is shared by more messages.
 */

export interface Sized {
  bytes: number;
}

export class ReadAhead<T extends Sized> {
  private readonly waiting: T[] = [];
  /** Bytes fetched and not yet released by the consumer (waiting or being stored). */
  private held = 0;
  private finished = false;
  private failure: { error: unknown } | null = null;
  private wakers: (() => void)[] = [];

  /** @param maxBytes the producer waits while this much is held; one batch is always let through. */
  constructor(private readonly maxBytes: number) {}

  private signal(): void {
    const wakers = this.wakers;
    this.wakers = [];
    wakers.forEach((wake) => wake());
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => {
      this.wakers.push(resolve);
    });
  }

  /** Producer: waits for room. @returns false once the queue is closed (stop producing). */
  async room(): Promise<boolean> {
    while (!this.finished && this.held > 0 && this.held >= this.maxBytes) {
      await this.changed();
    }
    return !this.finished;
  }

  /** Producer: adds a batch. */
  push(item: T): void {
    this.waiting.push(item);
    this.held += item.bytes;
    this.signal();
  }

  /** Producer: nothing more will come; `error` fails the consumer's next take. */
  end(error?: unknown): void {
    if (error !== undefined) {
      this.failure = { error };
    }
    this.finished = true;
    this.signal();
  }

  /**
   * Consumer: everything waiting, in order, up to `maxBytes` and `maxItems`
   * (at least one batch); waits when nothing is.
   * @returns null when the producer has ended and nothing is left.
   * @throws the producer's error, once what it delivered before has been taken.
   */
  async take(maxBytes: number, maxItems: number, count: (item: T) => number): Promise<T[] | null> {
    while (this.waiting.length === 0) {
      if (this.failure) {
        throw this.failure.error;
      }
      if (this.finished) {
        return null;
      }
      await this.changed();
    }
    const taken: T[] = [];
    let bytes = 0;
    let items = 0;
    for (const next of this.waiting) {
      if (taken.length > 0 && (bytes + next.bytes > maxBytes || items + count(next) > maxItems)) {
        break;
      }
      taken.push(next);
      bytes += next.bytes;
      items += count(next);
    }
    this.waiting.splice(0, taken.length);
    return taken;
  }

  /** Consumer: frees what a take held, once stored. */
  release(taken: readonly T[]): void {
    this.held -= taken.reduce((sum, t) => sum + t.bytes, 0);
    this.signal();
  }

  /** Consumer: stops the producer at its next `room()` (shutdown, or the consumer failed). */
  close(): void {
    this.finished = true;
    this.signal();
  }
}
