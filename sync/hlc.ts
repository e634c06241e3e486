/**
 * @module sync/hlc
 * Hybrid logical clock (HLC) stamps shared by browser and server: a stamp
 * tracks wall time where clocks agree and falls back to a counter where they
 * don't, so causally later events always sort later. Pure code: the wall clock
 * is injected, nothing here reads ambient time or platform APIs.
 *
 * String form (sorts lexicographically in the same order as {@link compareStamps}):
 *
 *     WWWWWWWWWWWWWWW:CCCC:node
 *     000001732000000:0000:srv-1
 *
 * - `W`: wall milliseconds, base-10, zero-padded to 15 digits (covers year 10000+).
 * - `C`: counter, lowercase hex, zero-padded to 4 digits (0..0xffff).
 * - `node`: writer id, `[A-Za-z0-9_-]{1,32}`; last so its variable width cannot
 *   disturb the ordering of the fixed-width fields.
 */

/** A hybrid logical clock timestamp. Ordered by (wallMs, counter, node). */
export interface Stamp {
  /** Wall-clock component in milliseconds since the Unix epoch. */
  readonly wallMs: number;
  /** Logical counter disambiguating events within the same wallMs. */
  readonly counter: number;
  /** Id of the writer that issued the stamp; the final tie-breaker. */
  readonly node: string;
}

/** Result of clamping a stamp against the local wall clock. */
export interface ClampResult {
  /** The stamp, possibly pulled back to `nowMs + maxDriftMs`. */
  readonly stamp: Stamp;
  /** True when the input was too far ahead and had to be pulled back. */
  readonly clamped: boolean;
}

/** Result of merging a remote stamp into a local clock. */
export interface ReceiveResult {
  /** The new local stamp, strictly greater than the (clamped) remote stamp. */
  readonly stamp: Stamp;
  /** True when the remote stamp exceeded the drift limit and was clamped first. */
  readonly clamped: boolean;
}

/** Construction options for {@link Hlc}. */
export interface HlcOptions {
  /** Id of this writer, `[A-Za-z0-9_-]{1,32}`. */
  readonly node: string;
  /** Wall clock in milliseconds; injected so tests and replays are deterministic. */
  readonly now: () => number;
  /** Tolerated lead of remote stamps over the local wall clock; default {@link MAX_DRIFT_MS}. */
  readonly maxDriftMs?: number;
  /** A previously persisted stamp to resume from, so a restart never reissues old stamps. */
  readonly last?: Stamp;
}

/** Default tolerance for remote stamps ahead of the local wall clock (5 minutes). */
export const MAX_DRIFT_MS = 5 * 60_000;

/** Largest counter value; one more advances wallMs instead of overflowing. */
export const MAX_COUNTER = 0xffff;

/** Largest wallMs representable in the 15-digit string form. */
export const MAX_WALL_MS = 999_999_999_999_999;

/** Stable error codes carried by {@link HlcError}. */
export const HLC_ERROR_CODES = {
  malformed: 'hlc_malformed',
  invalidStamp: 'hlc_invalid_stamp',
  invalidNode: 'hlc_invalid_node',
  invalidOption: 'hlc_invalid_option',
  invalidClock: 'hlc_invalid_clock',
  overflow: 'hlc_overflow',
} as const;

/** One of the {@link HLC_ERROR_CODES} values. */
export type HlcErrorCode = (typeof HLC_ERROR_CODES)[keyof typeof HLC_ERROR_CODES];

/** Error thrown by this module; `code` is stable and safe to branch on. */
export class HlcError extends Error {
  /** Stable machine-readable reason. */
  readonly code: HlcErrorCode;

  /**
   * @param code - Stable machine-readable reason.
   * @param message - Human-readable detail.
   */
  constructor(code: HlcErrorCode, message: string) {
    super(message);
    this.name = 'HlcError';
    this.code = code;
  }
}

const WALL_DIGITS = 15;
const COUNTER_DIGITS = 4;
const NODE_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const STAMP_PATTERN = /^(\d{15}):([0-9a-f]{4}):([A-Za-z0-9_-]{1,32})$/;
// Longest well-formed stamp; checked first so huge inputs never reach the regex or error text.
const MAX_STAMP_LENGTH = WALL_DIGITS + 1 + COUNTER_DIGITS + 1 + 32;

/**
 * Whether `node` is a valid writer id.
 * @param node - Candidate id.
 * @returns True for strings matching `[A-Za-z0-9_-]{1,32}`.
 */
export function isValidNode(node: unknown): node is string {
  return typeof node === 'string' && NODE_PATTERN.test(node);
}

/**
 * Whether `value` is a structurally valid stamp (e.g. from untrusted JSON).
 * @param value - Candidate value.
 * @returns True when wallMs and counter are integers within range and node is valid.
 */
export function isValidStamp(value: unknown): value is Stamp {
  if (typeof value !== 'object' || value === null) {return false;}
  const { wallMs, counter, node } = value as Record<string, unknown>;
  return (
    isIntInRange(wallMs, MAX_WALL_MS) && isIntInRange(counter, MAX_COUNTER) && isValidNode(node)
  );
}

/**
 * Total order on stamps by (wallMs, counter, node); nodes compare by UTF-16
 * code units, matching plain string comparison of {@link formatStamp} output.
 * @param a - First stamp.
 * @param b - Second stamp.
 * @returns -1 if a < b, 0 if equal, 1 if a > b.
 */
export function compareStamps(a: Stamp, b: Stamp): -1 | 0 | 1 {
  if (a.wallMs !== b.wallMs) {return a.wallMs < b.wallMs ? -1 : 1;}
  if (a.counter !== b.counter) {return a.counter < b.counter ? -1 : 1;}
  if (a.node !== b.node) {return a.node < b.node ? -1 : 1;}
  return 0;
}

/**
 * The later of two stamps.
 * @param a - First stamp.
 * @param b - Second stamp.
 * @returns `a` if it is greater than or equal to `b`, otherwise `b`.
 */
export function maxStamp(a: Stamp, b: Stamp): Stamp {
  return compareStamps(a, b) >= 0 ? a : b;
}

/**
 * Serialise a stamp to its sortable string form (`WWWWWWWWWWWWWWW:CCCC:node`).
 * @param stamp - Stamp to format.
 * @returns The fixed-width string; compares like {@link compareStamps} under `<`.
 * @throws {HlcError} `hlc_invalid_stamp` if the stamp is out of range or has a bad node.
 */
export function formatStamp(stamp: Stamp): string {
  assertStamp(stamp);
  const wall = String(stamp.wallMs).padStart(WALL_DIGITS, '0');
  const counter = stamp.counter.toString(16).padStart(COUNTER_DIGITS, '0');
  return `${wall}:${counter}:${stamp.node}`;
}

/**
 * Parse a string produced by {@link formatStamp}; the inverse, exactly.
 * @param text - Candidate stamp string.
 * @returns The parsed stamp.
 * @throws {HlcError} `hlc_malformed` if `text` is not a well-formed stamp string.
 */
export function parseStamp(text: string): Stamp {
  const stamp = tryParseStamp(text);
  if (stamp === null) {
    throw new HlcError(HLC_ERROR_CODES.malformed, `malformed HLC stamp: ${describe(text)}`);
  }
  return stamp;
}

/**
 * Like {@link parseStamp} but for untrusted input where failure is expected.
 * @param text - Candidate stamp string.
 * @returns The parsed stamp, or null if `text` is malformed.
 */
export function tryParseStamp(text: unknown): Stamp | null {
  if (typeof text !== 'string' || text.length > MAX_STAMP_LENGTH) {return null;}
  const match = STAMP_PATTERN.exec(text);
  if (match === null) {return null;}
  const [, wall, counter, node] = match;
  if (wall === undefined || counter === undefined || node === undefined) {return null;}
  return { wallMs: Number(wall), counter: Number.parseInt(counter, 16), node };
}

/**
 * Pull a stamp that is too far in the future back to `nowMs + maxDriftMs`, so a
 * peer with a bad clock cannot drag every other clock forward. Clamping can make
 * distinct remote stamps equal; callers needing uniqueness should re-stamp locally.
 * @param remote - Stamp received from elsewhere.
 * @param nowMs - Local wall clock in milliseconds.
 * @param maxDriftMs - Tolerated lead over `nowMs`; defaults to {@link MAX_DRIFT_MS}.
 * @returns The stamp (unchanged, or with wallMs lowered and counter/node kept) and
 *   whether it was clamped.
 * @throws {HlcError} `hlc_invalid_stamp` for a malformed stamp, `hlc_invalid_option`
 *   for a negative or non-integer nowMs/maxDriftMs.
 */
export function clampStamp(
  remote: Stamp,
  nowMs: number,
  maxDriftMs: number = MAX_DRIFT_MS,
): ClampResult {
  assertStamp(remote);
  assertNonNegativeInt(nowMs, 'nowMs');
  assertNonNegativeInt(maxDriftMs, 'maxDriftMs');
  const limit = nowMs + maxDriftMs;
  if (remote.wallMs <= limit) {return { stamp: remote, clamped: false };}
  return { stamp: { wallMs: limit, counter: remote.counter, node: remote.node }, clamped: true };
}

/**
 * A hybrid logical clock for one writer. A class rather than a closure so the
 * state is inspectable in debuggers and the node id is a plain readonly field.
 */
export class Hlc {
  /** Id of this writer, stamped on every issued stamp. */
  readonly node: string;
  /** Tolerated lead of remote stamps over the local wall clock. */
  readonly maxDriftMs: number;
  readonly #now: () => number;
  #last: Stamp | null;

  /**
   * @param options - Node id, injected wall clock, optional drift limit and resume point.
   * @throws {HlcError} `hlc_invalid_node` for a bad node id, `hlc_invalid_option` for a bad
   *   maxDriftMs, `hlc_invalid_stamp` for a bad `last`.
   */
  constructor(options: HlcOptions) {
    if (!isValidNode(options.node)) {
      const detail = describe(options.node);
      throw new HlcError(HLC_ERROR_CODES.invalidNode, `invalid HLC node id: ${detail}`);
    }
    const maxDriftMs = options.maxDriftMs ?? MAX_DRIFT_MS;
    assertNonNegativeInt(maxDriftMs, 'maxDriftMs');
    if (options.last !== undefined) {assertStamp(options.last);}
    this.node = options.node;
    this.maxDriftMs = maxDriftMs;
    this.#now = options.now;
    this.#last = options.last === undefined ? null : copyStamp(options.last);
  }

  /**
   * Issue a stamp for a local event.
   * @returns A stamp strictly greater than every stamp this clock has issued or
   *   received, even if the wall clock stalls or goes backwards.
   * @throws {HlcError} `hlc_invalid_clock` if `now()` returns a non-finite or negative
   *   value, `hlc_overflow` if wallMs would exceed {@link MAX_WALL_MS}.
   */
  tick(): Stamp {
    const now = this.#readClock();
    const last = this.#last;
    const next =
      last === null || now > last.wallMs
        ? this.#make(now, 0)
        : this.#make(last.wallMs, last.counter + 1);
    this.#last = next;
    return next;
  }

  /**
   * Merge a remote stamp (standard HLC receive rule) after clamping it to
   * `now + maxDriftMs`. The result exceeds the clamped remote, not necessarily
   * the original one when a clamp happened.
   * @param remote - Stamp carried by an incoming message.
   * @returns The new local stamp and whether the remote stamp was clamped.
   * @throws {HlcError} `hlc_invalid_stamp` for a malformed remote stamp, plus the
   *   errors of {@link Hlc.tick}.
   */
  receive(remote: Stamp): ReceiveResult {
    const now = this.#readClock();
    const { stamp: bounded, clamped } = clampStamp(remote, now, this.maxDriftMs);
    const last = this.#last;
    const wall = Math.max(now, bounded.wallMs, last?.wallMs ?? 0);
    const next = this.#make(wall, this.#mergedCounter(wall, bounded, last));
    this.#last = next;
    return { stamp: next, clamped };
  }

  /**
   * The most recent stamp issued or produced by a receive, without advancing.
   * @returns The latest stamp, or null before the first tick/receive (unless resumed via `last`).
   */
  peek(): Stamp | null {
    return this.#last;
  }

  /**
   * Alias of {@link Hlc.peek}.
   * @returns The latest stamp, or null if none yet.
   */
  last(): Stamp | null {
    return this.peek();
  }

  #mergedCounter(wall: number, remote: Stamp, last: Stamp | null): number {
    const fromLast = last !== null && last.wallMs === wall ? last.counter + 1 : 0;
    const fromRemote = remote.wallMs === wall ? remote.counter + 1 : 0;
    return Math.max(fromLast, fromRemote);
  }

  // Counter overflow borrows a millisecond rather than failing: the stamp stays
  // strictly greater, and the real wall clock catches up within milliseconds.
  #make(wallMs: number, counter: number): Stamp {
    const [wall, count] = counter > MAX_COUNTER ? [wallMs + 1, 0] : [wallMs, counter];
    if (wall > MAX_WALL_MS) {
      throw new HlcError(HLC_ERROR_CODES.overflow, `HLC wallMs would exceed ${MAX_WALL_MS}`);
    }
    // Frozen because callers receive the same object the clock keeps as state.
    return Object.freeze({ wallMs: wall, counter: count, node: this.node });
  }

  // Floors fractional clocks (e.g. performance.timeOrigin + performance.now()).
  #readClock(): number {
    const raw = this.#now();
    if (!Number.isFinite(raw) || raw < 0) {
      throw new HlcError(HLC_ERROR_CODES.invalidClock, `HLC wall clock returned ${String(raw)}`);
    }
    return Math.floor(raw);
  }
}

function isIntInRange(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function assertStamp(stamp: Stamp): void {
  if (!isValidStamp(stamp)) {
    throw new HlcError(HLC_ERROR_CODES.invalidStamp, `invalid HLC stamp: ${describe(stamp)}`);
  }
}

function assertNonNegativeInt(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    const detail = `${name} must be a non-negative integer, got ${String(value)}`;
    throw new HlcError(HLC_ERROR_CODES.invalidOption, detail);
  }
}

function copyStamp(stamp: Stamp): Stamp {
  return { wallMs: stamp.wallMs, counter: stamp.counter, node: stamp.node };
}

// Error text may end up in logs; keep hostile input short.
function describe(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
