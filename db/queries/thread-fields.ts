/**
 * @module db/queries/thread-fields
 * The canonical editable thread fields: shared ones (assignee, status,
 * snoozeUntil, labels) in `thread_fields`, personal ones (read) in
 * `thread_user_fields`. Last writer wins by HLC in one statement per batch:
 * a row is written only when its stamp is greater than the stored one,
 * compared under the "C" collation so a locale never reorders the
 * fixed-width stamps. Values are JSON (bound as text, cast to jsonb).
 */
import type { Queryable } from '../types';
import { manyViewers, reportsCteSql, visibleMessageIdsSql, visibleMessagesSql } from './visibility';

export interface FieldWrite {
  threadId: string;
  field: string;
  value: unknown;
  hlc: string;
}

export interface StoredField {
  threadId: string;
  field: string;
  value: unknown;
  hlc: string;
}

/** `threadId|field`, the identity of a written field in returned sets. */
export const writtenFieldKey = (threadId: string, field: string): string => `${threadId}|${field}`;

// Sorted so concurrent batches lock rows in one order and never deadlock each other.
function sorted(rows: readonly FieldWrite[]): FieldWrite[] {
  return [...rows].sort((a, b) => (a.threadId === b.threadId ? (a.field < b.field ? -1 : 1) : a.threadId < b.threadId ? -1 : 1));
}

/**
 * Which of the threads have a present message the person may see. With
 * `activeOnly`, a deactivated person sees nothing (assignees must be active).
 */
export async function threadsVisibleTo(
  q: Queryable,
  viewerId: string,
  orgId: string,
  threadIds: readonly string[],
  options: { activeOnly?: boolean } = {},
): Promise<Set<string>> {
  if (threadIds.length === 0) {
    return new Set();
  }
  const rows = await q.query<{ id: string }>(
    // The rules run over the given threads' messages only (`among`), not everything the person may see.
    `select distinct tm.thread_id as id
       from ${visibleMessageIdsSql('$1::uuid', '$2::uuid', 'm.thread_id = any($3::uuid[])')} as seen (id)
       join messages tm on tm.id = seen.id and tm.orphaned_at is null
      where $4::boolean = false or exists (select 1 from users u where u.id = $1::uuid and u.active)`,
    [viewerId, orgId, threadIds, options.activeOnly ?? false],
  );
  return new Set(rows.map((r) => r.id));
}

export interface ViewerThread {
  viewerId: string;
  threadId: string;
}

/** `viewer|thread`, the identity of a pair in {@link visiblePairs}' answer. */
export const viewerThreadKey = (viewerId: string, threadId: string): string => `${viewerId}|${threadId}`;

export interface VisiblePair extends ViewerThread {
  /** Whether the person is active: an assignee must be. */
  active: boolean;
}

/**
 * Which (person, thread) pairs are visible, in one statement: the assignees
 * of an offline batch, each asked only about the threads assigned to them
 * (asking every assignee about every thread ran the rules assignees × threads
 * times), and its author about each of its threads. The rules run once over
 * all the pairs ({@link manyViewers}), with everyone below each asked person
 * computed once: as a lateral subquery per pair, each pair re-ran the whole
 * plan, 36 ms for the 240 assignees of a 1,000-edit batch, and far more when
 * a custom plan chose nested loops.
 * @returns the visible pairs, each once.
 */
export async function visiblePairs(q: Queryable, orgId: string, pairs: readonly ViewerThread[]): Promise<VisiblePair[]> {
  const unique = new Map(pairs.map((p) => [viewerThreadKey(p.viewerId, p.threadId), p]));
  if (unique.size === 0) {
    return [];
  }
  const asked = [...unique.values()];
  const rules = visibleMessagesSql(manyViewers('v.viewer', 'reports'), '$3::uuid', 'm.thread_id = v.thread and m.orphaned_at is null', {
    select: 'v.viewer, v.thread',
    from: 'asked v',
  });
  return q.query<VisiblePair>(
    `with recursive asked as materialized (select * from unnest($1::uuid[], $2::uuid[]) as a (viewer, thread)),
       ${reportsCteSql('reports', '(select viewer from asked)')}
     select x.viewer as "viewerId", x.thread as "threadId", u.active
       from (${rules}) as x (viewer, thread) join users u on u.id = x.viewer`,
    [asked.map((p) => p.viewerId), asked.map((p) => p.threadId), orgId],
  );
}

/**
 * Writes shared fields, each only over an older stamp. Each (thread, field)
 * at most once per call.
 * @returns `writtenFieldKey`s of the writes that won.
 */
export async function writeSharedFields(q: Queryable, actorId: string, rows: readonly FieldWrite[]): Promise<Set<string>> {
  if (rows.length === 0) {
    return new Set();
  }
  const ordered = sorted(rows);
  const won = await q.query<{ threadId: string; field: string }>(
    `insert into thread_fields as f (thread_id, field, value, hlc, actor_id)
     select t.thread_id, t.field, t.value::jsonb, t.hlc, $5::uuid
     from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as t(thread_id, field, value, hlc)
     on conflict (thread_id, field) do update
       set value = excluded.value, hlc = excluded.hlc, actor_id = excluded.actor_id, updated_at = now()
       where f.hlc collate "C" < excluded.hlc collate "C"
     returning f.thread_id as "threadId", f.field`,
    [ordered.map((r) => r.threadId), ordered.map((r) => r.field), ordered.map((r) => JSON.stringify(r.value)), ordered.map((r) => r.hlc), actorId],
  );
  return new Set(won.map((r) => writtenFieldKey(r.threadId, r.field)));
}

/** Writes a person's own fields (read), each only over an older stamp. @returns the keys that won. */
export async function writePersonalFields(q: Queryable, userId: string, rows: readonly FieldWrite[]): Promise<Set<string>> {
  if (rows.length === 0) {
    return new Set();
  }
  const ordered = sorted(rows);
  const won = await q.query<{ threadId: string; field: string }>(
    `insert into thread_user_fields as f (thread_id, user_id, field, value, hlc)
     select t.thread_id, $5::uuid, t.field, t.value::jsonb, t.hlc
     from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as t(thread_id, field, value, hlc)
     on conflict (thread_id, user_id, field) do update
       set value = excluded.value, hlc = excluded.hlc, updated_at = now()
       where f.hlc collate "C" < excluded.hlc collate "C"
     returning f.thread_id as "threadId", f.field`,
    [ordered.map((r) => r.threadId), ordered.map((r) => r.field), ordered.map((r) => JSON.stringify(r.value)), ordered.map((r) => r.hlc), userId],
  );
  return new Set(won.map((r) => writtenFieldKey(r.threadId, r.field)));
}

/** The stored shared fields of some threads. */
export async function readSharedFields(q: Queryable, threadIds: readonly string[]): Promise<StoredField[]> {
  if (threadIds.length === 0) {
    return [];
  }
  return q.query<StoredField>(
    'select thread_id as "threadId", field, value, hlc from thread_fields where thread_id = any($1::uuid[])',
    [threadIds],
  );
}

/** A person's own stored fields of some threads. */
export async function readPersonalFields(q: Queryable, userId: string, threadIds: readonly string[]): Promise<StoredField[]> {
  if (threadIds.length === 0) {
    return [];
  }
  return q.query<StoredField>(
    `select thread_id as "threadId", field, value, hlc from thread_user_fields
     where user_id = $1 and thread_id = any($2::uuid[])`,
    [userId, threadIds],
  );
}
