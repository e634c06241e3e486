/**
 * @module server/sync/host/options
 * Tunables of the document host. Defaults suit production; tests shrink them.
 */
import { LEASE_TIMING, type LeaseTiming } from './leases';

export interface DocHostOptions {
  /** Compact when the tail holds more updates than this… */
  compactUpdates: number;
  /** …or more bytes than this… */
  compactBytes: number;
  /**
   * …or more bytes than this share of the snapshot (and at least
   * `compactMinBytes`), so what is stored stays within (1 + ratio) × the
   * document's encoded size.
   */
  compactTailRatio: number;
  compactMinBytes: number;
  /** An outgrown tail is folded this long after (plus up to as much jitter), off the write path. */
  compactDelayMs: number;
  /** Outgrown tails folded at once at most (the BackgroundPacer's concurrency)… */
  foldConcurrency: number;
  /** …each starting, at the latest, this long after it came due, however busy the host. */
  foldMaxWaitMs: number;
  /**
   * Rebuild a document under a new epoch once a fold's snapshot passes this
   * multiple of a fresh encoding of its content (overwrites leave deleted
   * items nothing else removes): with the tail's share on top, what is
   * stored stays under about (1 + compactTailRatio) × this × fresh.
   */
  rebuildRatio: number;
  /** …and only when the snapshot is this many bytes over the fresh size, so small documents never churn. */
  rebuildMinBytes: number;
  /** Documents kept in memory at most; beyond, the least recently used without subscribers go. */
  maxResident: number;
  /** A document without subscribers unused this long leaves memory. */
  idleMs: number;
  /** How often idle documents are evicted and replicas checked against Postgres. */
  sweepMs: number;
  lease: LeaseTiming;
  /** How long a forwarded edit waits for its holder's acknowledgement before asking again. */
  ackTimeoutMs: number;
  /** How long `receive` keeps trying to reach a holder before it gives up. */
  forwardDeadlineMs: number;
}

export const DOC_HOST_DEFAULTS: DocHostOptions = {
  compactUpdates: 500,
  compactBytes: 1024 * 1024,
  compactTailRatio: 0.25,
  compactMinBytes: 32 * 1024,
  compactDelayMs: 2_000,
  foldConcurrency: 2,
  foldMaxWaitMs: 5_000,
  rebuildRatio: 1.35,
  rebuildMinBytes: 64 * 1024,
  maxResident: 2_000,
  idleMs: 10 * 60_000,
  sweepMs: 5_000,
  lease: LEASE_TIMING,
  ackTimeoutMs: 2_000,
  // Longer than a lease's TTL: a dead holder's documents are taken over within it.
  forwardDeadlineMs: 15_000,
};
