/**
 * @module db/queries/invites
 */
import type { Queryable } from '../types';

export interface InviteRow {
  id: string;
  orgId: string;
  email: string;
  role: 'admin' | 'manager' | 'rep';
  managerId: string | null;
  invitedBy: string;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = `id, org_id as "orgId", email, role, manager_id as "managerId", invited_by as "invitedBy",
  created_at as "createdAt", expires_at as "expiresAt", accepted_at as "acceptedAt", revoked_at as "revokedAt"`;

/** Stores an invite; only the hash of its token is kept. */
export async function insertInvite(
  q: Queryable,
  invite: Omit<InviteRow, 'createdAt' | 'acceptedAt' | 'revokedAt'> & { tokenHash: Uint8Array },
): Promise<InviteRow> {
  const rows = await q.query<InviteRow>(
    `insert into invites (id, org_id, email, role, manager_id, invited_by, expires_at, token_hash)
     values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${COLUMNS}`,
    [
      invite.id,
      invite.orgId,
      invite.email,
      invite.role,
      invite.managerId,
      invite.invitedBy,
      invite.expiresAt,
      invite.tokenHash,
    ],
  );
  return rows[0] as InviteRow;
}

/**
 * Finds an invite by its token hash.
 * @param forUpdate lock the row, so two accepts of one link cannot both succeed.
 */
export async function findInviteByTokenHash(
  q: Queryable,
  tokenHash: Uint8Array,
  forUpdate = false,
): Promise<InviteRow | null> {
  const rows = await q.query<InviteRow>(
    `select ${COLUMNS} from invites where token_hash = $1${forUpdate ? ' for update' : ''}`,
    [tokenHash],
  );
  return rows[0] ?? null;
}

/** Lists an organization's invites that are neither accepted, revoked nor expired. */
export async function listPendingInvites(q: Queryable, orgId: string, now: Date): Promise<InviteRow[]> {
  return q.query<InviteRow>(
    `select ${COLUMNS} from invites
     where org_id = $1 and accepted_at is null and revoked_at is null and expires_at > $2
     order by created_at desc`,
    [orgId, now],
  );
}

/** Marks an invite accepted. */
export async function markInviteAccepted(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query('update invites set accepted_at = $2 where id = $1', [id, at]);
}

/** Revokes every open invite of an organization with this id. @returns whether one was revoked. */
export async function revokeInvite(q: Queryable, orgId: string, id: string, at: Date): Promise<boolean> {
  const rows = await q.query<{ id: string }>(
    `update invites set revoked_at = $3
     where org_id = $1 and id = $2 and accepted_at is null and revoked_at is null returning id`,
    [orgId, id, at],
  );
  return rows.length > 0;
}

/** Revokes open invites to an address (a new invite replaces older ones). */
export async function revokeInvitesForEmail(q: Queryable, orgId: string, email: string, at: Date): Promise<void> {
  await q.query(
    `update invites set revoked_at = $3 where org_id = $1 and email = $2 and accepted_at is null and revoked_at is null`,
    [orgId, email, at],
  );
}
