/**
 * @module server/sync/policy/stamps
 * How far the server trusts a person's HLC stamp. A stamp up to five minutes
 * ahead of the server's clock is taken as is (clocks disagree a little); up
 * to a day ahead it is clamped to five minutes ahead, so a device with a fast
 * clock cannot win every later write; further ahead, or from before Shoal
 * existed, it is absurd (a forged or broken clock) and the write is refused
 * rather than let it win or lose by accident.
 */
import { clampStamp, formatStamp, MAX_DRIFT_MS, tryParseStamp } from '../../../sync/hlc';

export const STAMP_LIMITS = {
  maxDriftMs: MAX_DRIFT_MS,
  /** Beyond this lead a stamp is refused, not clamped. */
  absurdAheadMs: 24 * 60 * 60_000,
  /** Stamps older than this (2020-01-01) cannot come from a Shoal device. */
  earliestMs: Date.UTC(2020, 0, 1),
} as const;

export type StampVerdict =
  | { ok: true; hlc: string; clamped: boolean }
  | { ok: false; reason: 'hlc_malformed' | 'hlc_absurd' };

/**
 * Decides what stamp a write carries into Postgres.
 * @param raw the `hlc` the person's document held.
 * @param nowMs the server's wall clock.
 */
export function checkStamp(raw: unknown, nowMs: number): StampVerdict {
  const stamp = tryParseStamp(raw);
  if (stamp === null) {
    return { ok: false, reason: 'hlc_malformed' };
  }
  if (stamp.wallMs < STAMP_LIMITS.earliestMs || stamp.wallMs > nowMs + STAMP_LIMITS.absurdAheadMs) {
    return { ok: false, reason: 'hlc_absurd' };
  }
  const { stamp: bounded, clamped } = clampStamp(stamp, Math.floor(nowMs), STAMP_LIMITS.maxDriftMs);
  return { ok: true, hlc: formatStamp(bounded), clamped };
}

/** Longest stamp text kept in the write log; anything longer is malformed anyway. */
const MAX_LOGGED_STAMP = 64;

/** The stamp a refused write is logged under (its own text when it is short text, else empty). */
export function loggedStamp(raw: unknown): string {
  return typeof raw === 'string' && raw.length <= MAX_LOGGED_STAMP ? raw : '';
}
