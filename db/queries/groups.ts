/**
 * @module db/queries/groups
 */
import type { Queryable } from '../types';

export interface GroupRow {
  id: string;
  orgId: string;
  name: string;
  memberIds: string[];
}

const COLUMNS = `g.id, g.org_id as "orgId", g.name,
  coalesce((select array_agg(gm.user_id::text order by gm.user_id) from group_members gm where gm.group_id = g.id), '{}')
    as "memberIds"`;

/** Lists an organization's groups by name. */
export async function listGroups(q: Queryable, orgId: string): Promise<GroupRow[]> {
  return q.query<GroupRow>(`select ${COLUMNS} from groups g where g.org_id = $1 order by lower(g.name)`, [orgId]);
}

/** Finds one group of an organization. */
export async function findGroup(q: Queryable, orgId: string, id: string): Promise<GroupRow | null> {
  const rows = await q.query<GroupRow>(`select ${COLUMNS} from groups g where g.org_id = $1 and g.id = $2`, [
    orgId,
    id,
  ]);
  return rows[0] ?? null;
}

/** Creates a group. The unique index on (org, lower(name)) raises 23505 for a taken name. */
export async function insertGroup(q: Queryable, group: { id: string; orgId: string; name: string }): Promise<void> {
  await q.query('insert into groups (id, org_id, name) values ($1, $2, $3)', [group.id, group.orgId, group.name]);
}

/** Renames a group. @returns whether it exists. */
export async function renameGroup(q: Queryable, orgId: string, id: string, name: string): Promise<boolean> {
  const rows = await q.query<{ id: string }>(
    'update groups set name = $3 where org_id = $1 and id = $2 returning id',
    [orgId, id, name],
  );
  return rows.length > 0;
}

/** Deletes a group and its memberships. @returns whether it existed. */
export async function deleteGroup(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const rows = await q.query<{ id: string }>('delete from groups where org_id = $1 and id = $2 returning id', [
    orgId,
    id,
  ]);
  return rows.length > 0;
}

/** Replaces a group's members with exactly `userIds`. */
export async function replaceGroupMembers(q: Queryable, groupId: string, userIds: readonly string[]): Promise<void> {
  await q.query('delete from group_members where group_id = $1 and not (user_id = any($2::uuid[]))', [
    groupId,
    userIds,
  ]);
  await q.query(
    `insert into group_members (group_id, user_id) select $1, unnest($2::uuid[]) on conflict do nothing`,
    [groupId, userIds],
  );
}

/** Counts which of `userIds` belong to the organization (to reject foreign ids). */
export async function countUsersInOrg(q: Queryable, orgId: string, userIds: readonly string[]): Promise<number> {
  const rows = await q.query<{ n: number }>(
    'select count(*)::int as n from users where org_id = $1 and id = any($2::uuid[])',
    [orgId, userIds],
  );
  return rows[0]?.n ?? 0;
}
