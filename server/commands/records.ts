/**
 * @module server/commands/records
 * Creating, changing and deleting CRM records. Anyone who can access a
 * record may edit it; deleting it (and changing its shares) is for its owner,
 * anyone above the owner, and admins. Everything a record links to must be
 * something the editor can access, so an edit never reveals or attaches
 * records they could not open.
 */
import { isUniqueViolation } from '../../db/errors';
import { listThreadsAboutRecord } from '../../db/queries/projection-audience';
import { listRecordEmails, replaceRecordEmails } from '../../db/queries/record-emails';
import { replaceDealContacts } from '../../db/queries/record-links';
import {
  accessibleRecordIds,
  deleteRecord as deleteRecordRow,
  findAccessibleRecord,
  insertRecord,
  isAbove,
  updateRecord as updateRecordRow,
  type RecordRow,
} from '../../db/queries/records';
import { findUserInOrg } from '../../db/queries/users';
import type { Queryable } from '../../db/types';
import { ERROR_CODES } from '../../sync/api';
import type { DealStage, RecordType } from '../../sync/sharing';
import type { Auth, Deps } from '../context';
import { forbidden, HttpError, invalid, notFound } from '../errors';
import { publishing } from '../sync/projection/changes';
import { addressList, assertAddressesFree, holdsPersonAddresses, type AddressList } from './record-addresses';

/** Validated, normalized input (addresses normalized, country as its code). */
export interface RecordFields {
  name?: string | undefined;
  company?: string | undefined;
  country?: string | null | undefined;
  ownerId?: string | undefined;
  primaryEmail?: string | null | undefined;
  secondaryEmails?: string[] | undefined;
  accountId?: string | null | undefined;
  stage?: DealStage | undefined;
  contactIds?: string[] | undefined;
}

export type NewRecordFields = RecordFields & { type: RecordType; name: string };

/**
 * The record, if the viewer can access it.
 * @throws {HttpError} 404 otherwise: never 403, so a record's existence does not leak.
 */
export async function accessibleRecordOrThrow(q: Queryable, auth: Auth, id: string): Promise<RecordRow> {
  const record = await findAccessibleRecord(q, auth.user.id, auth.user.orgId, id);
  if (!record) {
    throw notFound('Record');
  }
  return record;
}

/** The owner, anyone above the owner, or an admin. */
export async function canManageRecord(q: Queryable, auth: Auth, record: RecordRow): Promise<boolean> {
  if (record.ownerId === auth.user.id || auth.user.role === 'admin') {
    return true;
  }
  return isAbove(q, auth.user.id, record.ownerId);
}

function assertFieldsFitType(type: RecordType, fields: RecordFields): void {
  if (fields.stage !== undefined && type !== 'deal') {
    throw invalid('stage', 'stage: only deals have a stage');
  }
  if (fields.accountId && type !== 'contact' && type !== 'deal') {
    throw invalid('accountId', 'accountId: only contacts and deals belong to an account');
  }
  if (fields.contactIds !== undefined && type !== 'deal') {
    throw invalid('contactIds', 'contactIds: only deals have contacts');
  }
}

async function assertOwner(q: Queryable, orgId: string, ownerId: string): Promise<void> {
  const owner = await findUserInOrg(q, orgId, ownerId);
  if (!owner || !owner.active) {
    throw invalid('ownerId', 'ownerId: no such active person in your organization');
  }
}

async function assertLinks(q: Queryable, auth: Auth, fields: RecordFields): Promise<void> {
  const { id: viewerId, orgId } = auth.user;
  if (fields.accountId) {
    const found = await accessibleRecordIds(q, viewerId, orgId, 'account', [fields.accountId]);
    if (!found.has(fields.accountId)) {
      throw invalid('accountId', 'accountId: no such account, or you cannot access it');
    }
  }
  const contactIds = fields.contactIds ?? [];
  const found = await accessibleRecordIds(q, viewerId, orgId, 'contact', contactIds);
  const missing = contactIds.findIndex((id) => !found.has(id));
  if (missing >= 0) {
    throw invalid(`contactIds.${missing}`, `contactIds.${missing}: no such contact, or you cannot access it`);
  }
}

/**
 * Runs a write that adds addresses. Two writers racing for one address both
 * pass the check; the unique index stops the second, and that becomes the
 * same 409 the check would have given.
 */
async function withAddressRace<T>(
  deps: Deps,
  auth: Auth,
  recordId: string | null,
  list: () => AddressList | null,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const addresses = list();
    if (!isUniqueViolation(error) || !addresses) {
      throw error;
    }
    await assertAddressesFree(deps.db, auth.user.id, auth.user.orgId, addresses, recordId);
    throw new HttpError(409, ERROR_CODES.addressTaken, 'One of these addresses was just added to another lead or contact');
  }
}

/**
 * Creates a record owned by `ownerId` or the creator.
 * @returns the new record's id.
 * @throws {HttpError} 400 naming the field, 409 `address_taken`.
 */
export async function createRecord(deps: Deps, auth: Auth, input: NewRecordFields): Promise<string> {
  const { orgId } = auth.user;
  const id = crypto.randomUUID();
  const list = addressList(input.primaryEmail ?? null, input.secondaryEmails ?? []);
  const checked = holdsPersonAddresses(input.type) ? list : null;
  return withAddressRace(deps, auth, null, () => checked, () =>
    deps.db.transaction(async (tx) => {
      assertFieldsFitType(input.type, input);
      const ownerId = input.ownerId ?? auth.user.id;
      await assertOwner(tx, orgId, ownerId);
      await assertLinks(tx, auth, input);
      if (checked) {
        await assertAddressesFree(tx, auth.user.id, orgId, checked, null);
      }
      await insertRecord(tx, {
        id,
        orgId,
        type: input.type,
        ownerId,
        name: input.name,
        company: input.company ?? '',
        country: input.country ?? null,
        stage: input.type === 'deal' ? (input.stage ?? 'open') : null,
        accountId: input.accountId ?? null,
        source: 'manual',
        createdBy: auth.user.id,
      });
      await replaceRecordEmails(tx, { orgId, id, type: input.type }, list.addresses);
      if (input.contactIds) {
        await replaceDealContacts(tx, auth.user.id, id, input.contactIds);
      }
      return id;
    }),
  ).then(publishing(deps.changes, { kind: 'record-created', recordId: id, orgId }));
}

async function nextAddresses(q: Queryable, record: RecordRow, fields: RecordFields): Promise<AddressList | null> {
  if (fields.primaryEmail === undefined && fields.secondaryEmails === undefined) {
    return null;
  }
  const current = await listRecordEmails(q, record.id);
  const primary = fields.primaryEmail !== undefined ? fields.primaryEmail : (current.find((e) => e.isPrimary)?.address ?? null);
  if (fields.secondaryEmails !== undefined) {
    return addressList(primary, fields.secondaryEmails);
  }
  const kept = current.filter((e) => !e.isPrimary).map((e) => e.address);
  return addressList(primary, kept, kept.map(() => 'secondaryEmails'));
}

/**
 * Changes a record the editor can access.
 * @throws {HttpError} 404, 400 naming the field, 409 `address_taken`.
 */
export async function updateRecord(deps: Deps, auth: Auth, id: string, fields: RecordFields): Promise<void> {
  const { orgId } = auth.user;
  let list: AddressList | null = null;
  let type: RecordType | null = null;
  // Links this edit can cut, for the documents that show those threads (see DomainChange).
  let before: string[] | undefined;
  await withAddressRace(deps, auth, id, () => (type && holdsPersonAddresses(type) ? list : null), () =>
    deps.db.transaction(async (tx) => {
      const record = await accessibleRecordOrThrow(tx, auth, id);
      type = record.type;
      assertFieldsFitType(record.type, fields);
      if (fields.ownerId !== undefined && fields.ownerId !== record.ownerId) {
        await assertOwner(tx, orgId, fields.ownerId);
      }
      await assertLinks(tx, auth, fields);
      const cutsLinks = fields.primaryEmail !== undefined || fields.secondaryEmails !== undefined || fields.accountId !== undefined || fields.contactIds !== undefined;
      before = cutsLinks ? await listThreadsAboutRecord(tx, id) : undefined;
      list = await nextAddresses(tx, record, fields);
      if (list) {
        if (holdsPersonAddresses(record.type)) {
          await assertAddressesFree(tx, auth.user.id, orgId, list, record.id);
        }
        await replaceRecordEmails(tx, record, list.addresses);
      }
      const { name, company, country, ownerId, stage, accountId } = fields;
      await updateRecordRow(tx, orgId, id, { name, company, country, ownerId, stage, accountId });
      if (fields.contactIds !== undefined) {
        await replaceDealContacts(tx, auth.user.id, id, fields.contactIds);
      }
    }),
  ).then(publishing(deps.changes, () => ({ kind: 'record-changed', recordId: id, orgId, ...(before ? { threadIds: before } : {}) })));
}

/**
 * Deletes a record; mail about it unlinks at once because links are derived.
 * @throws {HttpError} 404 when the caller cannot access it, 403 when they may not delete it.
 */
export async function deleteRecord(deps: Deps, auth: Auth, id: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const record = await accessibleRecordOrThrow(tx, auth, id);
    if (!(await canManageRecord(tx, auth, record))) {
      throw forbidden('Only the owner, their managers or an admin can delete this record');
    }
    // Its links vanish with it: the threads they moved to a lane, for the documents that show them.
    const threadIds = await listThreadsAboutRecord(tx, id);
    await deleteRecordRow(tx, auth.user.orgId, id);
    return threadIds;
  }).then(publishing(deps.changes, (threadIds) => ({ kind: 'record-deleted', recordId: id, orgId: auth.user.orgId, threadIds })));
}
