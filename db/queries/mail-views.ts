/**
 * @module db/queries/mail-views
 * Every read of mail for a person: thread lists, a thread's messages, a
 * record's emails, search and counts. Each one starts from the messages the
 * viewer may see (`visibleMessageIdsSql`), so a list, a count, a preview or a
 * search hit never includes a message the rules hide.
 */
import type { Queryable } from '../types';
import { recordAccessSql, visibleMessageIdsSql } from './visibility';

export interface MailFilter {
  viewerId: string;
  orgId: string;
  /** Only this mailbox owner's mail. */
  ownerId?: string | null;
  /** Case-insensitive text in subject, sender, snippet or body. */
  text?: string | null;
}

export interface ThreadPageQuery extends MailFilter {
  lane: 'all' | 'deals' | 'contacts_leads' | 'not_in_crm' | 'colleagues';
  limit: number;
  after: { at: Date; id: string } | null;
}

export interface ThreadRow {
  id: string;
  subject: string;
  lastMessageAt: Date;
  messageCount: number;
  unreadCount: number;
  lastMessageId: string;
}

export interface MessageRow {
  id: string;
  threadId: string;
  accountId: string;
  ownerId: string;
  ownerName: string;
  subject: string;
  fromAddress: string | null;
  fromName: string | null;
  to: { address: string; name: string | null }[];
  cc: { address: string; name: string | null }[];
  replyTo: { address: string; name: string | null }[];
  date: Date;
  snippet: string;
  seen: boolean;
  direction: 'inbound' | 'outbound';
  sentFromShoal: boolean;
}

export interface MessageBodyRow extends MessageRow {
  textBody: string | null;
  htmlBody: string | null;
  attachments: { filename: string | null; contentType: string; size: number; index?: number; partIndex?: number; contentId?: string | null }[];
}

export const MESSAGE_COLUMNS = `m.id, m.thread_id as "threadId", m.account_id as "accountId", a.owner_id as "ownerId",
  u.name as "ownerName", m.subject, m.from_address as "fromAddress", m.from_name as "fromName",
  m.to_addresses as "to", m.cc_addresses as cc, m.reply_to as "replyTo", coalesce(m.sent_at, m.received_at) as date,
  m.snippet, m.seen, m.direction, m.sent_from_shoal as "sentFromShoal"`;

/** `visible`: the viewer's visible, present messages, narrowed by the filter. Parameters $1 viewer, $2 org, $3 owner, $4 text. */
const VISIBLE_CTE = `visible as (
  select m.* from messages m
  where m.org_id = $2 and m.orphaned_at is null
    and ($3::uuid is null or m.account_id in (select id from mail_accounts where owner_id = $3::uuid))
    and ($4::text is null or m.subject ilike $4 or m.snippet ilike $4 or m.from_address ilike $4
      or coalesce(m.from_name, '') ilike $4 or coalesce(m.text_body, '') ilike $4)
    and m.id in ${visibleMessageIdsSql('$1::uuid', '$2::uuid')}
)`;

function filterParams(f: MailFilter): unknown[] {
  const text = f.text ? `%${f.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return [f.viewerId, f.orgId, f.ownerId ?? null, text];
}

/**
 * The lane of a thread, from its visible messages' links, most valuable first.
 * Use inside a query grouped by thread over visible messages `v`, with the org as `$2`.
 */
export const LANE_SQL = `case
  when exists (select 1 from message_record_links l join records r on r.id = l.record_id
    where l.message_id = any(array_agg(v.id)) and (r.type = 'deal' or exists (
      select 1 from deal_contacts dc join records d on d.id = dc.deal_id where dc.contact_id = r.id and d.stage = 'open')
      or exists (select 1 from records d where d.account_id = r.id and d.type = 'deal' and d.stage = 'open'))) then 'deals'
  when exists (select 1 from message_record_links l where l.message_id = any(array_agg(v.id))) then 'contacts_leads'
  when not exists (select 1 from message_other_parties op where op.message_id = any(array_agg(v.id))
    and op.address not in (select email from users where org_id = $2)
    and op.address not in (select f.address from mail_account_addresses f join mail_accounts x on x.id = f.account_id where x.org_id = $2))
    then 'colleagues'
  else 'not_in_crm' end`;

/** One page of threads, newest activity first, with counts over visible messages only. */
export async function listVisibleThreads(q: Queryable, p: ThreadPageQuery): Promise<ThreadRow[]> {
  const params = [...filterParams(p), p.lane, p.after?.at ?? null, p.after?.id ?? null, p.limit];
  return q.query<ThreadRow>(
    `with ${VISIBLE_CTE},
     grouped as (
       select v.thread_id as id, max(coalesce(v.sent_at, v.received_at)) as "lastMessageAt", count(*)::int as "messageCount",
         -- The subject of the first message the viewer may see, never the thread's own (its first message may be hidden).
         (array_agg(v.subject order by coalesce(v.sent_at, v.received_at), v.id))[1] as subject,
         (count(*) filter (where not v.seen and v.account_id in (select id from mail_accounts where owner_id = $1::uuid)))::int as "unreadCount",
         (array_agg(v.id order by coalesce(v.sent_at, v.received_at) desc, v.id desc))[1] as "lastMessageId",
         ${p.lane === 'all' ? `'all'` : LANE_SQL} as lane
       from visible v group by v.thread_id
     )
     select g.id, g.subject, g."lastMessageAt", g."messageCount", g."unreadCount", g."lastMessageId"
     from grouped g
     where ($5 = 'all' or g.lane = $5)
       and ($6::timestamptz is null or (g."lastMessageAt", g.id) < ($6::timestamptz, $7::uuid))
     order by g."lastMessageAt" desc, g.id desc
     limit $8`,
    params,
  );
}

/** Visible messages with their mailbox owner, by id. */
export async function visibleMessagesByIds(q: Queryable, f: MailFilter, ids: readonly string[]): Promise<MessageRow[]> {
  if (ids.length === 0) {
    return [];
  }
  return q.query<MessageRow>(
    `with ${VISIBLE_CTE}
     select ${MESSAGE_COLUMNS} from visible m join mail_accounts a on a.id = m.account_id join users u on u.id = a.owner_id
     where m.id = any($5::uuid[])`,
    [...filterParams(f), ids],
  );
}

/** A thread's visible messages, oldest first, with bodies. */
export async function visibleThreadMessages(q: Queryable, f: MailFilter, threadId: string): Promise<MessageBodyRow[]> {
  return q.query<MessageBodyRow>(
    `with ${VISIBLE_CTE}
     select ${MESSAGE_COLUMNS}, m.text_body as "textBody", m.html_body as "htmlBody", m.attachments
     from visible m join mail_accounts a on a.id = m.account_id join users u on u.id = a.owner_id
     where m.thread_id = $5
     order by coalesce(m.sent_at, m.received_at), m.id`,
    [...filterParams(f), threadId],
  );
}

/** Summary rows of visible threads' messages, for participants and owners of a page of threads. */
export async function visibleMessagesOfThreads(q: Queryable, f: MailFilter, threadIds: readonly string[]): Promise<MessageRow[]> {
  if (threadIds.length === 0) {
    return [];
  }
  return q.query<MessageRow>(
    `with ${VISIBLE_CTE}
     select ${MESSAGE_COLUMNS} from visible m join mail_accounts a on a.id = m.account_id join users u on u.id = a.owner_id
     where m.thread_id = any($5::uuid[])
     order by coalesce(m.sent_at, m.received_at), m.id`,
    [...filterParams(f), threadIds],
  );
}

export interface LinkedRecordRow {
  messageId: string;
  id: string;
  type: 'lead' | 'contact' | 'account' | 'deal';
  name: string;
}

/** Records linked to these messages that the viewer can access. */
export async function accessibleLinkedRecords(q: Queryable, viewerId: string, messageIds: readonly string[]): Promise<LinkedRecordRow[]> {
  if (messageIds.length === 0) {
    return [];
  }
  return q.query<LinkedRecordRow>(
    `select l.message_id as "messageId", r.id, r.type, r.name
     from message_record_links l join records r on r.id = l.record_id
     where l.message_id = any($2::uuid[]) and ${recordAccessSql('$1::uuid', 'r')}
     order by r.name, r.id`,
    [viewerId, messageIds],
  );
}

export interface MessagePageQuery extends MailFilter {
  limit: number;
  after: { at: Date; id: string } | null;
  /** Only messages linked to one of these records. */
  recordIds?: readonly string[] | null;
}

/** A page of visible messages, newest first (search, a record's emails). */
export async function listVisibleMessages(q: Queryable, p: MessagePageQuery): Promise<MessageRow[]> {
  return q.query<MessageRow>(
    `with ${VISIBLE_CTE}
     select ${MESSAGE_COLUMNS} from visible m join mail_accounts a on a.id = m.account_id join users u on u.id = a.owner_id
     where ($5::uuid[] is null or exists (select 1 from message_record_links l where l.message_id = m.id and l.record_id = any($5::uuid[])))
       and ($6::timestamptz is null or (coalesce(m.sent_at, m.received_at), m.id) < ($6::timestamptz, $7::uuid))
     order by coalesce(m.sent_at, m.received_at) desc, m.id desc
     limit $8`,
    [...filterParams(p), p.recordIds ?? null, p.after?.at ?? null, p.after?.id ?? null, p.limit],
  );
}

/** Mailbox owners of the visible messages linked to these records (the related list's "person" filter). */
export async function ownersOfRecordMail(q: Queryable, f: MailFilter, recordIds: readonly string[]): Promise<{ id: string; name: string }[]> {
  return q.query<{ id: string; name: string }>(
    `with ${VISIBLE_CTE}
     select distinct u.id, u.name from visible m join mail_accounts a on a.id = m.account_id join users u on u.id = a.owner_id
     where exists (select 1 from message_record_links l where l.message_id = m.id and l.record_id = any($5::uuid[]))
     order by u.name, u.id`,
    [...filterParams(f), recordIds],
  );
}

/** Totals of visible mail per mailbox owner; unread counts the viewer's own mailboxes. */
export async function countVisibleMail(q: Queryable, f: MailFilter): Promise<{ id: string; name: string; total: number; unread: number }[]> {
  return q.query<{ id: string; name: string; total: number; unread: number }>(
    `with ${VISIBLE_CTE}
     select u.id, u.name, count(*)::int as total, (count(*) filter (where not m.seen and a.owner_id = $1::uuid))::int as unread
     from visible m join mail_accounts a on a.id = m.account_id join users u on u.id = a.owner_id
     group by u.id, u.name order by u.name, u.id`,
    filterParams(f),
  );
}

/**
 * The records whose mail shows in a record's Emails list: the record itself,
 * an account's contacts and deals, a deal's contacts and account.
 * @returns null when the viewer cannot access the record.
 */
export async function recordMailScope(q: Queryable, viewerId: string, orgId: string, recordId: string): Promise<string[] | null> {
  const rows = await q.query<{ ids: string[] }>(
    `select array[r.id::text]
       || coalesce((select array_agg(x.id::text) from records x where x.account_id = r.id), '{}')
       || coalesce((select array_agg(dc.contact_id::text) from deal_contacts dc where dc.deal_id = r.id), '{}')
       || case when r.type = 'deal' and r.account_id is not null then array[r.account_id::text] else '{}'::text[] end as ids
     from records r where r.id = $2 and r.org_id = $3 and ${recordAccessSql('$1::uuid', 'r')}`,
    [viewerId, recordId, orgId],
  );
  return rows[0]?.ids ?? null;
}
