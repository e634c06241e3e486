/**
 * @module db/queries/record-emails
 * A record's addresses. One address belongs to at most one lead or contact
 * per organization (`record_emails_person_key`); accounts and deals may share
 * addresses. Addresses arrive here already normalized.
 */
import { insertRows } from '../bulk';
import type { RecordType } from '../../sync/sharing';
import type { Queryable } from '../types';
import { recordAccessSql } from './visibility';

export interface RecordEmailRow {
  address: string;
  isPrimary: boolean;
}

/** The constraint a racing insert of a taken lead/contact address violates. */
export const PERSON_ADDRESS_KEY = 'record_emails_person_key';

/** A record's addresses, the primary first. */
export async function listRecordEmails(q: Queryable, recordId: string): Promise<RecordEmailRow[]> {
  return q.query<RecordEmailRow>(
    `select address, is_primary as "isPrimary" from record_emails where record_id = $1
     order by is_primary desc, address`,
    [recordId],
  );
}

export const RECORD_EMAIL_COLUMNS = ['org_id', 'address', 'record_type', 'record_id', 'is_primary'] as const;

/** Replaces a record's addresses: `addresses[0]` becomes the primary. */
export async function replaceRecordEmails(
  q: Queryable,
  record: { orgId: string; id: string; type: RecordType },
  addresses: readonly string[],
): Promise<void> {
  await q.query('delete from record_emails where record_id = $1', [record.id]);
  const rows = addresses.map((address, i) => [record.orgId, address, record.type, record.id, i === 0]);
  await insertRows(q, 'record_emails', RECORD_EMAIL_COLUMNS, rows);
}

export interface AddressHolder {
  address: string;
  recordId: string;
  type: RecordType;
  name: string;
  ownerName: string;
  /** Whether the viewer can access the holding record (only then may its name be shown). */
  accessible: boolean;
}

/**
 * The leads and contacts (other than `exceptRecordId`) that already hold any of `addresses`.
 */
export async function findAddressHolders(
  q: Queryable,
  viewerId: string,
  orgId: string,
  addresses: readonly string[],
  exceptRecordId: string | null = null,
): Promise<AddressHolder[]> {
  if (addresses.length === 0) {
    return [];
  }
  return q.query<AddressHolder>(
    `select e.address, r.id as "recordId", r.type, r.name, ou.name as "ownerName",
       ${recordAccessSql('$1', 'r')} as accessible
     from record_emails e join records r on r.id = e.record_id join users ou on ou.id = r.owner_id
     where e.org_id = $2 and e.address = any($3::text[]) and e.record_type in ('lead', 'contact')
       and ($4::uuid is null or e.record_id <> $4::uuid)`,
    [viewerId, orgId, addresses, exceptRecordId],
  );
}
