/**
 * @module server/sync/policy/share-flags
 * A person's "share my emails about this record" flags (`shareFlags`,
 * recordId → {v: boolean, hlc}). The map is the author's own document, so a
 * flag is always the author's own mailbox's: the only question is whether
 * they can access the record. Last writer wins through the records API's
 * own statement (db/queries/share-flags.ts), so REST and sync settle alike.
 */
import { findAccessibleRecord } from '../../../db/queries/records';
import { findShareFlag, writeShareFlag } from '../../../db/queries/share-flags';
import { insertSyncWrites, syncWriteKey } from '../../../db/queries/sync-writes';
import type { Queryable } from '../../../db/types';
import { isStamped, MAPS } from '../../../sync/doc/schema';
import { loggedStamp } from './stamps';
import { REASONS, type AppliedChange, type MapDecision, type Reason, type ReviewScope, type Verdict } from './types';
import { isUuid, latestPerKey, loggable, refused, stampedWrite, stored, superseded, unreplayed } from './verdicts';

interface Candidate {
  key: string;
  logKey: string;
  shared: boolean;
  rawHlc: string;
  hlc: string;
  clamped: boolean;
}

function refusal(scope: ReviewScope, value: unknown): Reason | { hlc: string; clamped: boolean; shared: boolean } {
  const write = stampedWrite(scope, value);
  if (typeof write === 'string') {
    return write;
  }
  return typeof write.v === 'boolean' ? { hlc: write.hlc, clamped: write.clamped, shared: write.v } : REASONS.invalidValue;
}

/** Which of the records (lower-case ids) the author can access in their organization. */
async function accessibleRecords(q: Queryable, scope: ReviewScope, ids: readonly string[]): Promise<Set<string>> {
  const accessible = new Set<string>();
  if (scope.orgId === null) {
    return accessible;
  }
  for (const id of ids) {
    if (await findAccessibleRecord(q, scope.userId, scope.orgId, id)) {
      accessible.add(id);
    }
  }
  return accessible;
}

/** Decides the `shareFlags` writes of one update inside the review's transaction. */
export async function decideShareFlags(
  q: Queryable,
  scope: ReviewScope,
  writes: ReadonlyMap<string, readonly unknown[]>,
  touched: ReadonlySet<string>,
): Promise<MapDecision> {
  const verdicts: Verdict[] = [];
  const candidates: Candidate[] = [];
  const accessible = await accessibleRecords(q, scope, [...touched].filter(isUuid));
  for (const key of touched) {
    const logKey = syncWriteKey(MAPS.shareFlags, key);
    for (const value of writes.get(key) ?? []) {
      const rawHlc = loggedStamp(isStamped(value) ? value.hlc : undefined);
      const check = refusal(scope, value);
      if (typeof check === 'string') {
        verdicts.push(refused(logKey, rawHlc, check));
        continue;
      }
      candidates.push({ key, logKey, rawHlc, ...check });
    }
  }
  const fresh = await unreplayed(q, scope.userId, candidates, (c) => ({ key: c.logKey, hlc: c.rawHlc }));
  const permitted = fresh.filter((c) => {
    if (!accessible.has(c.key)) {
      verdicts.push(refused(c.logKey, c.rawHlc, REASONS.recordNotAccessible));
      return false;
    }
    return true;
  });
  const applied: AppliedChange[] = [];
  for (const c of latestPerKey(permitted, (loser) => verdicts.push(superseded(loser, loser.shared)))) {
    const won = await writeShareFlag(q, { ownerId: scope.userId, recordId: c.key, shared: c.shared, hlc: c.hlc });
    verdicts.push(stored(c, c.shared, won));
    if (won) {
      applied.push({ kind: 'share-flag', ownerId: scope.userId, recordId: c.key });
    }
  }
  await insertSyncWrites(q, scope.userId, loggable(verdicts));
  const canonical = new Map<string, unknown>();
  for (const key of touched) {
    const flag = accessible.has(key) ? await findShareFlag(q, scope.userId, key) : null;
    canonical.set(key, flag ? { v: flag.shared, hlc: flag.hlc } : undefined);
  }
  return { verdicts, canonical, applied };
}
