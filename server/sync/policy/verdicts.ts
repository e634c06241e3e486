/**
 * @module server/sync/policy/verdicts
 * Small helpers the map reviewers share: id checks, the author and stamp
 * checks, replays, verdicts, log rows, and keeping one winning write per key.
 */
import { findSyncWrites, loggedWrite } from '../../../db/queries/sync-writes';
import type { Queryable } from '../../../db/types';
import { isStamped } from '../../../sync/doc/schema';
import { checkStamp } from './stamps';
import { OUTCOMES, REASONS, type Reason, type ReviewScope, type Verdict } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Ids Shoal hands out are lower-case UUIDs; anything else names nothing the person can see. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Keys longer than this are not logged (they are forged; they are still corrected in the document). */
const MAX_LOGGED_KEY = 400;

export function refused(key: string, hlc: string, reason: Reason): Verdict {
  return { key, hlc, value: undefined, outcome: OUTCOMES.refused, reason };
}

/** A write as logged: its log key, the stamp it came with, and whether the stamp was clamped. */
export interface LoggedCandidate {
  logKey: string;
  rawHlc: string;
  clamped: boolean;
}

/** The verdict of a write that reached Postgres: applied (flagged when its stamp was clamped), or lost to a newer stored one. */
export function stored(c: LoggedCandidate, value: unknown, won: boolean): Verdict {
  return won
    ? { key: c.logKey, hlc: c.rawHlc, value, outcome: OUTCOMES.applied, reason: c.clamped ? REASONS.clamped : null }
    : { key: c.logKey, hlc: c.rawHlc, value, outcome: OUTCOMES.lost, reason: REASONS.olderThanStored };
}

/** The verdict of a write a later one of the same update superseded. */
export function superseded(c: LoggedCandidate, value: unknown): Verdict {
  return { key: c.logKey, hlc: c.rawHlc, value, outcome: OUTCOMES.lost, reason: REASONS.supersededInUpdate };
}

/** Why an untrusted stamp is refused. */
export function stampRefusal(reason: 'hlc_malformed' | 'hlc_absurd'): Reason {
  return reason === 'hlc_absurd' ? REASONS.hlcAbsurd : REASONS.hlcMalformed;
}

/** An allowed author's `{v, hlc}` write with a trusted stamp (to store, maybe clamped), or why it is refused. */
export function stampedWrite(scope: ReviewScope, value: unknown): { v: unknown; hlc: string; clamped: boolean } | Reason {
  if (!scope.allowed) {
    return REASONS.authorInactive;
  }
  if (!isStamped(value)) {
    return REASONS.notStamped;
  }
  const stamp = checkStamp(value.hlc, scope.nowMs);
  return stamp.ok ? { v: value.v, hlc: stamp.hlc, clamped: stamp.clamped } : stampRefusal(stamp.reason);
}

/** The writes the log does not hold yet (a replay already has its verdict and is passed over). */
export async function unreplayed<W>(q: Queryable, userId: string, writes: readonly W[], logged: (w: W) => { key: string; hlc: string }): Promise<W[]> {
  const replays = await findSyncWrites(q, userId, writes.map(logged));
  return writes.filter((w) => {
    const { key, hlc } = logged(w);
    return loggedWrite(replays, key, hlc) === undefined;
  });
}

/** Verdicts worth a log row: bounded keys only. */
export function loggable(verdicts: readonly Verdict[]): Verdict[] {
  return verdicts.filter((v) => v.key.length <= MAX_LOGGED_KEY);
}

/**
 * Keeps the write with the greatest stamp per key (stamps compare as their
 * fixed-width text); the others are passed to `onLoser`.
 */
export function latestPerKey<W extends { key: string; hlc: string }>(writes: readonly W[], onLoser: (w: W) => void): W[] {
  const best = new Map<string, W>();
  for (const w of writes) {
    const held = best.get(w.key);
    if (!held) {
      best.set(w.key, w);
      continue;
    }
    const [winner, loser] = held.hlc < w.hlc ? [w, held] : [held, w];
    best.set(w.key, winner);
    onLoser(loser);
  }
  return [...best.values()];
}

export function unique<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}
