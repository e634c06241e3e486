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
import { visibleMessageIdsSql } from './visibility';

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
  return (await threadsVisibleToEach(q, [viewerId], orgId, threadIds, options)).get(viewerId) ?? new Set();
}

/**
 * `threadsVisibleTo` for several people in one statement (the assignees of
 * an offline batch). The visibility rules run on the given threads' messages
 * only (`among`), not on everything the person may see.
 * @returns each person's visible threads; a person who sees none is missing.
 */
export async function threadsVisibleToEach(
  q: Queryable,
  viewerIds: readonly string[],
  orgId: string,
  threadIds: readonly string[],
  options: { activeOnly?: boolean } = {},
): Promise<Map<string, Set<string>>> {
  if (threadIds.length === 0 || viewerIds.length === 0) {
    return new Map();
  }
  const rows = await q.query<{ viewer: string; id: string }>(
    // Lateral: the rules run once per person, each over the given threads' messages only.
    `select distinct v.id as viewer, tm.thread_id as id
       from unnest($1::uuid[]) as v (id)
       cross join lateral ${visibleMessageIdsSql('v.id', '$2::uuid', 'm.thread_id = any($3::uuid[])')} as seen (id)
       join messages tm on tm.id = seen.id and tm.orphaned_at is null
      where $4::boolean = false or exists (select 1 from users u where u.id = v.id and u.active)`,
    [[...new Set(viewerIds)], orgId, threadIds, options.activeOnly ?? false],
  );
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    out.set(r.viewer, (out.get(r.viewer) ?? new Set()).add(r.id));
  }
  return out;
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
