/**
 * @module sync/client/outbox
 * The writes this device made that the server has not answered yet. The
 * document alone cannot tell: right after a local write it holds the new
 * value whether or not Postgres will keep it. So each semantic write
 * `{map, key, v, hlc}` waits here until the server's answer settles it:
 *
 * - applied: the server's copy holds this write (or a later one of ours);
 * - lost:    the canonical value carries a later stamp from someone else
 *            ("your change lost to a later one");
 * - refused: the server put back an older value or removed the key.
 *
 * The outbox outlives the document: when the server rebuilds a document under
 * a new epoch the client drops its copy and replays what is still pending
 * (see replay.ts). One entry per key: a newer local write replaces the older.
 */
import { compareStamps, tryParseStamp } from '../hlc';
import { MAPS } from '../doc/schema';
import { stampOf } from './clock';

export const OUTBOX_MAPS = [MAPS.fields, MAPS.shareFlags, MAPS.conversions] as const;
export type OutboxMap = (typeof OUTBOX_MAPS)[number];

export interface OutboxEntry {
  map: OutboxMap;
  key: string;
  /** The value written into the document (`{v, hlc}`, or a conversion request). */
  value: unknown;
  hlc: string;
  /** Order of recording on this device; the acknowledgement barrier compares it. */
  seq: number;
}

export const WRITE_OUTCOMES = { applied: 'applied', lost: 'lost', refused: 'refused' } as const;
export type WriteOutcome = (typeof WRITE_OUTCOMES)[keyof typeof WRITE_OUTCOMES];

export interface SettledWrite {
  entry: OutboxEntry;
  outcome: WriteOutcome;
  /** What the document holds for the key now (undefined: nothing). */
  canonical: unknown;
}

/**
 * What a value read from the document can prove about a pending write:
 * - answer:   it arrived from the server just now. A value with the write's
 *             own stamp proves nothing (Yjs may show our own concurrent item
 *             whatever the server holds), so only a later stamp settles;
 * - replay:   the document is a fresh copy from the server, so our own stamp
 *             in it means the server has the write;
 * - reviewed: the server is known to have reviewed the write, so an older
 *             value, or none, means it was refused.
 */
export const JUDGE_MODES = { answer: 'answer', replay: 'replay', reviewed: 'reviewed' } as const;
export type JudgeMode = (typeof JUDGE_MODES)[keyof typeof JUDGE_MODES];

/** @returns the outcome of a pending write, or null while it is still pending. */
export function judgeWrite(entry: OutboxEntry, current: unknown, mode: JudgeMode): WriteOutcome | null {
  const order = compareHlc(stampOf(current), entry.hlc);
  if (entry.map === MAPS.conversions) {
    return judgeConversion(order, current, mode);
  }
  if (order > 0) {
    const mine = tryParseStamp(entry.hlc)?.node;
    return tryParseStamp(stampOf(current))?.node === mine ? WRITE_OUTCOMES.applied : WRITE_OUTCOMES.lost;
  }
  if (order === 0) {
    return mode === JUDGE_MODES.answer ? null : WRITE_OUTCOMES.applied;
  }
  return mode === JUDGE_MODES.reviewed ? WRITE_OUTCOMES.refused : null;
}

// A conversion request is answered in place: the server sets its status.
function judgeConversion(order: number, current: unknown, mode: JudgeMode): WriteOutcome | null {
  const status = typeof current === 'object' && current !== null ? (current as { status?: unknown }).status : undefined;
  if (order >= 0 && status === 'done') {
    return WRITE_OUTCOMES.applied;
  }
  if (order >= 0 && status === 'refused') {
    return WRITE_OUTCOMES.refused;
  }
  // Our request still pending (or another device's later one): the server has not answered yet.
  return mode === JUDGE_MODES.reviewed && order < 0 ? WRITE_OUTCOMES.refused : null;
}

/** Compares two stamps; a missing or malformed one sorts first. */
export function compareHlc(a: string | null, b: string): number {
  const left = a === null ? null : tryParseStamp(a);
  const right = tryParseStamp(b);
  if (left === null || right === null) {
    return left === null ? (right === null ? 0 : -1) : 1;
  }
  return compareStamps(left, right);
}

export interface OutboxListener {
  /** Entries were added, replaced or removed. */
  changed?(pending: readonly OutboxEntry[]): void;
  /** A local write was recorded (it replaced any pending entry of its key). */
  recorded?(entry: OutboxEntry): void;
  /** Writes were settled, in the order they were recorded. */
  settled?(writes: readonly SettledWrite[]): void;
}

function slot(map: OutboxMap, key: string): string {
  return `${map}\u0000${key}`;
}

export class Outbox {
  #entries = new Map<string, OutboxEntry>();
  #seq = 0;
  #listeners = new Set<OutboxListener>();

  /** @param entries pending entries restored from storage (kept: the newest per key). */
  constructor(entries: Iterable<OutboxEntry> = []) {
    for (const entry of entries) {
      const existing = this.#entries.get(slot(entry.map, entry.key));
      if (existing === undefined || compareHlc(entry.hlc, existing.hlc) > 0) {
        this.#entries.set(slot(entry.map, entry.key), { ...entry });
      }
      this.#seq = Math.max(this.#seq, entry.seq);
    }
  }

  get pendingCount(): number {
    return this.#entries.size;
  }

  /** The highest sequence number recorded so far (0 when none). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Pending entries, oldest first. */
  pending(): OutboxEntry[] {
    return [...this.#entries.values()].sort((a, b) => a.seq - b.seq);
  }

  get(map: OutboxMap, key: string): OutboxEntry | undefined {
    return this.#entries.get(slot(map, key));
  }

  subscribe(listener: OutboxListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records a local write, replacing the pending one of the same key. */
  record(map: OutboxMap, key: string, value: unknown, hlc: string): OutboxEntry {
    this.#seq += 1;
    const entry: OutboxEntry = { map, key, value, hlc, seq: this.#seq };
    this.#entries.set(slot(map, key), entry);
    for (const listener of this.#listeners) {
      listener.recorded?.(entry);
    }
    this.#emitChanged();
    return entry;
  }

  /**
   * Settles the pending writes of `keys` that the server's values answer (a
   * later stamp, or a conversion's outcome). Call with the keys a
   * server-originated transaction changed.
   */
  settleAnswered(map: OutboxMap, keys: Iterable<string>, read: (key: string) => unknown): SettledWrite[] {
    const candidates: OutboxEntry[] = [];
    for (const key of keys) {
      const entry = this.#entries.get(slot(map, key));
      if (entry !== undefined) {
        candidates.push(entry);
      }
    }
    return this.#settle(candidates, (entry) => read(entry.key), JUDGE_MODES.answer);
  }

  /**
   * Settles the given pending entries that `read` shows answered, where the
   * write's own stamp counts as an answer: for a replay against a document
   * fresh from the server.
   */
  settleEntries(entries: readonly OutboxEntry[], read: (entry: OutboxEntry) => unknown): SettledWrite[] {
    return this.#settle(entries.filter((e) => this.#entries.get(slot(e.map, e.key)) === e), read, JUDGE_MODES.replay);
  }

  /**
   * Settles every write recorded up to `seq` once the server is known to
   * have reviewed them: each ends applied, lost or refused (a conversion the
   * server has not answered yet stays).
   */
  settleReviewed(seq: number, read: (entry: OutboxEntry) => unknown): SettledWrite[] {
    return this.#settle(this.pending().filter((e) => e.seq <= seq), read, JUDGE_MODES.reviewed);
  }

  /** Drops everything (log-out). */
  clear(): void {
    if (this.#entries.size === 0) {
      return;
    }
    this.#entries.clear();
    this.#emitChanged();
  }

  #settle(candidates: readonly OutboxEntry[], read: (entry: OutboxEntry) => unknown, mode: JudgeMode): SettledWrite[] {
    const settled: SettledWrite[] = [];
    for (const entry of candidates) {
      const canonical = read(entry);
      const outcome = judgeWrite(entry, canonical, mode);
      if (outcome !== null) {
        this.#entries.delete(slot(entry.map, entry.key));
        settled.push({ entry, outcome, canonical });
      }
    }
    if (settled.length > 0) {
      settled.sort((a, b) => a.entry.seq - b.entry.seq);
      this.#emitChanged();
      for (const listener of this.#listeners) {
        listener.settled?.(settled);
      }
    }
    return settled;
  }

  #emitChanged(): void {
    const pending = this.pending();
    for (const listener of this.#listeners) {
      listener.changed?.(pending);
    }
  }
}
