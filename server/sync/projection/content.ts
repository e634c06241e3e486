/**
 * @module server/sync/projection/content
 * Rows from Postgres turned into the values of a person's document
 * (sync/doc/schema.ts), keyed as the document keys them. Values are plain
 * JSON with a fixed shape, so the same canonical state always compares equal
 * to what the document holds and an unchanged projection writes nothing.
 */
import type {
  AccountProgressRow,
  DirectoryRow,
  FieldValueRow,
  ProjectionRecordRow,
  ProjectionShareFlagRow,
  ProjectionThreadRow,
} from '../../../db/queries/projection';
import type { NotificationRow } from '../../../db/queries/notifications';
import {
  DOC_SCHEMA_VERSION,
  fieldKey,
  THREAD_FIELDS,
  type AccountDoc,
  type NotificationDoc,
  type PersonDoc,
  type RecordDoc,
  type Stamped,
  type ThreadField,
  type ThreadSummary,
} from '../../../sync/doc/schema';
import { toSummaryTime } from '../../../sync/doc/thread-codec';

/** A thread row as the inbox reads it; the writer encodes it with the document's refs (sync/doc/thread-codec.ts). */
export function toThreadSummary(row: ProjectionThreadRow): ThreadSummary {
  return {
    subject: row.subject,
    snippet: row.snippet,
    lastMessageAt: toSummaryTime(row.lastMessageAt),
    messageCount: row.messageCount,
    unreadCount: row.unreadCount,
    from: row.fromAddress === null ? null : { address: row.fromAddress, name: row.fromName },
    participants: row.participants.map((p) => ({ address: p.address, name: p.name ?? null })),
    mailboxOwnerIds: row.mailboxOwnerIds,
    recordIds: row.recordIds,
    lane: row.lane,
  };
}

export function threadEntries(rows: readonly ProjectionThreadRow[]): Map<string, ThreadSummary> {
  return new Map(rows.map((row) => [row.id, toThreadSummary(row)]));
}

function isThreadField(field: string): field is ThreadField {
  return (THREAD_FIELDS as readonly string[]).includes(field);
}

/**
 * `fields` entries from stored rows. A field nobody set has no row and no
 * key (the client reads the default); a row is kept even when its value is
 * the default, because its stamp is what a later write must beat.
 */
export function fieldEntries(rows: readonly FieldValueRow[]): Map<string, Stamped<unknown>> {
  const out = new Map<string, Stamped<unknown>>();
  for (const row of rows) {
    if (isThreadField(row.field)) {
      out.set(fieldKey(row.threadId, row.field), { v: row.value, hlc: row.hlc });
    }
  }
  return out;
}

export function shareFlagEntries(rows: readonly ProjectionShareFlagRow[]): Map<string, Stamped<boolean>> {
  return new Map(rows.map((r) => [r.recordId, { v: r.shared, hlc: r.hlc }]));
}

export function toRecordDoc(row: ProjectionRecordRow, ref: number): RecordDoc {
  return { ref, type: row.type, name: row.name, company: row.company, ownerId: row.ownerId, primaryEmail: row.primaryEmail };
}

/** Records with their refs; a row without a ref in `refs` is left out (the caller assigns one to every row it writes). */
export function recordEntries(rows: readonly ProjectionRecordRow[], refs: ReadonlyMap<string, number>): Map<string, RecordDoc> {
  return new Map(rows.flatMap((row) => {
    const ref = refs.get(row.id);
    return ref === undefined ? [] : [[row.id, toRecordDoc(row, ref)] as const];
  }));
}

export function personEntries(rows: readonly DirectoryRow[], refs: ReadonlyMap<string, number>): Map<string, PersonDoc> {
  return new Map(rows.flatMap((p) => {
    const ref = refs.get(p.id);
    return ref === undefined ? [] : [[p.id, { ref, name: p.name, email: p.email, role: p.role, managerId: p.managerId, active: p.active }] as const];
  }));
}

export function notificationEntries(rows: readonly NotificationRow[]): Map<string, NotificationDoc> {
  return new Map(
    rows.map((n) => [n.id, { kind: n.kind, payload: n.payload, createdAt: n.createdAt.toISOString(), readAt: n.readAt?.toISOString() ?? null }]),
  );
}

export function accountEntries(rows: readonly AccountProgressRow[]): Map<string, AccountDoc> {
  return new Map(rows.map((a) => [a.id, { email: a.email, status: a.status, done: a.done, total: a.total }]));
}

/** The `meta` keys the projection owns; `epoch` is the document host's. */
export function metaEntries(userId: string): Map<string, unknown> {
  return new Map<string, unknown>([
    ['schema', DOC_SCHEMA_VERSION],
    ['userId', userId],
  ]);
}

/** The record ids a set of thread summaries refers to. */
export function referencedRecordIds(threads: Iterable<ThreadSummary>): Set<string> {
  const out = new Set<string>();
  for (const t of threads) {
    t.recordIds.forEach((id) => out.add(id));
  }
  return out;
}
