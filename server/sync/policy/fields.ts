/**
 * @module server/sync/policy/fields
 * Thread fields a person wrote (`fields`, "threadId|field" → {v, hlc}):
 * only for a thread they can see, with a valid value, an assignee who can
 * see the thread and is active, and a trusted stamp; then last writer wins
 * in Postgres (shared fields in thread_fields, `read` per person).
 */
import {
  readPersonalFields,
  readSharedFields,
  threadsVisibleTo,
  threadsVisibleToEach,
  writePersonalFields,
  writeSharedFields,
  writtenFieldKey,
  type FieldWrite,
} from '../../../db/queries/thread-fields';
import { insertSyncWrites, syncWriteKey } from '../../../db/queries/sync-writes';
import type { Queryable } from '../../../db/types';
import { checkFieldValue, fieldKey, isStamped, MAPS, parseFieldKey, SHARED_FIELDS, type ThreadField } from '../../../sync/doc/schema';
import { loggedStamp } from './stamps';
import { REASONS, type MapDecision, type Reason, type ReviewScope, type Verdict } from './types';
import { isUuid, latestPerKey, loggable, refused, stampedWrite, stored, superseded, unique, unreplayed } from './verdicts';

interface Candidate {
  key: string;
  logKey: string;
  threadId: string;
  field: ThreadField;
  v: unknown;
  rawHlc: string;
  hlc: string;
  clamped: boolean;
}

function precheck(scope: ReviewScope, field: ThreadField, value: unknown): { v: unknown; hlc: string; clamped: boolean } | Reason {
  const write = stampedWrite(scope, value);
  if (typeof write === 'string') {
    return write;
  }
  return checkFieldValue(field, write.v) === null ? write : REASONS.invalidValue;
}

const isShared = (field: ThreadField): boolean => (SHARED_FIELDS as readonly string[]).includes(field);

const toRow = (c: Candidate): FieldWrite => ({ threadId: c.threadId, field: c.field, value: c.v, hlc: c.hlc });

/** Candidates whose assignee can see their thread and is active; the rest get `onRefused`. */
async function withSeeingAssignees(q: Queryable, orgId: string, candidates: Candidate[], onRefused: (c: Candidate) => void): Promise<Candidate[]> {
  const byAssignee = new Map<string, Candidate[]>();
  for (const c of candidates) {
    if (c.field === 'assignee' && typeof c.v === 'string') {
      byAssignee.set(c.v, [...(byAssignee.get(c.v) ?? []), c]);
    }
  }
  const refusedSet = new Set<Candidate>();
  const threads = unique([...byAssignee.values()].flat().map((c) => c.threadId));
  const seeing = await threadsVisibleToEach(q, [...byAssignee.keys()], orgId, threads, { activeOnly: true });
  for (const [assignee, list] of byAssignee) {
    const sees = seeing.get(assignee);
    list.filter((c) => !sees?.has(c.threadId)).forEach((c) => refusedSet.add(c));
  }
  refusedSet.forEach(onRefused);
  return candidates.filter((c) => !refusedSet.has(c));
}

/** The canonical `{v, hlc}` of every touched key (undefined: no stored value, or a thread the person cannot see). */
async function canonicalFields(q: Queryable, scope: ReviewScope, touched: Iterable<string>, visible: ReadonlySet<string>): Promise<Map<string, unknown>> {
  const ids = [...visible];
  const stored = new Map<string, unknown>();
  for (const row of [...(await readSharedFields(q, ids)), ...(await readPersonalFields(q, scope.userId, ids))]) {
    stored.set(fieldKey(row.threadId, row.field as ThreadField), { v: row.value, hlc: row.hlc });
  }
  const canonical = new Map<string, unknown>();
  for (const key of touched) {
    const parsed = parseFieldKey(key);
    canonical.set(key, parsed && visible.has(parsed.threadId) ? stored.get(key) : undefined);
  }
  return canonical;
}

/**
 * Decides the `fields` writes of one update inside the review's transaction.
 * @param writes per key, the values the update wrote.
 * @param touched every changed key (a deleted key has no written value).
 */
export async function decideFields(
  q: Queryable,
  scope: ReviewScope,
  writes: ReadonlyMap<string, readonly unknown[]>,
  touched: ReadonlySet<string>,
): Promise<MapDecision> {
  const verdicts: Verdict[] = [];
  const candidates: Candidate[] = [];
  const threadIds = new Set<string>();
  for (const key of touched) {
    const parsed = parseFieldKey(key);
    const logKey = syncWriteKey(MAPS.fields, key);
    const named = parsed !== null && isUuid(parsed.threadId);
    if (named) {
      threadIds.add(parsed.threadId);
    }
    for (const value of writes.get(key) ?? []) {
      const rawHlc = loggedStamp(isStamped(value) ? value.hlc : undefined);
      if (!named) {
        verdicts.push(refused(logKey, rawHlc, parsed ? REASONS.threadNotVisible : REASONS.unknownField));
        continue;
      }
      const check = precheck(scope, parsed.field, value);
      if (typeof check === 'string') {
        verdicts.push(refused(logKey, rawHlc, check));
        continue;
      }
      candidates.push({ key, logKey, threadId: parsed.threadId, field: parsed.field, rawHlc, ...check });
    }
  }
  const visible = scope.orgId ? await threadsVisibleTo(q, scope.userId, scope.orgId, [...threadIds]) : new Set<string>();
  const fresh = await unreplayed(q, scope.userId, candidates, (c) => ({ key: c.logKey, hlc: c.rawHlc }));
  const seen = fresh.filter((c) => {
    if (!visible.has(c.threadId)) {
      verdicts.push(refused(c.logKey, c.rawHlc, REASONS.threadNotVisible));
    }
    return visible.has(c.threadId);
  });
  const permitted = scope.orgId ? await withSeeingAssignees(q, scope.orgId, seen, (c) => verdicts.push(refused(c.logKey, c.rawHlc, REASONS.assigneeCannotSee))) : [];
  const winners = latestPerKey(permitted, (c) => verdicts.push(superseded(c, c.v)));
  const shared = winners.filter((c) => isShared(c.field));
  const won = new Set([
    ...(await writeSharedFields(q, scope.userId, shared.map(toRow))),
    ...(await writePersonalFields(q, scope.userId, winners.filter((c) => !isShared(c.field)).map(toRow))),
  ]);
  for (const c of winners) {
    verdicts.push(stored(c, c.v, won.has(writtenFieldKey(c.threadId, c.field))));
  }
  await insertSyncWrites(q, scope.userId, loggable(verdicts));
  const changedThreads = unique(shared.filter((c) => won.has(writtenFieldKey(c.threadId, c.field))).map((c) => c.threadId));
  return {
    verdicts,
    canonical: await canonicalFields(q, scope, touched, visible),
    applied: changedThreads.length > 0 ? [{ kind: 'thread-fields', threadIds: changedThreads }] : [],
  };
}
