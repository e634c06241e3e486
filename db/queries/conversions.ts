/**
 * @module db/queries/conversions
 * Creating a lead or contact from an address (manual "convert sender" and
 * conversion rules). The id is deterministic (sync/uuidv5 recordIdFor), so
 * the insert is idempotent: racing converters, processes and replays all
 * land on one row. Columns as in migration 0003 (records, record_emails).
 */
import type { Queryable } from '../types';
import { recordAccessSql, visibleMessageIdsSql } from './visibility';

export type ConvertedType = 'lead' | 'contact';
export type RecordSource = 'manual' | 'import' | 'conversion' | 'rule';

export interface NewConvertedRecord {
  id: string;
  orgId: string;
  type: ConvertedType;
  ownerId: string;
  name: string;
  company: string;
  country: string | null;
  source: RecordSource;
  createdBy: string | null;
  /** Normalized (lower case); becomes the record's primary email. */
  address: string;
}

export interface ConvertedRecordRow {
  id: string;
  type: ConvertedType;
  name: string;
  company: string;
  country: string | null;
  email: string;
  ownerId: string;
  ownerName: string;
  source: RecordSource;
  createdAt: Date;
}

/**
 * `created`: both rows are in. `exists`: a record with this id already was
 * (nothing written). `address_taken`: another lead/contact has the address;
 * the records row was written and must be rolled back by the caller.
 */
export type InsertOutcome = 'created' | 'exists' | 'address_taken';

/**
 * Inserts the record and its primary address. Run inside a transaction: on
 * `address_taken` the caller rolls back, so no record is left without its address.
 */
export async function insertConvertedRecord(q: Queryable, r: NewConvertedRecord): Promise<InsertOutcome> {
  const inserted = await q.query<{ id: string }>(
    `insert into records (id, org_id, type, owner_id, name, company, country, source, created_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (id) do nothing returning id`,
    [r.id, r.orgId, r.type, r.ownerId, r.name, r.company, r.country, r.source, r.createdBy],
  );
  if (inserted.length === 0) {
    return 'exists';
  }
  // No conflict target: the partial unique index record_emails_person_key (one lead/contact per address) counts too.
  const email = await q.query<{ address: string }>(
    `insert into record_emails (org_id, address, record_type, record_id, is_primary)
     values ($1, $2, $3, $4, true)
     on conflict do nothing returning address`,
    [r.orgId, r.address, r.type, r.id],
  );
  return email.length === 0 ? 'address_taken' : 'created';
}

const RECORD_COLUMNS = `r.id, r.type, r.name, r.company, r.country, r.owner_id as "ownerId", u.name as "ownerName",
  r.source, r.created_at as "createdAt",
  coalesce((select re.address from record_emails re where re.record_id = r.id and re.is_primary), '') as email`;

/** A lead or contact by id, with its primary email and owner's name. */
export async function findConvertedRecord(q: Queryable, orgId: string, id: string): Promise<ConvertedRecordRow | null> {
  const rows = await q.query<ConvertedRecordRow>(
    `select ${RECORD_COLUMNS} from records r join users u on u.id = r.owner_id
     where r.org_id = $1 and r.id = $2 and r.type in ('lead', 'contact')`,
    [orgId, id],
  );
  return rows[0] ?? null;
}

/** The lead or contact an address belongs to in an organization (at most one, by the unique index). */
export async function findPersonRecordIdByAddress(q: Queryable, orgId: string, address: string): Promise<string | null> {
  const rows = await q.query<{ id: string }>(
    `select record_id as id from record_emails
     where org_id = $1 and address = $2 and record_type in ('lead', 'contact')`,
    [orgId, address],
  );
  return rows[0]?.id ?? null;
}

/** Whether any record (lead, contact, account or deal) of the organization has the address. */
export async function addressHasRecord(q: Queryable, orgId: string, address: string): Promise<boolean> {
  const rows = await q.query<{ found: boolean }>(
    'select exists (select 1 from record_emails where org_id = $1 and address = $2) as found',
    [orgId, address],
  );
  return rows[0]?.found ?? false;
}

/**
 * The country the organization already knows for a mail domain: that of an
 * account with an address on it, else of a lead or contact on it (the most
 * recently updated first). Null when no record on the domain has a country.
 */
export async function knownCountryOfDomain(q: Queryable, orgId: string, domain: string): Promise<string | null> {
  const rows = await q.query<{ country: string }>(
    `select r.country from record_emails re join records r on r.id = re.record_id
     where re.org_id = $1 and split_part(re.address, '@', 2) = $2 and r.country is not null
     order by (r.type = 'account') desc, r.updated_at desc, r.id
     limit 1`,
    [orgId, domain],
  );
  return rows[0]?.country ?? null;
}

export interface ConvertibleMessage {
  orgId: string;
  direction: 'inbound' | 'outbound';
  fromAddress: string | null;
  fromName: string | null;
  /** To, then cc, then reply-to, in header order, with display names. */
  named: { address: string; name: string }[];
  /** Every participant but the mailbox's own addresses (message_other_parties). */
  otherParties: string[];
}

/** A message the viewer may see, with what converting one of its parties needs; null when hidden or missing. */
export async function findConvertibleMessage(q: Queryable, viewerId: string, messageId: string): Promise<ConvertibleMessage | null> {
  const rows = await q.query<ConvertibleMessage>(
    `select m.org_id as "orgId", m.direction, m.from_address as "fromAddress", m.from_name as "fromName",
       m.to_addresses || m.cc_addresses || m.reply_to as named,
       coalesce((select array_agg(op.address order by op.address) from message_other_parties op where op.message_id = m.id), '{}')
         as "otherParties"
     from messages m
     where m.id = $1 and m.id in ${visibleMessageIdsSql('$2::uuid', 'm.org_id')}`,
    [messageId, viewerId],
  );
  return rows[0] ?? null;
}

/**
 * The newest present message the viewer may see that has `address` among its
 * other parties (the sync engine's conversion requests name an address, not a message).
 * @returns its id, or null when there is none.
 */
export async function findMessageWithOtherParty(q: Queryable, viewerId: string, orgId: string, address: string): Promise<string | null> {
  const rows = await q.query<{ id: string }>(
    `select m.id from message_other_parties op join messages m on m.id = op.message_id
     where op.address = $3 and m.org_id = $2 and m.orphaned_at is null
       and m.id in ${visibleMessageIdsSql('$1::uuid', '$2::uuid')}
     order by m.received_at desc, m.id limit 1`,
    [viewerId, orgId, address],
  );
  return rows[0]?.id ?? null;
}

/** Whether the viewer can access a record (org record access, ownership, reporting line, shares). */
export async function canAccessRecord(q: Queryable, viewerId: string, recordId: string): Promise<boolean> {
  const rows = await q.query<{ ok: boolean }>(
    `select exists (select 1 from records r where r.id = $1 and ${recordAccessSql('$2', 'r')}) as ok`,
    [recordId, viewerId],
  );
  return rows[0]?.ok ?? false;
}
