/**
 * @module sync/client/clock
 * The device's hybrid logical clock. Every local write is stamped by it, and
 * it receives every stamp the document brings in, so a local stamp is always
 * later than anything this device has seen: an edit made after reading a
 * teammate's value wins over that value in Postgres.
 */
import { formatStamp, Hlc, tryParseStamp, type Stamp } from '../hlc';

/** Length of a generated device node id (well under the 32-character limit of sync/hlc). */
export const NODE_ID_LENGTH = 16;

const NODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * A random node id for this device, `[A-Za-z0-9_-]{16}` (96 bits).
 * @param randomBytes fills a buffer with random bytes; Web Crypto by default, read at call time so importing never needs it.
 */
export function createNodeId(randomBytes: (into: Uint8Array) => Uint8Array = (into) => globalThis.crypto.getRandomValues(into)): string {
  const bytes = randomBytes(new Uint8Array(NODE_ID_LENGTH));
  // 64 symbols: each byte's low six bits pick one, without bias.
  return Array.from(bytes, (b) => NODE_ALPHABET[b & 63]).join('');
}

export interface LocalClockOptions {
  /** The device's persisted node id. */
  node: string;
  /** Wall clock in ms; injected so tests are deterministic. */
  now?: () => number;
  /** The latest stamp seen before a restart, if the caller kept one. */
  last?: Stamp;
}

/**
 * The clock local writes are stamped with.
 * @throws HlcError for a node id that is not `[A-Za-z0-9_-]{1,32}`.
 */
export function createLocalClock(options: LocalClockOptions): Hlc {
  return new Hlc({ node: options.node, now: options.now ?? (() => Date.now()), last: options.last });
}

/** A fresh stamp for a local write, in its sortable string form. */
export function stampNow(clock: Hlc): string {
  return formatStamp(clock.tick());
}

/**
 * Moves the clock past a stamp seen in the document. Malformed stamps are
 * ignored (the server refuses and replaces them); a stamp too far ahead is
 * clamped by the clock itself, so one bad value cannot drag it into the future.
 * @returns whether the stamp was well-formed.
 */
export function receiveStamp(clock: Hlc, text: unknown): boolean {
  const stamp = tryParseStamp(text);
  if (stamp === null) {
    return false;
  }
  clock.receive(stamp);
  return true;
}

/** The stamp an editable value carries (`{v, hlc}` or a conversion request), or null. */
export function stampOf(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const hlc = (value as { hlc?: unknown }).hlc;
  return typeof hlc === 'string' ? hlc : null;
}

/** The node that issued a stamp, or null when the stamp is malformed. */
export function nodeOf(hlc: string): string | null {
  return tryParseStamp(hlc)?.node ?? null;
}
