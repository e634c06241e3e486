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
import { findAccessibleRecord, findRecordOfOrg, listRecords, type RecordFilters, type RecordRow } from '../../db/queries/records';
import { findShareFlag } from '../../db/queries/share-flags';
import type { Queryable } from '../../db/types';
import type { Auth } from '../context';
import { notFound } from '../errors';
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
  /** False only in the answer to an edit that moved the record out of its editor's reach. */
  accessible: boolean;
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
  return detailOf(q, auth, await accessibleRecordOrThrow(q, auth, id), true);
}

/**
 * The record as its editor just left it. Under Private record access an edit
 * can move a record out of its editor's reach (handing it to someone they
 * are not above); the answer then still describes what they wrote, marked
 * not accessible, instead of a 404 for a change that was made. Related
 * records are listed only as far as the editor can access them, as always.
 * @throws {HttpError} 404 when there is no such record (deleted meanwhile).
 */
export async function getEditedRecordDetail(q: Queryable, auth: Auth, id: string): Promise<RecordDetail> {
  const { id: viewerId, orgId } = auth.user;
  const accessible = await findAccessibleRecord(q, viewerId, orgId, id);
  if (accessible) {
    return detailOf(q, auth, accessible, true);
  }
  const record = await findRecordOfOrg(q, orgId, id);
  if (!record) {
    throw notFound('Record');
  }
  return detailOf(q, auth, record, false);
}

async function detailOf(q: Queryable, auth: Auth, record: RecordRow, accessible: boolean): Promise<RecordDetail> {
  const viewerId = auth.user.id;
  const id = record.id;
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
    canManage: accessible && (await canManageRecord(q, auth, record)),
    accessible,
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
