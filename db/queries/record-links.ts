/**
 * @module db/queries/record-links
 * What hangs off a record: a deal's contacts, an account's contacts and
 * deals, a contact's deals, and explicit shares. Related lists hold only
 * records the viewer can access (`recordAccessSql`).
 */
import type { RecordType } from '../../sync/sharing';
import { insertRows } from '../bulk';
import type { Queryable } from '../types';
import { recordAccessSql } from './visibility';

export interface RecordRefRow {
  id: string;
  type: RecordType;
  name: string;
}

const REF = `r.id, r.type, r.name`;
const ORDER = `order by lower(r.name), r.id`;

/** An account (or any record) by id, if the viewer can access it. */
export async function findRecordRef(q: Queryable, viewerId: string, id: string): Promise<RecordRefRow | null> {
  const rows = await q.query<RecordRefRow>(`select ${REF} from records r where r.id = $2 and ${recordAccessSql('$1', 'r')}`, [
    viewerId,
    id,
  ]);
  return rows[0] ?? null;
}

/** Records of `type` whose account is `accountId` (an account's contacts or deals). */
export async function listByAccount(
  q: Queryable,
  viewerId: string,
  accountId: string,
  type: 'contact' | 'deal',
): Promise<RecordRefRow[]> {
  return q.query<RecordRefRow>(
    `select ${REF} from records r where r.account_id = $2 and r.type = $3 and ${recordAccessSql('$1', 'r')} ${ORDER}`,
    [viewerId, accountId, type],
  );
}

/** A deal's contacts. */
export async function listDealContacts(q: Queryable, viewerId: string, dealId: string): Promise<RecordRefRow[]> {
  return q.query<RecordRefRow>(
    `select ${REF} from deal_contacts dc join records r on r.id = dc.contact_id
     where dc.deal_id = $2 and ${recordAccessSql('$1', 'r')} ${ORDER}`,
    [viewerId, dealId],
  );
}

/** A contact's deals. */
export async function listContactDeals(q: Queryable, viewerId: string, contactId: string): Promise<RecordRefRow[]> {
  return q.query<RecordRefRow>(
    `select ${REF} from deal_contacts dc join records r on r.id = dc.deal_id
     where dc.contact_id = $2 and ${recordAccessSql('$1', 'r')} ${ORDER}`,
    [viewerId, contactId],
  );
}

/**
 * Replaces the contacts of a deal that the editor can see; links to contacts
 * the editor cannot access stay, so an edit never drops what it could not show.
 */
export async function replaceDealContacts(
  q: Queryable,
  viewerId: string,
  dealId: string,
  contactIds: readonly string[],
): Promise<void> {
  await q.query(
    `delete from deal_contacts dc using records r
     where dc.deal_id = $2 and r.id = dc.contact_id and ${recordAccessSql('$1', 'r')}`,
    [viewerId, dealId],
  );
  await insertRows(
    q,
    'deal_contacts',
    ['deal_id', 'contact_id'],
    contactIds.map((id) => [dealId, id]),
    'on conflict do nothing',
  );
}

export interface RecordSharesRow {
  userIds: string[];
  groupIds: string[];
}

export async function listRecordShares(q: Queryable, recordId: string): Promise<RecordSharesRow> {
  const rows = await q.query<{ userId: string | null; groupId: string | null }>(
    `select user_id as "userId", group_id as "groupId" from record_shares where record_id = $1
     order by user_id nulls last, group_id`,
    [recordId],
  );
  return {
    userIds: rows.flatMap((r) => (r.userId ? [r.userId] : [])),
    groupIds: rows.flatMap((r) => (r.groupId ? [r.groupId] : [])),
  };
}

export async function replaceRecordShares(q: Queryable, recordId: string, shares: RecordSharesRow): Promise<void> {
  await q.query('delete from record_shares where record_id = $1', [recordId]);
  const rows = [
    ...shares.userIds.map((id) => [recordId, id, null]),
    ...shares.groupIds.map((id) => [recordId, null, id]),
  ];
  await insertRows(q, 'record_shares', ['record_id', 'user_id::uuid', 'group_id::uuid'], rows);
}

/** Which of `userIds` are people of the organization. */
export async function peopleOfOrg(q: Queryable, orgId: string, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) {
    return new Set();
  }
  const rows = await q.query<{ id: string }>('select id from users where org_id = $1 and id = any($2::uuid[])', [
    orgId,
    userIds,
  ]);
  return new Set(rows.map((r) => r.id));
}

/** Which of `groupIds` are groups of the organization. */
export async function groupsOfOrg(q: Queryable, orgId: string, groupIds: readonly string[]): Promise<Set<string>> {
  if (groupIds.length === 0) {
    return new Set();
  }
  const rows = await q.query<{ id: string }>('select id from groups where org_id = $1 and id = any($2::uuid[])', [
    orgId,
    groupIds,
  ]);
  return new Set(rows.map((r) => r.id));
}

/** Active people of the organization whose email or name (any case) is one of `refs`, for CSV owner columns. */
export async function activePeopleMatching(
  q: Queryable,
  orgId: string,
  refs: readonly string[],
): Promise<{ id: string; email: string; name: string }[]> {
  if (refs.length === 0) {
    return [];
  }
  return q.query(
    `select id, email, name from users where org_id = $1 and active
       and (email = any($2::text[]) or lower(name) = any($2::text[]))`,
    [orgId, refs.map((r) => r.toLowerCase())],
  );
}
