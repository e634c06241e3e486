/**
 * @module db/queries/projection
 * What a person's sync document holds, read in bulk: the working set of
 * threads with summaries over VISIBLE messages only, canonical field values,
 * share flags, record summaries, the directory and mailbox progress. Every
 * thread read starts from `visibleMessageIdsSql` and every record read from
 * `recordAccessSql`; nothing here decides access on its own.
 */
import type { Queryable } from '../types';
import { recordAccessSql, visibleMessageIdsSql } from './visibility';

export interface WorkingSetQuery {
  viewerId: string;
  orgId: string;
  /** Threads with visible activity since then belong, whatever their status. */
  since: Date;
  /** The cap: newest first. */
  limit: number;
  /** Only these threads (candidates among them, newest first). Null: the whole organization. */
  threadIds: readonly string[] | null;
}

export interface ProjectionThreadRow {
  id: string;
  subject: string;
  snippet: string;
  lastMessageAt: Date;
  messageCount: number;
  unreadCount: number;
  fromAddress: string | null;
  fromName: string | null;
  participants: { address: string; name: string | null }[];
  mailboxOwnerIds: string[];
  recordIds: string[];
  lane: 'deals' | 'contacts_leads' | 'not_in_crm' | 'colleagues';
}

/** At most this many participants per thread summary: the list shows a few names, not a mailing list. */
export const MAX_PARTICIPANTS = 10;

/**
 * `visible` (the viewer's present visible messages, of the `$5` threads when
 * scoped, narrowed before the rules run) and `chosen` (the working set, capped).
 */
function workingSetCtes(scoped: boolean): string {
  const among = scoped ? 'm.thread_id = any($5::uuid[])' : 'true';
  return `visible as materialized (
       select m.id, m.thread_id, m.account_id, m.subject, m.snippet, m.from_address, m.from_name, m.seen,
         coalesce(m.sent_at, m.received_at) as at
       from messages m
       where m.org_id = $2 and m.orphaned_at is null and (${among})
         and m.id in ${visibleMessageIdsSql('$1::uuid', '$2::uuid', among)}
     ),
     chosen as (
       select r.id, r.last_at from (select v.thread_id as id, max(v.at) as last_at from visible v group by v.thread_id) r
       left join thread_fields s on s.thread_id = r.id and s.field = 'status'
       left join thread_fields a on a.thread_id = r.id and a.field = 'assignee'
       where coalesce(s.value #>> '{}', 'open') = 'open' or a.value #>> '{}' = $1::text or r.last_at >= $3
       order by r.last_at desc, r.id desc
       limit $4
     )`;
}

function workingSetParams(w: WorkingSetQuery): unknown[] {
  return [w.viewerId, w.orgId, w.since, w.limit, ...(w.threadIds === null ? [] : [w.threadIds])];
}

/**
 * A thread's lane, set-shaped: the rules of `LANE_SQL` (db/queries/mail-views.ts,
 * kept equal by a test) over every chosen thread at once, instead of three
 * subplans per thread, which cost seconds on a 5,000-thread document.
 * deals: a linked deal, or a linked contact in an open deal, or a linked
 * account with an open deal; contacts_leads: any other link; colleagues: no
 * other party outside the organization's people and mailboxes; else not_in_crm.
 *
 * `others` and `links` are the views message_other_parties and
 * message_record_links (migration 0003) written out over the chosen messages
 * only: a view with DISTINCT is computed for the whole organization first.
 */
const LANE_CTES = `others as materialized (
       select distinct v.thread_id, p.address
       from visible v join chosen c on c.id = v.thread_id
         join message_participants p on p.message_id = v.id join mail_accounts a on a.id = v.account_id
       where p.address <> a.email
         and not exists (select 1 from mail_account_addresses own where own.account_id = v.account_id and own.address = p.address)
     ),
     links as materialized (
       select distinct o.thread_id, re.record_id from others o join record_emails re on re.org_id = $2 and re.address = o.address
     ),
     dealish as (
       select distinct k.thread_id from links k join records r on r.id = k.record_id
       where r.type = 'deal'
         or exists (select 1 from deal_contacts dc join records d on d.id = dc.deal_id where dc.contact_id = r.id and d.stage = 'open')
         or exists (select 1 from records d where d.account_id = r.id and d.type = 'deal' and d.stage = 'open')
     ),
     outsiders as (
       select distinct o.thread_id from others o
       where o.address not in (select email from users where org_id = $2)
         and o.address not in (select f.address from mail_account_addresses f join mail_accounts x on x.id = f.account_id where x.org_id = $2)
     ),
     lanes as (
       select c.id, case when d.thread_id is not null then 'deals' when k.thread_id is not null then 'contacts_leads'
         when o.thread_id is null then 'colleagues' else 'not_in_crm' end as lane
       from chosen c
         left join dealish d on d.thread_id = c.id
         left join (select distinct thread_id from links) k on k.thread_id = c.id
         left join outsiders o on o.thread_id = c.id
     )`;


/**
 * The threads of a person's working set with their summaries: threads where
 * they see a message, that are open (no status yet counts as open), assigned
 * to them, or active since `since`; newest visible activity first, capped.
 * Every summary value comes from the viewer's visible messages only.
 */
export async function listWorkingSetThreads(q: Queryable, w: WorkingSetQuery): Promise<ProjectionThreadRow[]> {
  return q.query<ProjectionThreadRow>(
    `with ${workingSetCtes(w.threadIds !== null)},
     ${LANE_CTES},
     grouped as (
       select v.thread_id as id, count(*)::int as "messageCount",
         (count(*) filter (where not v.seen and a.owner_id = $1::uuid))::int as "unreadCount",
         (array_agg(v.subject order by v.at, v.id))[1] as subject,
         (array_agg(v.snippet order by v.at desc, v.id desc))[1] as snippet,
         (array_agg(v.from_address order by v.at desc, v.id desc))[1] as "fromAddress",
         (array_agg(v.from_name order by v.at desc, v.id desc))[1] as "fromName",
         array_agg(distinct a.owner_id::text) as "mailboxOwnerIds"
       from visible v join chosen c on c.id = v.thread_id join mail_accounts a on a.id = v.account_id
       group by v.thread_id
     ),
     parts as (
       select x.thread_id, json_agg(json_build_object('address', x.address, 'name', x.name) order by x.first_at, x.address) as list
       from (
         select v.thread_id, p.address, max(case when v.from_address = p.address then v.from_name end) as name, min(v.at) as first_at,
           row_number() over (partition by v.thread_id order by min(v.at), p.address) as n
         from visible v join chosen c on c.id = v.thread_id join message_participants p on p.message_id = v.id
         group by v.thread_id, p.address
       ) x
       where x.n <= ${MAX_PARTICIPANTS}
       group by x.thread_id
     ),
     recs as (
       select k.thread_id, array_agg(distinct k.record_id::text) as ids
       from links k join records r on r.id = k.record_id
       where ${recordAccessSql('$1::uuid', 'r')}
       group by k.thread_id
     )
     select g.id, g.subject, g.snippet, c.last_at as "lastMessageAt", g."messageCount", g."unreadCount", g."fromAddress", g."fromName",
       coalesce(p.list, '[]'::json) as participants, g."mailboxOwnerIds", coalesce(r.ids, '{}') as "recordIds", l.lane
     from grouped g join chosen c on c.id = g.id join lanes l on l.id = g.id
       left join parts p on p.thread_id = g.id left join recs r on r.thread_id = g.id
     order by c.last_at desc, g.id desc`,
    workingSetParams(w),
  );
}

/** The ids of the working set only (no summaries), newest first. */
export async function listWorkingSetIds(q: Queryable, w: WorkingSetQuery): Promise<string[]> {
  const rows = await q.query<{ id: string }>(`with ${workingSetCtes(w.threadIds !== null)} select id from chosen order by last_at desc, id desc`, workingSetParams(w));
  return rows.map((r) => r.id);
}

/** Threads with a message linked to the record, whoever may see them (callers filter by visibility). */
export async function listThreadsLinkedTo(q: Queryable, recordId: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `select distinct m.thread_id as id from message_record_links l join messages m on m.id = l.message_id where l.record_id = $1`,
    [recordId],
  );
  return rows.map((r) => r.id);
}

export interface FieldValueRow {
  threadId: string;
  field: string;
  value: unknown;
  hlc: string;
}

/** Canonical shared fields of these threads and the viewer's own personal ones (`read`). Absent rows are defaults. */
export async function listFieldValues(q: Queryable, viewerId: string, threadIds: readonly string[]): Promise<FieldValueRow[]> {
  if (threadIds.length === 0) {
    return [];
  }
  return q.query<FieldValueRow>(
    `select thread_id as "threadId", field, value, hlc from thread_fields where thread_id = any($1::uuid[])
     union all
     select thread_id, field, value, hlc from thread_user_fields where user_id = $2 and thread_id = any($1::uuid[])`,
    [threadIds, viewerId],
  );
}

/** Canonical shared fields of these threads (everyone who sees a thread sees the same values). */
export async function listSharedFieldValues(q: Queryable, threadIds: readonly string[]): Promise<FieldValueRow[]> {
  if (threadIds.length === 0) {
    return [];
  }
  return q.query<FieldValueRow>(`select thread_id as "threadId", field, value, hlc from thread_fields where thread_id = any($1::uuid[])`, [threadIds]);
}

/** Personal fields of several people (fan-out of a `read` change to whoever holds the thread). */
export async function listPersonalFieldValues(
  q: Queryable,
  userIds: readonly string[],
  threadIds: readonly string[],
): Promise<(FieldValueRow & { userId: string })[]> {
  if (userIds.length === 0 || threadIds.length === 0) {
    return [];
  }
  return q.query<FieldValueRow & { userId: string }>(
    `select user_id as "userId", thread_id as "threadId", field, value, hlc from thread_user_fields
     where user_id = any($1::uuid[]) and thread_id = any($2::uuid[])`,
    [userIds, threadIds],
  );
}

export interface ProjectionRecordRow {
  id: string;
  type: 'lead' | 'contact' | 'account' | 'deal';
  name: string;
  company: string;
  ownerId: string;
  primaryEmail: string | null;
}

/** Summaries of these records (and, with `owned`, every record the viewer owns), accessible ones only. */
export async function listProjectionRecords(
  q: Queryable,
  viewerId: string,
  recordIds: readonly string[],
  owned: boolean,
): Promise<ProjectionRecordRow[]> {
  return q.query<ProjectionRecordRow>(
    `select r.id, r.type, r.name, r.company, r.owner_id as "ownerId",
       (select e.address from record_emails e where e.record_id = r.id and e.is_primary) as "primaryEmail"
     from records r
     where (r.id = any($2::uuid[]) or ($3 and r.owner_id = $1::uuid))
       and r.org_id = (select org_id from users where id = $1::uuid)
       and ${recordAccessSql('$1::uuid', 'r')}`,
    [viewerId, recordIds, owned],
  );
}

/** Ids of the records the viewer owns. */
export async function listOwnedRecordIds(q: Queryable, viewerId: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>('select id from records where owner_id = $1', [viewerId]);
  return rows.map((r) => r.id);
}

export interface ProjectionShareFlagRow {
  recordId: string;
  shared: boolean;
  hlc: string;
}

/** The viewer's own share flags for records they can access (all, or these records). */
export async function listOwnShareFlags(q: Queryable, viewerId: string, recordIds: readonly string[] | null): Promise<ProjectionShareFlagRow[]> {
  return q.query<ProjectionShareFlagRow>(
    `select f.record_id as "recordId", f.shared, f.hlc from email_share_flags f join records r on r.id = f.record_id
     where f.owner_id = $1 and ($2::uuid[] is null or f.record_id = any($2::uuid[])) and ${recordAccessSql('$1::uuid', 'r')}`,
    [viewerId, recordIds],
  );
}

export interface DirectoryRow {
  id: string;
  name: string;
  email: string;
  role: 'admin' | 'manager' | 'rep';
  managerId: string | null;
  active: boolean;
}

/** Everyone in the organization, deactivated people included (their names still label old mail). */
export async function listDirectory(q: Queryable, orgId: string): Promise<DirectoryRow[]> {
  return q.query<DirectoryRow>(
    `select id, name, email, role, manager_id as "managerId", active from users where org_id = $1 order by id`,
    [orgId],
  );
}

export interface AccountProgressRow {
  id: string;
  email: string;
  status: string;
  done: number;
  total: number;
}

/** The person's own mailboxes with their sync status and progress. */
export async function listOwnAccountProgress(q: Queryable, ownerId: string): Promise<AccountProgressRow[]> {
  return q.query<AccountProgressRow>(
    `select id, email, status, sync_done as done, sync_total as total from mail_accounts where owner_id = $1 order by id`,
    [ownerId],
  );
}

export interface ViewerRow {
  id: string;
  orgId: string;
  active: boolean;
}

/** Organization and status of these people (unknown ids are left out). */
export async function findViewers(q: Queryable, userIds: readonly string[]): Promise<ViewerRow[]> {
  if (userIds.length === 0) {
    return [];
  }
  return q.query<ViewerRow>('select id, org_id as "orgId", active from users where id = any($1::uuid[])', [userIds]);
}

/** The epoch the host stored for a person's document, if it has one. */
export async function findDocEpoch(q: Queryable, userId: string): Promise<string | null> {
  const rows = await q.query<{ epoch: string }>('select epoch from sync_docs where user_id = $1', [userId]);
  return rows[0]?.epoch ?? null;
}
