/**
 * @module server/commands/record-detail
 * Reading records: one record with everything its page shows, and the list.
 * Related lists come from queries that filter by record access, so a page
 * never names a record the viewer could not open.
 */
import { listRecordEmails } from '../../db/queries/record-emails';
import {
  findRecordRef,
  listByAccount,
  listContactDeals,
  listDealContacts,
  listRecordShares,
  type RecordRefRow,
  type RecordSharesRow,
} from '../../db/queries/record-links';
import { listRecords, type RecordFilters, type RecordRow } from '../../db/queries/records';
import { findShareFlag } from '../../db/queries/share-flags';
import type { Queryable } from '../../db/types';
import type { Auth } from '../context';
import { accessibleRecordOrThrow, canManageRecord } from './records';

export interface RecordDetail {
  record: RecordRow;
  secondaryEmails: string[];
  account: RecordRefRow | null;
  contacts: RecordRefRow[];
  deals: RecordRefRow[];
  shares: RecordSharesRow;
  myShareFlag: boolean;
  canManage: boolean;
}

async function related(q: Queryable, viewerId: string, record: RecordRow): Promise<{ contacts: RecordRefRow[]; deals: RecordRefRow[] }> {
  switch (record.type) {
    case 'account':
      return {
        contacts: await listByAccount(q, viewerId, record.id, 'contact'),
        deals: await listByAccount(q, viewerId, record.id, 'deal'),
      };
    case 'deal':
      return { contacts: await listDealContacts(q, viewerId, record.id), deals: [] };
    case 'contact':
      return { contacts: [], deals: await listContactDeals(q, viewerId, record.id) };
    case 'lead':
      return { contacts: [], deals: [] };
  }
}

/**
 * One record with its addresses, links, shares and the viewer's own share flag.
 * @throws {HttpError} 404 when the viewer cannot access it.
 */
export async function getRecordDetail(q: Queryable, auth: Auth, id: string): Promise<RecordDetail> {
  const viewerId = auth.user.id;
  const record = await accessibleRecordOrThrow(q, auth, id);
  const emails = await listRecordEmails(q, id);
  const account = record.accountId ? await findRecordRef(q, viewerId, record.accountId) : null;
  const { contacts, deals } = await related(q, viewerId, record);
  const flag = await findShareFlag(q, viewerId, id);
  return {
    record,
    secondaryEmails: emails.filter((e) => !e.isPrimary).map((e) => e.address),
    account,
    contacts,
    deals,
    shares: await listRecordShares(q, id),
    myShareFlag: flag?.shared ?? false,
    canManage: await canManageRecord(q, auth, record),
  };
}

/** A page of the records the viewer can access, with the cursor of the next page. */
export async function listAccessibleRecords(
  q: Queryable,
  auth: Auth,
  filters: RecordFilters,
): Promise<{ rows: RecordRow[]; total: number; nextOffset: number | null }> {
  const { rows, total } = await listRecords(q, auth.user.id, auth.user.orgId, filters);
  const end = filters.offset + rows.length;
  return { rows, total, nextOffset: rows.length > 0 && end < total ? end : null };
}
