/**
 * @module db/queries/outbound
 * Mail composed in Shoal (`outbound_messages`, keyed by the client's
 * idempotency id) and the message reads and flag writes that sending,
 * replying and "mark as read" need. State changes are conditional updates,
 * so two requests racing on one id can never both move a row to `sending`.
 */
import type { OutboundStatus } from '../../sync/api';
import type { Queryable } from '../types';
import { insertMessage, insertParticipants, type NewMessage } from './messages';
import { insertThread, recordMessageIds, recordThreadDecision, touchThread } from './threads';

export interface OutboundRow {
  id: string;
  orgId: string;
  accountId: string;
  authorId: string;
  threadId: string | null;
  headerMessageId: string;
  status: OutboundStatus;
  raw: Uint8Array;
  error: string | null;
  attempts: number;
  sentAt: Date | null;
  appendedAt: Date | null;
  /** The `messages` row the send produced (or was linked to), once sent. */
  storedMessageId: string | null;
}

const COLUMNS = `o.id, o.org_id as "orgId", o.account_id as "accountId", o.author_id as "authorId", o.thread_id as "threadId",
  o.header_message_id as "headerMessageId", o.status, o.raw, o.error, o.attempts, o.sent_at as "sentAt",
  o.appended_at as "appendedAt",
  (select m.id from messages m where m.org_id = o.org_id and m.header_message_id = o.header_message_id
     and m.account_id = o.account_id and m.sent_from_shoal limit 1) as "storedMessageId"`;

/** Reads one send by its idempotency id. */
export async function findOutbound(q: Queryable, id: string): Promise<OutboundRow | null> {
  const rows = await q.query<OutboundRow>(`select ${COLUMNS} from outbound_messages o where o.id = $1`, [id]);
  return rows[0] ?? null;
}

/**
 * Records a composed message as `queued`.
 * @returns false when a row with this id already exists (a concurrent request with the same key won).
 */
export async function insertOutbound(
  q: Queryable,
  o: { id: string; orgId: string; accountId: string; authorId: string; threadId: string | null; headerMessageId: string; raw: Uint8Array },
): Promise<boolean> {
  const rows = await q.query(
    `insert into outbound_messages (id, org_id, account_id, author_id, thread_id, header_message_id, raw)
     values ($1, $2, $3, $4, $5, $6, $7) on conflict (id) do nothing returning id`,
    [o.id, o.orgId, o.accountId, o.authorId, o.threadId, o.headerMessageId, o.raw],
  );
  return rows.length > 0;
}

/**
 * Takes a send for delivery: `queued` or `failed` → `sending`. Postgres
 * re-checks the condition after waiting on the row lock, so of two racing
 * callers exactly one gets the row back.
 * @returns the claimed row's raw message, or null when someone else has it (or it was sent).
 */
export async function claimOutbound(q: Queryable, id: string): Promise<Uint8Array | null> {
  const rows = await q.query<{ raw: Uint8Array }>(
    `update outbound_messages set status = 'sending', attempts = attempts + 1, error = null
     where id = $1 and status in ('queued', 'failed') returning raw`,
    [id],
  );
  return rows[0]?.raw ?? null;
}

/** Marks a claimed send delivered; `note` keeps recipients the server did not accept. */
export async function markOutboundSent(q: Queryable, id: string, threadId: string, at: Date, note: string | null): Promise<void> {
  await q.query(`update outbound_messages set status = 'sent', thread_id = $2, sent_at = $3, error = $4 where id = $1`, [
    id,
    threadId,
    at,
    note,
  ]);
}

/** Marks a claimed send failed: nothing was delivered, so a retry may send it. */
export async function markOutboundFailed(q: Queryable, id: string, error: string): Promise<void> {
  await q.query(`update outbound_messages set status = 'failed', error = $2 where id = $1 and status = 'sending'`, [id, error]);
}

/** Keeps a send in `sending` with the reason delivery could not be confirmed: it is never retried on its own. */
export async function markOutboundUnconfirmed(q: Queryable, id: string, error: string): Promise<void> {
  await q.query(`update outbound_messages set error = $2 where id = $1 and status = 'sending'`, [id, error]);
}

/** Records the APPEND to the server's Sent folder. */
export async function markOutboundAppended(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query('update outbound_messages set appended_at = $2 where id = $1', [id, at]);
}

/** The account's Sent folder, as sync discovered it (SPECIAL-USE \\Sent). */
export async function findSentFolder(q: Queryable, accountId: string): Promise<{ path: string } | null> {
  const rows = await q.query<{ path: string }>(
    `select path from mail_folders where account_id = $1 and role = 'sent' and selectable order by path limit 1`,
    [accountId],
  );
  return rows[0] ?? null;
}

/** A message of the account with this Message-ID (whatever its key), to link a send to instead of copying it. */
export async function findMessageByHeaderId(
  q: Queryable,
  orgId: string,
  accountId: string,
  headerMessageId: string,
): Promise<{ id: string; threadId: string } | null> {
  const rows = await q.query<{ id: string; threadId: string }>(
    `select id, thread_id as "threadId" from messages where org_id = $1 and header_message_id = $2 and account_id = $3
     order by sent_from_shoal desc, created_at limit 1`,
    [orgId, headerMessageId, accountId],
  );
  return rows[0] ?? null;
}

/**
 * The message Shoal stored when it sent this Message-ID, for sync to link
 * the server's copy to when that copy has a server id (`id:` key) instead of
 * the `mid:` key the send used.
 */
export async function findSentFromShoal(q: Queryable, accountId: string, headerMessageId: string): Promise<string | null> {
  const rows = await q.query<{ id: string }>(
    `select id from messages where account_id = $1 and message_key = $2 and sent_from_shoal`,
    [accountId, `mid:${headerMessageId}`],
  );
  return rows[0]?.id ?? null;
}

/** A message Shoal sent, as sync needs it to recognise the server's copies of it. */
export interface SentFromShoalRow {
  id: string;
  headerMessageId: string;
  messageKey: string;
  fromAddress: string | null;
}

/**
 * The messages Shoal sent from this account with any of these Message-IDs,
 * whatever their key by now: one query per stored batch.
 */
export async function findSentFromShoalByHeaderIds(
  q: Queryable,
  orgId: string,
  accountId: string,
  headerMessageIds: readonly string[],
): Promise<SentFromShoalRow[]> {
  if (headerMessageIds.length === 0) {
    return [];
  }
  return q.query<SentFromShoalRow>(
    `select id, header_message_id as "headerMessageId", message_key as "messageKey", from_address as "fromAddress"
     from messages where org_id = $1 and header_message_id = any($3::text[]) and account_id = $2 and sent_from_shoal`,
    [orgId, accountId, [...new Set(headerMessageIds)]],
  );
}

/** Flags a stored message as sent from Shoal (also when sync stored the provider's copy first). */
export async function markSentFromShoal(q: Queryable, messageId: string): Promise<void> {
  await q.query(`update messages set sent_from_shoal = true, direction = 'outbound' where id = $1`, [messageId]);
}

/**
 * Re-keys a sent message to the server's stable id (`id:<emailId>`), the key
 * sync will compute for its copy. Skipped when sync already stored that key.
 */
export async function rekeyMessage(
  q: Queryable,
  accountId: string,
  messageId: string,
  emailId: string,
  gmThreadId: string | null = null,
): Promise<void> {
  await q.query(
    `update messages set message_key = $3, email_id = $4, gm_thread_id = coalesce($5, gm_thread_id) where id = $1 and account_id = $2
       and not exists (select 1 from messages o where o.account_id = $2 and o.message_key = $3)`,
    [messageId, accountId, `id:${emailId}`, emailId, gmThreadId],
  );
}

/** A message sent from Shoal, ready to store: the row, its participants and its thread. */
export interface SentMessageInput {
  message: NewMessage;
  raw: Uint8Array;
  participants: { address: string; role: string }[];
  /** Create the thread first (a new conversation), with this subject. */
  newThread: { subject: string; normalizedSubject: string } | null;
}

/**
 * Stores a message just sent, as sync would (participants, Message-IDs,
 * thread decision, thread counters), flagged `sent_from_shoal`.
 */
export async function insertSentMessage(q: Queryable, s: SentMessageInput): Promise<void> {
  const m = s.message;
  if (s.newThread) {
    await insertThread(q, { id: m.threadId, orgId: m.orgId, ...s.newThread });
  }
  await insertMessage(q, m, s.raw);
  await markSentFromShoal(q, m.id);
  await insertParticipants(q, m.id, s.participants);
  await recordMessageIds(q, m.orgId, m.threadId, m.id, m.headerMessageId, [...(m.inReplyTo ? [m.inReplyTo] : []), ...m.references]);
  await recordThreadDecision(q, {
    orgId: m.orgId,
    messageId: m.id,
    threadId: m.threadId,
    reason: s.newThread ? 'new_thread' : 'own_message_id',
    detail: { sentFromShoal: true },
  });
  await touchThread(q, m.threadId, m.receivedAt);
}

/** A thread id made live: a merged thread answers with the thread it was merged into; null when gone. */
export async function liveThreadId(q: Queryable, threadId: string): Promise<string | null> {
  const rows = await q.query<{ id: string }>('select coalesce(merged_into, id) as id from threads where id = $1', [threadId]);
  return rows[0]?.id ?? null;
}

interface StoredAddress {
  address: string;
  name: string;
}

/** What replying to or forwarding a message needs from it. */
export interface ParentMessageRow {
  id: string;
  accountId: string;
  threadId: string;
  headerMessageId: string | null;
  references: string[];
  subject: string;
  fromAddress: string | null;
  fromName: string | null;
  to: StoredAddress[];
  cc: StoredAddress[];
  replyTo: StoredAddress[];
  sentAt: Date | null;
  receivedAt: Date;
  textBody: string | null;
  attachments: { filename: string | null; contentType: string; size: number }[];
  direction: 'inbound' | 'outbound';
}

/** A message in one of the person's own mailboxes, or null (also for anyone else's). */
export async function findOwnedMessage(q: Queryable, ownerId: string, messageId: string): Promise<ParentMessageRow | null> {
  const rows = await q.query<ParentMessageRow>(
    `select m.id, m.account_id as "accountId", m.thread_id as "threadId", m.header_message_id as "headerMessageId",
       m."references", m.subject, m.from_address as "fromAddress", m.from_name as "fromName", m.to_addresses as "to",
       m.cc_addresses as cc, m.reply_to as "replyTo", m.sent_at as "sentAt",
       m.received_at as "receivedAt", m.text_body as "textBody", m.attachments as attachments, m.direction
     from messages m join mail_accounts a on a.id = m.account_id
     where m.id = $1 and a.owner_id = $2`,
    [messageId, ownerId],
  );
  return rows[0] ?? null;
}

/** The raw RFC 822 bytes of a stored message. */
export async function findMessageRaw(q: Queryable, messageId: string): Promise<Uint8Array | null> {
  const rows = await q.query<{ raw: Uint8Array }>('select raw from message_raw where message_id = $1', [messageId]);
  return rows[0]?.raw ?? null;
}

/** One server copy of a message. */
export interface LocationRow {
  folderId: string;
  path: string;
  uidvalidity: number;
  uid: number;
  flags: string[];
}

/** Where a message sits on the server, by folder. */
export async function listLocations(q: Queryable, messageId: string): Promise<LocationRow[]> {
  return q.query<LocationRow>(
    `select l.folder_id as "folderId", f.path, l.uidvalidity, l.uid, l.flags
     from message_locations l join mail_folders f on f.id = l.folder_id
     where l.message_id = $1 order by f.path, l.uid`,
    [messageId],
  );
}

/** Sets or clears \\Seen on a message and on the given locations, keeping their other flags. */
export async function setSeen(
  q: Queryable,
  messageId: string,
  seen: boolean,
  locations: readonly Pick<LocationRow, 'folderId' | 'uidvalidity' | 'uid'>[],
): Promise<void> {
  const flagsExpr = seen
    ? `case when '\\Seen' = any(flags) then flags else array_append(flags, '\\Seen') end`
    : `array_remove(flags, '\\Seen')`;
  await q.query(`update messages set seen = $2, flags = ${flagsExpr} where id = $1`, [messageId, seen]);
  for (const l of locations) {
    await q.query(`update message_locations set flags = ${flagsExpr} where folder_id = $1 and uidvalidity = $2 and uid = $3`, [
      l.folderId,
      l.uidvalidity,
      l.uid,
    ]);
  }
}
