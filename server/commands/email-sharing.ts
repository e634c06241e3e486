/**
 * @module server/commands/email-sharing
 * Changing an email sharing setting: a person their own (unless an admin
 * locked it), an admin anyone's in their organization. The setting and its
 * audience are written in one transaction, so visibility never sees half.
 */
import {
  findActiveUserIds,
  findGroupIds,
  findPersonSharing,
  replaceSharingAudience,
  saveOwnSharing,
  saveSharingAsAdmin,
  type PersonSharingRow,
  type SharingWrite,
} from '../../db/queries/email-sharing';
import type { Queryable } from '../../db/types';
import { ERROR_CODES } from '../../sync/api';
import type { SharingMode } from '../../sync/sharing';
import type { Auth, Deps } from '../context';
import { HttpError, invalid, notFound } from '../errors';
import { publishing } from '../sync/projection/changes';

/** Already shape-checked by the route: domains normalized and deduplicated, no audience with Private. */
export interface SharingChange {
  mode: SharingMode;
  excludedDomains: string[];
  audience: { userIds: string[]; groupIds: string[] } | null;
}

const lockedError = () =>
  new HttpError(403, ERROR_CODES.settingLocked, 'An admin has locked your email sharing setting; ask them to change it');

/** The first id that is not in `known`, as a field path, or null. */
function firstUnknown(field: string, ids: readonly string[], known: ReadonlySet<string>): string | null {
  const index = ids.findIndex((id) => !known.has(id));
  return index < 0 ? null : `${field}.${index}`;
}

/**
 * Audience members must be active people and groups of the organization:
 * sharing with someone who cannot log in, or with another org, means nothing.
 * @throws {HttpError} 400 naming `audience.userIds.N` or `audience.groupIds.N`.
 */
async function assertAudience(q: Queryable, orgId: string, audience: SharingChange['audience']): Promise<void> {
  if (!audience) {
    return;
  }
  const userField = firstUnknown('audience.userIds', audience.userIds, await findActiveUserIds(q, orgId, audience.userIds));
  if (userField) {
    throw invalid(userField, `${userField}: not an active person of your organization`);
  }
  const groupField = firstUnknown('audience.groupIds', audience.groupIds, await findGroupIds(q, orgId, audience.groupIds));
  if (groupField) {
    throw invalid(groupField, `${groupField}: not a group of your organization`);
  }
}

function toWrite(orgId: string, userId: string, change: SharingChange, by: string): SharingWrite {
  return {
    userId,
    orgId,
    mode: change.mode,
    excludedDomains: change.excludedDomains,
    restricted: change.audience !== null,
    updatedBy: by,
  };
}

function saveAudience(q: Queryable, ownerId: string, audience: SharingChange['audience']): Promise<void> {
  const unique = (ids: readonly string[] = []) => [...new Set(ids)];
  return replaceSharingAudience(q, ownerId, unique(audience?.userIds), unique(audience?.groupIds));
}

async function reload(q: Queryable, orgId: string, userId: string): Promise<PersonSharingRow> {
  const row = await findPersonSharing(q, orgId, userId);
  if (!row) {
    throw notFound('Person');
  }
  return row;
}

/**
 * Changes the signed-in person's own setting.
 * @throws {HttpError} 403 `setting_locked`, 400 for an audience outside the organization.
 */
export function updateMyEmailSharing(deps: Deps, auth: Auth, change: SharingChange): Promise<PersonSharingRow> {
  const { id: userId, orgId } = auth.user;
  return deps.db.transaction(async (tx) => {
    // Checked first so a locked person hears "locked", not about their audience.
    if ((await reload(tx, orgId, userId)).locked) {
      throw lockedError();
    }
    await assertAudience(tx, orgId, change.audience);
    if (!(await saveOwnSharing(tx, toWrite(orgId, userId, change, userId)))) {
      throw lockedError();
    }
    await saveAudience(tx, userId, change.audience);
    return reload(tx, orgId, userId);
  }).then(publishing(deps.changes, { kind: 'sharing', ownerId: userId }));
}

/**
 * Changes anyone's setting in the admin's organization, locked or not.
 * @throws {HttpError} 404 for someone outside it, 400 for an audience outside it.
 */
export function updateEmailSharingAsAdmin(
  deps: Deps,
  admin: Auth,
  userId: string,
  change: SharingChange & { locked: boolean },
): Promise<PersonSharingRow> {
  const orgId = admin.user.orgId;
  return deps.db.transaction(async (tx) => {
    await reload(tx, orgId, userId);
    await assertAudience(tx, orgId, change.audience);
    await saveSharingAsAdmin(tx, { ...toWrite(orgId, userId, change, admin.user.id), locked: change.locked });
    await saveAudience(tx, userId, change.audience);
    return reload(tx, orgId, userId);
  }).then(publishing(deps.changes, { kind: 'sharing', ownerId: userId }));
}
