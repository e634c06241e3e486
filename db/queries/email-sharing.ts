/**
 * @module db/queries/email-sharing
 * Each mailbox owner's email sharing setting (`email_sharing`) and, for a
 * Public setting restricted to chosen people and groups, its audience. A
 * person without a row has the default, so reads join from `users`.
 */
import { DEFAULT_SHARING_MODE, type SharingMode } from '../../sync/sharing';
import type { Queryable } from '../types';

/** A person with their setting (the default when they never chose). */
export interface PersonSharingRow {
  userId: string;
  orgId: string;
  name: string;
  email: string;
  active: boolean;
  mode: SharingMode;
  excludedDomains: string[];
  restricted: boolean;
  locked: boolean;
  audienceUserIds: string[];
  audienceGroupIds: string[];
  updatedById: string | null;
  updatedByName: string | null;
  /** Null while the person has the default (no row). */
  updatedAt: Date | null;
}

const SELECT = `select u.id as "userId", u.org_id as "orgId", u.name, u.email, u.active,
    coalesce(s.mode, '${DEFAULT_SHARING_MODE}') as mode,
    coalesce(s.excluded_domains, '{}') as "excludedDomains",
    coalesce(s.restricted, false) as restricted,
    coalesce(s.locked, false) as locked,
    coalesce((select array_agg(a.user_id::text order by a.user_id) from email_sharing_audience a
      where a.owner_id = u.id and a.user_id is not null), '{}') as "audienceUserIds",
    coalesce((select array_agg(a.group_id::text order by a.group_id) from email_sharing_audience a
      where a.owner_id = u.id and a.group_id is not null), '{}') as "audienceGroupIds",
    s.updated_by as "updatedById", ub.name as "updatedByName", s.updated_at as "updatedAt"
  from users u
  left join email_sharing s on s.user_id = u.id
  left join users ub on ub.id = s.updated_by`;

/** One person of an organization with their setting, or null when they are not in it. */
export async function findPersonSharing(q: Queryable, orgId: string, userId: string): Promise<PersonSharingRow | null> {
  const rows = await q.query<PersonSharingRow>(`${SELECT} where u.org_id = $1 and u.id = $2`, [orgId, userId]);
  return rows[0] ?? null;
}

/** Everyone in an organization with their setting, active first, then by name. */
export async function listPeopleSharing(q: Queryable, orgId: string): Promise<PersonSharingRow[]> {
  return q.query<PersonSharingRow>(`${SELECT} where u.org_id = $1 order by u.active desc, lower(u.name), u.email`, [
    orgId,
  ]);
}

export interface SharingWrite {
  userId: string;
  orgId: string;
  mode: SharingMode;
  excludedDomains: readonly string[];
  restricted: boolean;
  updatedBy: string;
}

const UPSERT = `insert into email_sharing as s (user_id, org_id, mode, excluded_domains, restricted, locked, updated_by)
  values ($1, $2, $3, $4::text[], $5, coalesce($7::boolean, false), $6)
  on conflict (user_id) do update set mode = excluded.mode, excluded_domains = excluded.excluded_domains,
    restricted = excluded.restricted, locked = coalesce($7::boolean, s.locked),
    updated_by = excluded.updated_by, updated_at = now()`;

/**
 * Saves a person's own setting unless an admin locked it. The lock is
 * checked by the upsert itself, so an admin locking at the same moment wins.
 * @returns false when the setting is locked (nothing changed).
 */
export async function saveOwnSharing(q: Queryable, w: SharingWrite): Promise<boolean> {
  const rows = await q.query<{ userId: string }>(`${UPSERT} where not s.locked returning s.user_id as "userId"`, [
    w.userId,
    w.orgId,
    w.mode,
    w.excludedDomains,
    w.restricted,
    w.updatedBy,
    null,
  ]);
  return rows.length > 0;
}

/** Saves a person's setting as an admin, locking or unlocking it. */
export async function saveSharingAsAdmin(q: Queryable, w: SharingWrite & { locked: boolean }): Promise<void> {
  await q.query(UPSERT, [w.userId, w.orgId, w.mode, w.excludedDomains, w.restricted, w.updatedBy, w.locked]);
}

/** Replaces a setting's audience with exactly these people and groups. */
export async function replaceSharingAudience(
  q: Queryable,
  ownerId: string,
  userIds: readonly string[],
  groupIds: readonly string[],
): Promise<void> {
  await q.query('delete from email_sharing_audience where owner_id = $1', [ownerId]);
  if (userIds.length > 0) {
    await q.query('insert into email_sharing_audience (owner_id, user_id) select $1, unnest($2::uuid[])', [
      ownerId,
      userIds,
    ]);
  }
  if (groupIds.length > 0) {
    await q.query('insert into email_sharing_audience (owner_id, group_id) select $1, unnest($2::uuid[])', [
      ownerId,
      groupIds,
    ]);
  }
}

/** Which of `ids` are active people of the organization. */
export async function findActiveUserIds(q: Queryable, orgId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) {
    return new Set();
  }
  const rows = await q.query<{ id: string }>(
    'select id::text as id from users where org_id = $1 and active and id = any($2::uuid[])',
    [orgId, ids],
  );
  return new Set(rows.map((r) => r.id));
}

/** Which of `ids` are groups of the organization. */
export async function findGroupIds(q: Queryable, orgId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) {
    return new Set();
  }
  const rows = await q.query<{ id: string }>('select id::text as id from groups where org_id = $1 and id = any($2::uuid[])', [
    orgId,
    ids,
  ]);
  return new Set(rows.map((r) => r.id));
}
