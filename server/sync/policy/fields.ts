/**
 * @module server/sync/policy/fields
 * Thread fields a person wrote (`fields`, "threadId|field" → {v, hlc}):
 * only for a thread they can see, with a valid value, an assignee who can
 * see the thread and is active, and a trusted stamp; then last writer wins
 * in Postgres (shared fields in thread_fields, `read` per person).
 */
import { planForValues } from '../../../db/queries/plan-cache';
import {
  readPersonalFields,
  readSharedFields,
  threadsVisibleTo,
  viewerThreadKey,
  visiblePairs,
  writePersonalFields,
  writeSharedFields,
  writtenFieldKey,
  type FieldWrite,
} from '../../../db/queries/thread-fields';
import { insertSyncWrites, syncWriteKey } from '../../../db/queries/sync-writes';
import type { Queryable } from '../../../db/types';
import { checkFieldValue, fieldKey, isStamped, MAPS, parseFieldKey, SHARED_FIELDS, type Stamped, type ThreadField } from '../../../sync/doc/schema';
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

interface Sight {
  /** Threads the author can see. */
  visible: Set<string>;
  /** {@link viewerThreadKey}s of active assignees who can see the thread assigned to them. */
  seeing: Set<string>;
}

/**
 * Up to this many assignees, each is asked in the per-viewer statement,
 * pipelined beside the author's: about 3.5 ms each in the sync bench's
 * organization, where the set-shaped statement costs about 30 ms to plan and
 * start even for two pairs, but 14 ms for 500.
 */
export const PER_VIEWER_ASSIGNEES = 8;

/** What the author sees of the update's threads, and which assignees see theirs. */
async function sightOf(q: Queryable, scope: ReviewScope, threadIds: ReadonlySet<string>, candidates: readonly Candidate[]): Promise<Sight> {
  if (!scope.orgId) {
    return { visible: new Set(), seeing: new Set() };
  }
  const orgId = scope.orgId;
  const assigned = candidates.filter((c) => c.field === 'assignee' && typeof c.v === 'string').map((c) => ({ viewerId: c.v as string, threadId: c.threadId }));
  const byAssignee = new Map<string, string[]>();
  for (const { viewerId, threadId } of assigned) {
    const threads = byAssignee.get(viewerId);
    if (threads) {
      threads.push(threadId);
    } else {
      byAssignee.set(viewerId, [threadId]);
    }
  }
  if (byAssignee.size <= PER_VIEWER_ASSIGNEES) {
    const [visible, ...seen] = await Promise.all([
      threadsVisibleTo(q, scope.userId, orgId, [...threadIds]),
      ...[...byAssignee].map(([viewerId, threads]) =>
        threadsVisibleTo(q, viewerId, orgId, threads, { activeOnly: true }).then((ids) => [...ids].map((id) => viewerThreadKey(viewerId, id))),
      ),
    ]);
    return { visible, seeing: new Set(seen.flat()) };
  }
  // The author's pairs join the assignees' statement: one plan instead of two (44 → 14 ms for 250 threads).
  // It is planned for its arrays: a generic plan assumes a few rows.
  await planForValues(q);
  const pairs = await visiblePairs(q, orgId, [...[...threadIds].map((threadId) => ({ viewerId: scope.userId, threadId })), ...assigned]);
  return {
    visible: new Set(pairs.filter((p) => p.viewerId === scope.userId).map((p) => p.threadId)),
    seeing: new Set(pairs.filter((p) => p.active).map((p) => viewerThreadKey(p.viewerId, p.threadId))),
  };
}

/** Candidates whose assignee can see their thread and is active; the rest get `onRefused`. */
function withSeeingAssignees(candidates: readonly Candidate[], seeing: ReadonlySet<string>, onRefused: (c: Candidate) => void): Candidate[] {
  return candidates.filter((c) => {
    const ok = c.field !== 'assignee' || typeof c.v !== 'string' || seeing.has(viewerThreadKey(c.v, c.threadId));
    if (!ok) {
      onRefused(c);
    }
    return ok;
  });
}

/** The canonical `{v, hlc}` of every touched key (undefined: no stored value, or a thread the person cannot see). */
async function canonicalFields(q: Queryable, scope: ReviewScope, touched: Iterable<string>, visible: ReadonlySet<string>): Promise<Map<string, unknown>> {
  const ids = [...visible];
  const stored = new Map<string, unknown>();
  const [sharedRows, personalRows] = await Promise.all([readSharedFields(q, ids), readPersonalFields(q, scope.userId, ids)]);
  for (const row of [...sharedRows, ...personalRows]) {
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
  // Independent statements go out together: inside the transaction they are pipelined on its one connection.
  const [{ visible, seeing }, fresh] = await Promise.all([
    sightOf(q, scope, threadIds, candidates),
    unreplayed(q, scope.userId, candidates, (c) => ({ key: c.logKey, hlc: c.rawHlc })),
  ]);
  const seen = fresh.filter((c) => {
    if (!visible.has(c.threadId)) {
      verdicts.push(refused(c.logKey, c.rawHlc, REASONS.threadNotVisible));
    }
    return visible.has(c.threadId);
  });
  const permitted = scope.orgId ? withSeeingAssignees(seen, seeing, (c) => verdicts.push(refused(c.logKey, c.rawHlc, REASONS.assigneeCannotSee))) : [];
  const winners = latestPerKey(permitted, (c) => verdicts.push(superseded(c, c.v)));
  const shared = winners.filter((c) => isShared(c.field));
  const [wonShared, wonPersonal] = await Promise.all([
    writeSharedFields(q, scope.userId, shared.map(toRow)),
    writePersonalFields(q, scope.userId, winners.filter((c) => !isShared(c.field)).map(toRow)),
  ]);
  const won = new Set([...wonShared, ...wonPersonal]);
  for (const c of winners) {
    verdicts.push(stored(c, c.v, won.has(writtenFieldKey(c.threadId, c.field))));
  }
  const [, canonical] = await Promise.all([insertSyncWrites(q, scope.userId, loggable(verdicts)), canonicalFields(q, scope, touched, visible)]);
  const committed = shared.filter((c) => won.has(writtenFieldKey(c.threadId, c.field)));
  const changedThreads = unique(committed.map((c) => c.threadId));
  return {
    verdicts,
    canonical,
    applied: changedThreads.length > 0 ? [{ kind: 'thread-fields', threadIds: changedThreads, ...committedValues(committed, canonical) }] : [],
  };
}

/** Values per change beyond which the fan-out re-reads instead: a change stays a small bus message. */
const MAX_CARRIED_VALUES = 2_000;

/** The committed values of the shared fields that won, as the transaction read them back, for the fan-out. */
function committedValues(committed: readonly Candidate[], canonical: ReadonlyMap<string, unknown>): { values?: Record<string, Stamped<unknown>> } {
  if (committed.length > MAX_CARRIED_VALUES) {
    return {};
  }
  const values: Record<string, Stamped<unknown>> = {};
  for (const c of committed) {
    const value = canonical.get(c.key);
    if (!isStamped(value)) {
      return {};
    }
    values[c.key] = value;
  }
  return { values };
}
