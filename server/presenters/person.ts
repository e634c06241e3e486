/**
 * @module server/presenters/person
 * Rows → the JSON the app sees. Nothing else decides response shapes.
 */
import type { GroupRow } from '../../db/queries/groups';
import type { InviteRow } from '../../db/queries/invites';
import type { OrganizationRow } from '../../db/queries/organizations';
import type { UserWithGroupsRow } from '../../db/queries/users';
import type { GroupDto, InviteDto, MeDto, OrgDto, PersonDto } from '../../sync/api';

/** A person as the app sees them (never their password hash). */
export function presentPerson(user: UserWithGroupsRow): PersonDto {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    managerId: user.managerId,
    active: user.active,
    groupIds: user.groupIds,
    createdAt: user.createdAt.toISOString(),
  };
}

/** An organization. */
export function presentOrg(org: OrganizationRow): OrgDto {
  return { id: org.id, name: org.name, recordAccess: org.recordAccess };
}

/** The signed-in person and their organization. */
export function presentMe(user: UserWithGroupsRow, org: OrganizationRow): MeDto {
  return { user: presentPerson(user), org: presentOrg(org) };
}

/** A pending invite (never its token). */
export function presentInvite(invite: InviteRow): InviteDto {
  return {
    id: invite.id,
    email: invite.email,
    role: invite.role,
    managerId: invite.managerId,
    invitedBy: invite.invitedBy,
    expiresAt: invite.expiresAt.toISOString(),
    createdAt: invite.createdAt.toISOString(),
  };
}

/** A group with its members. */
export function presentGroup(group: GroupRow): GroupDto {
  return { id: group.id, name: group.name, memberIds: group.memberIds };
}
