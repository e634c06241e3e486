/**
 * @module server/commands/organization
 * Organization-wide settings an admin changes. Record access decides who can
 * open records and, through them, whose shared mail they see, so it takes
 * effect on the next read everywhere (visibility is derived on every query).
 */
import { findOrganization, updateRecordAccess, type OrganizationRow } from '../../db/queries/organizations';
import type { RecordAccess } from '../../sync/sharing';
import type { Auth, Deps } from '../context';
import { notFound } from '../errors';
import { publishing } from '../sync/projection/changes';

/** The admin's organization. @throws {HttpError} 404 when it vanished. */
export async function loadOrganization(deps: Deps, admin: Auth): Promise<OrganizationRow> {
  const org = await findOrganization(deps.db, admin.user.orgId);
  if (!org) {
    throw notFound('Organization');
  }
  return org;
}

/** Switches record access between Public and Private. @throws {HttpError} 404 when the organization vanished. */
export async function setRecordAccess(deps: Deps, admin: Auth, recordAccess: RecordAccess): Promise<OrganizationRow> {
  const org = await updateRecordAccess(deps.db, admin.user.orgId, recordAccess).then(publishing(deps.changes, { kind: 'record-access', orgId: admin.user.orgId }));
  if (!org) {
    throw notFound('Organization');
  }
  return org;
}
