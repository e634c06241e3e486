/**
 * @module sync/doc/schema
 * The layout of a person's Yjs document: flat root maps (no nested Y types),
 * JSON values, so a 5,000-thread document stays small and a revoked thread is
 * one deleted key that gc purges. The server writes the summaries; a person
 * writes only the editable maps, each value stamped with an HLC so Postgres
 * can decide the last writer.
 *
 *   meta          schema, epoch, userId (server)
 *   threads       threadId → ThreadDoc (server; compact, see ThreadDoc)
 *   fields        "threadId|field" → { v, hlc } (assignee, status, snoozeUntil, labels, read)
 *   shareFlags    recordId → { v: boolean, hlc } (the person's own mailbox)
 *   conversions   address → ConversionDoc (the person asks; the server answers)
 *   records       recordId → RecordDoc (server; `ref` is the record's number in this document)
 *   people        userId → PersonDoc (server; `ref` likewise)
 *   notifications id → NotificationDoc (server)
 *   accounts      accountId → AccountDoc (server)
 */

/** 2: compact ThreadDoc with record and person refs (1: ThreadSummary as stored value). */
export const DOC_SCHEMA_VERSION = 2;

export const MAPS = {
  meta: 'meta',
  threads: 'threads',
  fields: 'fields',
  shareFlags: 'shareFlags',
  conversions: 'conversions',
  records: 'records',
  people: 'people',
  notifications: 'notifications',
  accounts: 'accounts',
} as const;
export type MapName = (typeof MAPS)[keyof typeof MAPS];

/** Maps only the server writes; a client's change to them is reverted. */
export const SERVER_MAPS: readonly MapName[] = [MAPS.meta, MAPS.threads, MAPS.records, MAPS.people, MAPS.notifications, MAPS.accounts];

/** Maps a person may write, each value checked and decided by the server. */
export const EDITABLE_MAPS: readonly MapName[] = [MAPS.fields, MAPS.shareFlags, MAPS.conversions];

export const THREAD_STATUSES = ['open', 'pending', 'done'] as const;
export type ThreadStatus = (typeof THREAD_STATUSES)[number];

/** Thread fields shared by everyone who sees the thread. */
export const SHARED_FIELDS = ['assignee', 'status', 'snoozeUntil', 'labels'] as const;
/** Thread fields each person keeps for themselves. */
export const PERSONAL_FIELDS = ['read'] as const;
export const THREAD_FIELDS = [...SHARED_FIELDS, ...PERSONAL_FIELDS] as const;
export type ThreadField = (typeof THREAD_FIELDS)[number];

export interface FieldValues {
  assignee: string | null;
  status: ThreadStatus;
  snoozeUntil: string | null;
  labels: string[];
  read: boolean;
}

export const FIELD_DEFAULTS: FieldValues = { assignee: null, status: 'open', snoozeUntil: null, labels: [], read: false };

/** An editable value and the HLC stamp of the write that set it. */
export interface Stamped<T> {
  v: T;
  hlc: string;
}

export const MAX_LABELS = 20;
export const MAX_LABEL_LENGTH = 40;

export const THREAD_LANES = ['deals', 'contacts_leads', 'not_in_crm', 'colleagues'] as const;
export type ThreadLaneValue = (typeof THREAD_LANES)[number];

/** An address on a thread, with the name its sender gave (null when none). */
export interface Party {
  address: string;
  name: string | null;
}

/**
 * A thread as the inbox reads it (sync/doc/thread-codec.ts decodes ThreadDoc
 * into this). `lastMessageAt` is ISO in whole seconds, as stored.
 */
export interface ThreadSummary {
  subject: string;
  snippet: string;
  lastMessageAt: string;
  messageCount: number;
  unreadCount: number;
  from: Party | null;
  participants: Party[];
  mailboxOwnerIds: string[];
  recordIds: string[];
  lane: ThreadLaneValue;
}

/** A participant as stored: the address, or `[address, name]` when it has a name. */
export type StoredParty = string | [string, string];

/**
 * A thread as the document stores it. Short keys and no repeated ids: ids
 * are what gzip cannot shrink, and a uuid repeated further back than
 * deflate's 32 KB window costs its full 20 bytes each time.
 *
 *   s subject, n snippet, t last activity (epoch seconds), c messages, u unread
 *   p participants; f the last sender: index into p, or the party itself when
 *     it is not among them (p is capped), or null
 *   o mailbox owners as people refs, r linked records as record refs
 *   l lane
 */
export interface ThreadDoc {
  s: string;
  n: string;
  t: number;
  c: number;
  u: number;
  p: StoredParty[];
  f: number | StoredParty | null;
  o: number[];
  r: number[];
  l: ThreadLaneValue;
}

/**
 * `ref`: a small number the server gives the record while the document holds
 * it (threads refer to records by it); it stays while the record stays, and
 * a number may be given again once nothing refers to it.
 */
export interface RecordDoc {
  ref: number;
  type: 'lead' | 'contact' | 'account' | 'deal';
  name: string;
  company: string;
  ownerId: string;
  primaryEmail: string | null;
}

/** `ref`: the person's number in this document, as RecordDoc's (threads name mailbox owners by it). */
export interface PersonDoc {
  ref: number;
  name: string;
  email: string;
  role: 'admin' | 'manager' | 'rep';
  managerId: string | null;
  active: boolean;
}

export interface NotificationDoc {
  kind: string;
  payload: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

export interface AccountDoc {
  email: string;
  status: string;
  done: number;
  total: number;
}

/** A person asks the server to convert an address to a lead or contact; the server fills the outcome. */
export interface ConversionDoc {
  type: 'lead' | 'contact';
  hlc: string;
  status: 'pending' | 'done' | 'refused';
  recordId: string | null;
  reason: string | null;
}

const FIELD_SEPARATOR = '|';

export function fieldKey(threadId: string, field: ThreadField): string {
  return `${threadId}${FIELD_SEPARATOR}${field}`;
}

/** @returns the thread and field of a `fields` key, or null when the key is not one. */
export function parseFieldKey(key: string): { threadId: string; field: ThreadField } | null {
  const at = key.lastIndexOf(FIELD_SEPARATOR);
  const field = key.slice(at + 1);
  if (at <= 0 || !(THREAD_FIELDS as readonly string[]).includes(field)) {
    return null;
  }
  return { threadId: key.slice(0, at), field: field as ThreadField };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Checks the shape of a field value a person wrote (who may write it is the
 * server's question). @returns an error sentence, or null when it is valid.
 */
export function checkFieldValue(field: ThreadField, v: unknown): string | null {
  switch (field) {
    case 'assignee':
      return v === null || (typeof v === 'string' && UUID.test(v)) ? null : 'assignee must be a person id or null';
    case 'status':
      return (THREAD_STATUSES as readonly unknown[]).includes(v) ? null : 'status must be open, pending or done';
    case 'snoozeUntil':
      return v === null || (typeof v === 'string' && ISO.test(v) && !Number.isNaN(Date.parse(v))) ? null : 'snoozeUntil must be an ISO time or null';
    case 'labels':
      return Array.isArray(v) && v.length <= MAX_LABELS && v.every((l) => typeof l === 'string' && l.trim() !== '' && l.length <= MAX_LABEL_LENGTH)
        ? null
        : `labels must be at most ${MAX_LABELS} non-empty strings of at most ${MAX_LABEL_LENGTH} characters`;
    case 'read':
      return typeof v === 'boolean' ? null : 'read must be true or false';
  }
}

/** Whether a value is `{ v, hlc }` with a string stamp. */
export function isStamped(value: unknown): value is Stamped<unknown> {
  return typeof value === 'object' && value !== null && 'v' in value && typeof (value as { hlc?: unknown }).hlc === 'string';
}
