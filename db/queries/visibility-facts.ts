/**
 * @module db/queries/visibility-facts
 * Everything the pure visibility rules need to decide about one message,
 * loaded in a few queries: the message's links, the records it is about,
 * the reporting line, groups, and its mailbox owner's sharing setting.
 * Records the message is not about are left out; the rules never ask.
 */
import type { Queryable } from '../types';

export interface VisibilityFacts {
  recordAccess: 'public' | 'private';
  people: { id: string; name: string; managerId: string | null; groupIds: string[] }[];
  records: { id: string; type: 'lead' | 'contact' | 'account' | 'deal'; name: string; ownerId: string; sharedWithUserIds: string[]; sharedWithGroupIds: string[] }[];
  sharing: { mode: 'private' | 'custom' | 'public'; excludedDomains: string[]; audience: { userIds: string[]; groupIds: string[] } | null } | null;
  flaggedRecordIds: string[];
  message: { ownerId: string; sentFromShoal: boolean; recordIds: string[]; otherPartyDomains: string[] };
}

async function loadMessage(q: Queryable, orgId: string, messageId: string): Promise<VisibilityFacts['message'] | null> {
  const rows = await q.query<VisibilityFacts['message']>(
    `select a.owner_id as "ownerId", m.sent_from_shoal as "sentFromShoal",
       coalesce((select array_agg(l.record_id::text order by l.record_id) from message_record_links l where l.message_id = m.id), '{}') as "recordIds",
       coalesce((select array_agg(distinct op.domain) from message_other_parties op where op.message_id = m.id), '{}') as "otherPartyDomains"
     from messages m join mail_accounts a on a.id = m.account_id
     where m.id = $1 and m.org_id = $2`,
    [messageId, orgId],
  );
  return rows[0] ?? null;
}

/** The facts about one message of an organization, or null when there is no such message. */
export async function loadVisibilityFacts(q: Queryable, orgId: string, messageId: string): Promise<VisibilityFacts | null> {
  const message = await loadMessage(q, orgId, messageId);
  if (!message) {
    return null;
  }
  const [org] = await q.query<{ recordAccess: 'public' | 'private' }>('select record_access as "recordAccess" from organizations where id = $1', [orgId]);
  const people = await q.query<VisibilityFacts['people'][number]>(
    `select u.id, u.name, u.manager_id as "managerId",
       coalesce((select array_agg(gm.group_id::text) from group_members gm where gm.user_id = u.id), '{}') as "groupIds"
     from users u where u.org_id = $1`,
    [orgId],
  );
  const records = await q.query<VisibilityFacts['records'][number]>(
    `select r.id, r.type, r.name, r.owner_id as "ownerId",
       coalesce((select array_agg(s.user_id::text) from record_shares s where s.record_id = r.id and s.user_id is not null), '{}') as "sharedWithUserIds",
       coalesce((select array_agg(s.group_id::text) from record_shares s where s.record_id = r.id and s.group_id is not null), '{}') as "sharedWithGroupIds"
     from records r where r.id = any($1::uuid[])`,
    [message.recordIds],
  );
  const [sharing] = await q.query<NonNullable<VisibilityFacts['sharing']> & { restricted: boolean }>(
    `select s.mode, s.excluded_domains as "excludedDomains", s.restricted,
       case when s.restricted then json_build_object(
         'userIds', coalesce((select json_agg(au.user_id) from email_sharing_audience au where au.owner_id = s.user_id and au.user_id is not null), '[]'),
         'groupIds', coalesce((select json_agg(au.group_id) from email_sharing_audience au where au.owner_id = s.user_id and au.group_id is not null), '[]'))
       end as audience
     from email_sharing s where s.user_id = $1`,
    [message.ownerId],
  );
  const flags = await q.query<{ recordId: string }>(
    'select record_id as "recordId" from email_share_flags where owner_id = $1 and shared and record_id = any($2::uuid[])',
    [message.ownerId, message.recordIds],
  );
  return {
    recordAccess: org?.recordAccess ?? 'public',
    people,
    records,
    sharing: sharing ? { mode: sharing.mode, excludedDomains: sharing.excludedDomains, audience: sharing.audience ?? null } : null,
    flaggedRecordIds: flags.map((f) => f.recordId),
    message,
  };
}
