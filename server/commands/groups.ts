/**
 * @module server/commands/groups
 * Named groups of people, used later to share mail with chosen audiences.
 */
import { isUniqueViolation } from '../../db/errors';
import {
  countUsersInOrg,
  deleteGroup as deleteGroupRow,
  findGroup,
  insertGroup,
  renameGroup as renameGroupRow,
  replaceGroupMembers,
  type GroupRow,
} from '../../db/queries/groups';
import { ERROR_CODES } from '../../sync/api';
import type { Auth, Deps } from '../context';
import { HttpError, invalid, notFound } from '../errors';
import { publishing } from '../sync/projection/changes';

const nameTaken = () => new HttpError(409, ERROR_CODES.conflict, 'A group with this name already exists', 'name');

async function mapNameConflict<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw nameTaken();
    }
    throw error;
  }
}

/** Creates a group. @throws {HttpError} 409 when the name is taken. */
export function createGroup(deps: Deps, admin: Auth, name: string): Promise<GroupRow> {
  const orgId = admin.user.orgId;
  return mapNameConflict(() =>
    deps.db.transaction(async (tx) => {
      const id = crypto.randomUUID();
      await insertGroup(tx, { id, orgId, name });
      return (await findGroup(tx, orgId, id)) as GroupRow;
    }),
  );
}

/** Renames a group. @throws {HttpError} 404, 409. */
export function renameGroup(deps: Deps, admin: Auth, id: string, name: string): Promise<GroupRow> {
  const orgId = admin.user.orgId;
  return mapNameConflict(() =>
    deps.db.transaction(async (tx) => {
      if (!(await renameGroupRow(tx, orgId, id, name))) {
        throw notFound('Group');
      }
      return (await findGroup(tx, orgId, id)) as GroupRow;
    }),
  );
}

/** Deletes a group. @throws {HttpError} 404. */
export async function deleteGroup(deps: Deps, admin: Auth, id: string): Promise<void> {
  if (!(await deleteGroupRow(deps.db, admin.user.orgId, id).then(publishing(deps.changes, { kind: 'record-access', orgId: admin.user.orgId })))) {
    throw notFound('Group');
  }
}

/**
 * Sets a group's members to exactly `userIds`.
 * @throws {HttpError} 404 for an unknown group, 400 when an id is not a person of the organization.
 */
export function setGroupMembers(deps: Deps, admin: Auth, id: string, userIds: string[]): Promise<GroupRow> {
  const orgId = admin.user.orgId;
  const unique = [...new Set(userIds)];
  return deps.db.transaction(async (tx) => {
    if (!(await findGroup(tx, orgId, id))) {
      throw notFound('Group');
    }
    if ((await countUsersInOrg(tx, orgId, unique)) !== unique.length) {
      throw invalid('userIds', 'userIds: every id must be a person of your organization');
    }
    await replaceGroupMembers(tx, id, unique);
    return (await findGroup(tx, orgId, id)) as GroupRow;
  }).then(publishing(deps.changes, { kind: 'record-access', orgId }));
}
