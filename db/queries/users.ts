/**
 * @module db/queries/users
 */
import type { Queryable } from '../types';

export interface UserRow {
  id: string;
  orgId: string;
  email: string;
  name: string;
  role: 'admin' | 'manager' | 'rep';
  managerId: string | null;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserWithGroupsRow extends UserRow {
  groupIds: string[];
}

const COLUMNS = `u.id, u.org_id as "orgId", u.email, u.name, u.role, u.manager_id as "managerId",
  u.active, u.created_at as "createdAt", u.updated_at as "updatedAt"`;

const GROUP_IDS = `coalesce((select array_agg(gm.group_id::text order by gm.group_id)
  from group_members gm where gm.user_id = u.id), '{}') as "groupIds"`;

export interface NewUser {
  id: string;
  orgId: string;
  email: string;
  name: string;
  passwordHash: string;
  role: UserRow['role'];
  managerId: string | null;
}

/** Inserts a person. The unique index on email raises 23505 for a taken address. */
export async function insertUser(q: Queryable, user: NewUser): Promise<UserRow> {
  const rows = await q.query<UserRow>(
    `insert into users as u (id, org_id, email, name, password_hash, role, manager_id)
     values ($1, $2, $3, $4, $5, $6, $7) returning ${COLUMNS}`,
    [user.id, user.orgId, user.email, user.name, user.passwordHash, user.role, user.managerId],
  );
  return rows[0] as UserRow;
}

/** Finds a person and their password hash by (already normalized) email, for log-in. */
export async function findUserCredentials(
  q: Queryable,
  email: string,
): Promise<(UserRow & { passwordHash: string }) | null> {
  const rows = await q.query<UserRow & { passwordHash: string }>(
    `select ${COLUMNS}, u.password_hash as "passwordHash" from users u where u.email = $1`,
    [email],
  );
  return rows[0] ?? null;
}

/** Finds a person by email. */
export async function findUserByEmail(q: Queryable, email: string): Promise<UserRow | null> {
  const rows = await q.query<UserRow>(`select ${COLUMNS} from users u where u.email = $1`, [email]);
  return rows[0] ?? null;
}

/** Finds a person of an organization with their group ids. */
export async function findUserInOrg(q: Queryable, orgId: string, id: string): Promise<UserWithGroupsRow | null> {
  const rows = await q.query<UserWithGroupsRow>(
    `select ${COLUMNS}, ${GROUP_IDS} from users u where u.org_id = $1 and u.id = $2`,
    [orgId, id],
  );
  return rows[0] ?? null;
}

/** Finds a person by id with their group ids (session validation). */
export async function findUserById(q: Queryable, id: string): Promise<UserWithGroupsRow | null> {
  const rows = await q.query<UserWithGroupsRow>(`select ${COLUMNS}, ${GROUP_IDS} from users u where u.id = $1`, [id]);
  return rows[0] ?? null;
}

/** Lists an organization's people, active first, then by name. */
export async function listUsers(q: Queryable, orgId: string): Promise<UserWithGroupsRow[]> {
  return q.query<UserWithGroupsRow>(
    `select ${COLUMNS}, ${GROUP_IDS} from users u where u.org_id = $1
     order by u.active desc, lower(u.name), u.email`,
    [orgId],
  );
}

/** The manager edges of an organization: who reports to whom (for cycle checks). */
export async function listManagerEdges(q: Queryable, orgId: string): Promise<{ id: string; managerId: string | null }[]> {
  return q.query(`select id, manager_id as "managerId" from users where org_id = $1`, [orgId]);
}

/** Applies a partial update to a person of an organization. */
export async function updateUser(
  q: Queryable,
  orgId: string,
  id: string,
  patch: { name?: string; role?: UserRow['role']; managerId?: string | null; active?: boolean },
): Promise<void> {
  const sets: string[] = [];
  const params: unknown[] = [orgId, id];
  const add = (column: string, value: unknown) => {
    params.push(value);
    sets.push(`${column} = $${params.length}`);
  };
  if (patch.name !== undefined) {
    add('name', patch.name);
  }
  if (patch.role !== undefined) {
    add('role', patch.role);
  }
  if (patch.managerId !== undefined) {
    add('manager_id', patch.managerId);
  }
  if (patch.active !== undefined) {
    add('active', patch.active);
  }
  if (sets.length === 0) {
    return;
  }
  await q.query(`update users set ${sets.join(', ')}, updated_at = now() where org_id = $1 and id = $2`, params);
}

/** Counts an organization's active admins, locking their rows so two demotions cannot race past the last one. */
export async function countActiveAdminsForUpdate(q: Queryable, orgId: string): Promise<number> {
  const rows = await q.query<{ id: string }>(
    `select id from users where org_id = $1 and role = 'admin' and active for update`,
    [orgId],
  );
  return rows.length;
}
