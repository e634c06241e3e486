/**
 * @module server/presenters/record
 * Record rows → the DTOs of sync/records-api.ts.
 */
import type { RecordRefRow } from '../../db/queries/record-links';
import type { RecordRow } from '../../db/queries/records';
import type { RecordRefDto } from '../../sync/mail-api';
import type { RecordDto, RecordSummaryDto } from '../../sync/records-api';
import type { RecordDetail } from '../commands/record-detail';

export function presentRecordSummary(row: RecordRow): RecordSummaryDto {
  return {
    id: row.id,
    type: row.type,
    name: row.name,
    company: row.company,
    country: row.country,
    stage: row.stage,
    owner: { id: row.ownerId, name: row.ownerName },
    primaryEmail: row.primaryEmail,
    secondaryCount: row.secondaryCount,
    accountId: row.accountId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function presentRef(row: RecordRefRow): RecordRefDto {
  return { id: row.id, type: row.type, name: row.name };
}

export function presentRecord(detail: RecordDetail): RecordDto {
  const { record } = detail;
  return {
    ...presentRecordSummary(record),
    secondaryEmails: detail.secondaryEmails,
    source: record.source,
    createdBy: record.createdBy && record.createdByName ? { id: record.createdBy, name: record.createdByName } : null,
    account: detail.account ? presentRef(detail.account) : null,
    contacts: detail.contacts.map(presentRef),
    deals: detail.deals.map(presentRef),
    shares: { userIds: detail.shares.userIds, groupIds: detail.shares.groupIds },
    myShareFlag: detail.myShareFlag,
    canDelete: detail.canManage,
    canShare: detail.canManage,
    accessible: detail.accessible,
  };
}
