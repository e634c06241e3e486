/**
 * @module sync/client/read
 * Typed reads of a person's document (layout in sync/doc/schema). Values are
 * JSON the server wrote, so reads are defensive: an editable field whose
 * value does not pass the schema's check reads as its default rather than
 * handing the UI a shape it does not expect, and a stored thread is decoded
 * (sync/doc/thread-codec) into the summary the UI reads, or skipped when it
 * is not one (a copy of an older layout, until the server's sync replaces it).
 */
import type * as Y from 'yjs';
import {
  checkFieldValue,
  FIELD_DEFAULTS,
  fieldKey,
  isStamped,
  MAPS,
  THREAD_FIELDS,
  type AccountDoc,
  type ConversionDoc,
  type FieldValues,
  type NotificationDoc,
  type PersonDoc,
  type RecordDoc,
  type Stamped,
  type ThreadDoc,
  type ThreadField,
  type ThreadSummary,
} from '../doc/schema';
import { decodeThread, refLookup, type RefLookup } from '../doc/thread-codec';

export { refLookup, type RefLookup };

/** The value type of each root map. */
export interface MapValues {
  meta: unknown;
  threads: ThreadDoc;
  fields: Stamped<unknown>;
  shareFlags: Stamped<boolean>;
  conversions: ConversionDoc;
  records: RecordDoc;
  people: PersonDoc;
  notifications: NotificationDoc;
  accounts: AccountDoc;
}
export type MapKey = keyof MapValues;

/** A thread as the inbox shows it: the server's summary and its editable fields, defaults filled in. */
export interface ThreadView extends ThreadSummary {
  id: string;
  fields: FieldValues;
  /** The stamp of the person's own read/unread write, or null when they never set it (unread then follows the mail). */
  readHlc: string | null;
}

function rootMap<N extends MapKey>(doc: Y.Doc, name: N): Y.Map<MapValues[N]> {
  return doc.getMap<MapValues[N]>(MAPS[name]);
}

/** One entry of a root map, or undefined. */
export function readEntry<N extends MapKey>(doc: Y.Doc, name: N, key: string): MapValues[N] | undefined {
  return rootMap(doc, name).get(key);
}

/** Every entry of a root map, as a plain Map (a snapshot: later changes do not show in it). */
export function readEntries<N extends MapKey>(doc: Y.Doc, name: N): Map<string, MapValues[N]> {
  return new Map(rootMap(doc, name).entries());
}

/**
 * The keys of a root map that a transaction changed (set or deleted).
 * Looked up by identity: `changed` is keyed by the generic Yjs type.
 */
export function changedKeys(transaction: Y.Transaction, map: Y.Map<unknown>): string[] {
  for (const [type, keys] of transaction.changed) {
    if ((type as unknown) === map) {
      return [...keys].filter((k): k is string => k !== null);
    }
  }
  return [];
}

/** The document's epoch (set by the server), or null before the first sync. */
export function readEpoch(doc: Y.Doc): string | null {
  const epoch = doc.getMap<unknown>(MAPS.meta).get('epoch');
  return typeof epoch === 'string' && epoch !== '' ? epoch : null;
}

/** A field's value with its stamp, or null when the document holds none (or an invalid one). */
export function readStampedField<F extends ThreadField>(doc: Y.Doc, threadId: string, field: F): Stamped<FieldValues[F]> | null {
  const value = rootMap(doc, 'fields').get(fieldKey(threadId, field));
  if (!isStamped(value) || checkFieldValue(field, value.v) !== null) {
    return null;
  }
  return value as Stamped<FieldValues[F]>;
}

/** A field's value, or its default when the document holds none. */
export function readField<F extends ThreadField>(doc: Y.Doc, threadId: string, field: F): FieldValues[F] {
  return readStampedField(doc, threadId, field)?.v ?? FIELD_DEFAULTS[field];
}

/** Every editable field of a thread, defaults filled in. */
export function readFields(doc: Y.Doc, threadId: string): FieldValues {
  const values: Record<string, unknown> = {};
  for (const field of THREAD_FIELDS) {
    values[field] = readField(doc, threadId, field);
  }
  return values as unknown as FieldValues;
}

/**
 * A thread with its fields, or null when the document does not hold it (never seen, or no longer visible).
 * @param lookup the document's refs; pass one when reading many threads of the same state.
 */
export function readThread(doc: Y.Doc, threadId: string, lookup: RefLookup = refLookup(doc)): ThreadView | null {
  const summary = decodeThread(rootMap(doc, 'threads').get(threadId), lookup);
  if (summary === null) {
    return null;
  }
  return { ...summary, id: threadId, fields: readFields(doc, threadId), readHlc: readStampedField(doc, threadId, 'read')?.hlc ?? null };
}

/** Newest activity first; the id breaks ties so the order is total and stable. */
export function compareThreads(a: ThreadView, b: ThreadView): number {
  if (a.lastMessageAt !== b.lastMessageAt) {
    return a.lastMessageAt < b.lastMessageAt ? 1 : -1;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Every thread of the document, newest activity first. */
export function readThreads(doc: Y.Doc): ThreadView[] {
  const list: ThreadView[] = [];
  const lookup = refLookup(doc);
  for (const id of rootMap(doc, 'threads').keys()) {
    const thread = readThread(doc, id, lookup);
    if (thread !== null) {
      list.push(thread);
    }
  }
  return list.sort(compareThreads);
}
