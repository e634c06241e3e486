/**
 * @module db/queries/projection-audience
 * Who a domain change concerns, for the sync fan-out: the threads a change
 * touches and the people who can see a message of them. Visibility comes
 * from `visibleMessageIdsSql` only.
 */
import type { Queryable } from '../types';
import { visibleMessageIdsSql } from './visibility';

/**
 * Of `candidateIds` (people of `orgId`), the active ones who can see some
 * present message of these threads.
 */
export async function listThreadAudience(
  q: Queryable,
  orgId: string,
  candidateIds: readonly string[],
  threadIds: readonly string[],
): Promise<string[]> {
  if (candidateIds.length === 0 || threadIds.length === 0) {
    return [];
  }
  const rows = await q.query<{ id: string }>(
    // The alias must not be one the visibility SQL uses inside (u, vu, m, a, …), or the viewer binds to the wrong row.
    `select audience.id from users audience
     where audience.org_id = $1 and audience.active and audience.id = any($2::uuid[])
       and exists (select 1 from messages tm where tm.thread_id = any($3::uuid[]) and tm.orphaned_at is null
         and tm.id in ${visibleMessageIdsSql('audience.id', 'audience.org_id', 'm.thread_id = any($3::uuid[])')})`,
    [orgId, candidateIds, threadIds],
  );
  return rows.map((r) => r.id);
}

/** Threads of a stored batch, plus threads merged into them (now empty, so they must leave documents). */
export async function listThreadsOfBatch(
  q: Queryable,
  batch: { folderId: string; uidvalidity: number; uids: readonly number[] },
): Promise<string[]> {
  if (batch.uids.length === 0) {
    return [];
  }
  const rows = await q.query<{ id: string }>(
    `with batch as (
       select distinct m.thread_id as id from message_locations l join messages m on m.id = l.message_id
       where l.folder_id = $1 and l.uidvalidity = $2 and l.uid = any($3::bigint[])
     )
     select id from batch union select t.id from threads t where t.merged_into in (select id from batch)`,
    [batch.folderId, batch.uidvalidity, batch.uids],
  );
  return rows.map((r) => r.id);
}

/** The threads of stored messages (present or orphaned: an expunged message's thread must be re-read too). */
export async function listThreadsOfMessages(q: Queryable, messageIds: readonly string[]): Promise<string[]> {
  const rows = await q.query<{ id: string }>('select distinct thread_id as id from messages where id = any($1::uuid[])', [messageIds]);
  return rows.map((r) => r.id);
}

/** Threads merged into these ones (their messages moved, so documents must drop them). */
export async function listMergedThreads(q: Queryable, threadIds: readonly string[]): Promise<string[]> {
  if (threadIds.length === 0) {
    return [];
  }
  const rows = await q.query<{ id: string }>('select id from threads where merged_into = any($1::uuid[])', [threadIds]);
  return rows.map((r) => r.id);
}

/** Threads with a message in one of the owner's mailboxes linked to the record: what their share flag for it decides. */
export async function listThreadsFlaggable(q: Queryable, ownerId: string, recordId: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `select distinct m.thread_id as id from messages m join mail_accounts a on a.id = m.account_id
       join message_record_links l on l.message_id = m.id
     where a.owner_id = $1 and l.record_id = $2`,
    [ownerId, recordId],
  );
  return rows.map((r) => r.id);
}

/** Threads with a message in one of the person's mailboxes: what their sharing setting decides. */
export async function listThreadsOfOwner(q: Queryable, ownerId: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `select distinct m.thread_id as id from messages m join mail_accounts a on a.id = m.account_id where a.owner_id = $1`,
    [ownerId],
  );
  return rows.map((r) => r.id);
}

/**
 * Threads whose visibility or lane a change to the record can move: those
 * linked to it, and, because a thread's lane follows open deals, those
 * linked to a deal's contacts or account.
 */
export async function listThreadsAboutRecord(q: Queryable, recordId: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `with related as (
       select $1::uuid as id
       union select dc.contact_id from deal_contacts dc where dc.deal_id = $1::uuid
       union select r.account_id from records r where r.id = $1::uuid and r.account_id is not null
     )
     select distinct m.thread_id as id from message_record_links l join messages m on m.id = l.message_id
     where l.record_id in (select id from related)`,
    [recordId],
  );
  return rows.map((r) => r.id);
}

/**
 * Threads whose first message is older than `since`: for them a status or
 * assignee change can move them in or out of a working set (newer ones are
 * in by their activity whatever their fields).
 */
export async function listThreadsStartedBefore(q: Queryable, threadIds: readonly string[], since: Date): Promise<string[]> {
  if (threadIds.length === 0) {
    return [];
  }
  const rows = await q.query<{ id: string }>(
    `select thread_id as id from messages where thread_id = any($1::uuid[])
     group by thread_id having min(coalesce(sent_at, received_at)) < $2`,
    [threadIds, since],
  );
  return rows.map((r) => r.id);
}

/** The organization of threads, a record, a person or a mailbox (null when it is gone). */
export async function findOrgOf(
  q: Queryable,
  of: { threadIds?: readonly string[]; recordId?: string; userId?: string; accountId?: string },
): Promise<string | null> {
  const rows = await q.query<{ orgId: string }>(
    `select org_id as "orgId" from threads where id = any($1::uuid[])
     union all select org_id from records where id = $2::uuid
     union all select org_id from users where id = $3::uuid
     union all select org_id from mail_accounts where id = $4::uuid
     limit 1`,
    [of.threadIds ?? [], of.recordId ?? null, of.userId ?? null, of.accountId ?? null],
  );
  return rows[0]?.orgId ?? null;
}

/** The owner of a mailbox. */
export async function findAccountOwner(q: Queryable, accountId: string): Promise<string | null> {
  const rows = await q.query<{ ownerId: string }>('select owner_id as "ownerId" from mail_accounts where id = $1', [accountId]);
  return rows[0]?.ownerId ?? null;
}
