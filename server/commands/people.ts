/**
 * @module server/commands/people
 * Admin changes to people: role, manager (no loops), deactivation. The last
 * active admin can be neither demoted nor deactivated, or nobody could
 * administer the organization again.
 */
import {
  countActiveAdminsForUpdate,
  findUserInOrg,
  listManagerEdges,
  updateUser,
  type UserWithGroupsRow,
} from '../../db/queries/users';
import type { Queryable } from '../../db/types';
import { ERROR_CODES, type Role } from '../../sync/api';
import { findManagerCycle } from '../../sync/org-chart';
import { invalidateUserSessions } from '../auth/session';
import type { Auth, Deps } from '../context';
import { HttpError, invalid, notFound } from '../errors';
import { publishing } from '../sync/projection/changes';

async function personOrThrow(q: Queryable, orgId: string, id: string): Promise<UserWithGroupsRow> {
  const person = await findUserInOrg(q, orgId, id);
  if (!person) {
    throw notFound('Person');
  }
  return person;
}

async function assertNotLastAdmin(q: Queryable, person: UserWithGroupsRow, action: string): Promise<void> {
  if (person.role !== 'admin' || !person.active) {
    return;
  }
  if ((await countActiveAdminsForUpdate(q, person.orgId)) <= 1) {
    throw new HttpError(409, ERROR_CODES.lastAdmin, `${person.name} is the only active admin and cannot be ${action}`);
  }
}

async function assertManagerAllowed(q: Queryable, person: UserWithGroupsRow, managerId: string): Promise<void> {
  const manager = await findUserInOrg(q, person.orgId, managerId);
  if (!manager) {
    throw invalid('managerId', 'managerId: no such person in your organization');
  }
  const cycle = findManagerCycle(await listManagerEdges(q, person.orgId), person.id, managerId);
  if (cycle) {
    const message =
      managerId === person.id
        ? 'Nobody can be their own manager'
        : `${manager.name} already reports to ${person.name}, so ${person.name} cannot report to ${manager.name}`;
    throw new HttpError(400, ERROR_CODES.managerCycle, message, 'managerId');
  }
}

/**
 * Changes a person's name, role and/or manager.
 * @throws {HttpError} 404, 400 `manager_cycle`, 409 `last_admin`.
 */
export async function updatePerson(
  deps: Deps,
  admin: Auth,
  id: string,
  patch: { name?: string | undefined; role?: Role | undefined; managerId?: string | null | undefined },
): Promise<UserWithGroupsRow> {
  const orgId = admin.user.orgId;
  return deps.db.transaction(async (tx) => {
    const person = await personOrThrow(tx, orgId, id);
    if (patch.role !== undefined && patch.role !== 'admin') {
      await assertNotLastAdmin(tx, person, 'demoted');
    }
    if (patch.managerId) {
      await assertManagerAllowed(tx, person, patch.managerId);
    }
    await updateUser(tx, orgId, id, patch);
    return personOrThrow(tx, orgId, id);
  }).then(publishing(deps.changes, { kind: 'people', orgId, userIds: [id], visibility: patch.managerId !== undefined }));
}

/**
 * Deactivates a person and ends all their sessions at once, live sync sockets included.
 * @throws {HttpError} 404, 409 `last_admin`.
 */
export async function deactivatePerson(deps: Deps, admin: Auth, id: string): Promise<UserWithGroupsRow> {
  const orgId = admin.user.orgId;
  const { person, ended } = await deps.db.transaction(async (tx) => {
    const found = await personOrThrow(tx, orgId, id);
    await assertNotLastAdmin(tx, found, 'deactivated');
    await updateUser(tx, orgId, id, { active: false });
    const sessionIds = await invalidateUserSessions(tx, id);
    return { person: await personOrThrow(tx, orgId, id), ended: sessionIds };
  });
  // After commit: a socket reconnecting from here on no longer validates.
  deps.sessionEvents?.revoked(ended);
  deps.sessionEvents?.userDeactivated(id);
  // The rules ignore deactivation: only the directory and the person's own (now emptied) document change.
  deps.changes?.publish({ kind: 'people', orgId, userIds: [id], visibility: false });
  return person;
}

/**
 * Reactivates a person; they log in again with their password.
 * @throws {HttpError} 404.
 */
export async function reactivatePerson(deps: Deps, admin: Auth, id: string): Promise<UserWithGroupsRow> {
  const orgId = admin.user.orgId;
  return deps.db.transaction(async (tx) => {
    await personOrThrow(tx, orgId, id);
    await updateUser(tx, orgId, id, { active: true });
    return personOrThrow(tx, orgId, id);
  }).then(publishing(deps.changes, { kind: 'people', orgId, userIds: [id], visibility: false }));
}
