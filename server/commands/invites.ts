/**
 * @module server/commands/invites
 * Single-use invite links with an expiry. Only the token's hash is stored,
 * so the link exists in exactly one place: the admin's clipboard.
 */
import { isUniqueViolation } from '../../db/errors';
import {
  findInviteByTokenHash,
  insertInvite,
  markInviteAccepted,
  revokeInvite as revokeInviteRow,
  revokeInvitesForEmail,
  type InviteRow,
} from '../../db/queries/invites';
import { findOrganization } from '../../db/queries/organizations';
import { findUserByEmail, findUserInOrg, insertUser } from '../../db/queries/users';
import type { Queryable } from '../../db/types';
import { ERROR_CODES, type Role } from '../../sync/api';
import { hashPassword } from '../auth/password';
import { createSession } from '../auth/session';
import { hashSecret, issueOpaqueToken } from '../auth/tokens';
import type { Auth, Deps } from '../context';
import { publishing } from '../sync/projection/changes';
import { HttpError, invalid, notFound } from '../errors';

/**
 * Creates an invite (replacing older open invites to the same address).
 * @returns the invite and its link, shown once.
 * @throws {HttpError} 409 `email_taken` when the address already has an account; 400 for an unknown manager.
 */
export async function createInvite(
  deps: Deps,
  admin: Auth,
  input: { email: string; role: Role; managerId?: string | null | undefined },
): Promise<{ invite: InviteRow; url: string }> {
  const orgId = admin.user.orgId;
  const { token, hash } = issueOpaqueToken();
  const now = deps.now();
  const invite = await deps.db.transaction(async (tx) => {
    if (await findUserByEmail(tx, input.email)) {
      throw new HttpError(409, ERROR_CODES.emailTaken, 'Someone with this email already has an account', 'email');
    }
    const managerId = input.managerId ?? null;
    if (managerId && !(await findUserInOrg(tx, orgId, managerId))) {
      throw invalid('managerId', 'managerId: no such person in your organization');
    }
    await revokeInvitesForEmail(tx, orgId, input.email, now);
    return insertInvite(tx, {
      id: crypto.randomUUID(),
      orgId,
      email: input.email,
      role: input.role,
      managerId,
      invitedBy: admin.user.id,
      expiresAt: new Date(now.getTime() + deps.config.inviteTtlMs),
      tokenHash: hash,
    });
  });
  return { invite, url: `${deps.config.publicUrl}/invite/${token}` };
}

/**
 * Finds the invite a token stands for, if it can still be used.
 * @throws {HttpError} 404 `invite_invalid`, 410 `invite_used` / `invite_expired`.
 */
async function usableInvite(q: Queryable, token: string, now: Date, forUpdate: boolean): Promise<InviteRow> {
  const invite = await findInviteByTokenHash(q, hashSecret(token), forUpdate);
  if (!invite || invite.revokedAt) {
    throw new HttpError(404, ERROR_CODES.inviteInvalid, 'This invite link is not valid; ask for a new one');
  }
  if (invite.acceptedAt) {
    throw new HttpError(410, ERROR_CODES.inviteUsed, 'This invite link has already been used; log in instead');
  }
  if (invite.expiresAt.getTime() <= now.getTime()) {
    throw new HttpError(410, ERROR_CODES.inviteExpired, 'This invite link has expired; ask an admin for a new one');
  }
  return invite;
}

/** What the invitee sees before accepting. */
export async function previewInvite(
  deps: Deps,
  token: string,
): Promise<{ invite: InviteRow; orgName: string; invitedByName: string }> {
  const invite = await usableInvite(deps.db, token, deps.now(), false);
  const [org, inviter] = await Promise.all([
    findOrganization(deps.db, invite.orgId),
    findUserInOrg(deps.db, invite.orgId, invite.invitedBy),
  ]);
  return { invite, orgName: org?.name ?? '', invitedByName: inviter?.name ?? 'An admin' };
}

/**
 * Turns an invite into an account and signs it in. The invite row is locked,
 * so two accepts of one link cannot both succeed.
 * @throws {HttpError} as {@link usableInvite}; 409 `email_taken`.
 */
export async function acceptInvite(
  deps: Deps,
  token: string,
  input: { name: string; password: string },
): Promise<{ userId: string; token: string; expiresAt: Date }> {
  const passwordHash = await hashPassword(input.password);
  try {
    return await deps.db.transaction(async (tx) => {
      const now = deps.now();
      const invite = await usableInvite(tx, token, now, true);
      const managerStillThere = invite.managerId ? await findUserInOrg(tx, invite.orgId, invite.managerId) : null;
      const user = await insertUser(tx, {
        id: crypto.randomUUID(),
        orgId: invite.orgId,
        email: invite.email,
        name: input.name,
        passwordHash,
        role: invite.role,
        managerId: managerStillThere ? managerStillThere.id : null,
      });
      await markInviteAccepted(tx, invite.id, now);
      const session = await createSession(tx, user.id, now);
      return { userId: user.id, token: session.token, expiresAt: session.session.expiresAt };
    }).then(publishing(deps.changes, (joined) => ({ kind: 'people', userIds: [joined.userId], visibility: false })));
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new HttpError(409, ERROR_CODES.emailTaken, 'An account with this email already exists; log in instead');
    }
    throw error;
  }
}

/**
 * Revokes an open invite.
 * @throws {HttpError} 404 when there is no open invite with this id.
 */
export async function revokeInvite(deps: Deps, admin: Auth, inviteId: string): Promise<void> {
  const revoked = await revokeInviteRow(deps.db, admin.user.orgId, inviteId, deps.now());
  if (!revoked) {
    throw notFound('Invite');
  }
}
