/**
 * @module sync/api
 * The JSON contract between the server's presenters and the app. Types only:
 * the server's presenters `satisfies` these and the app's client is typed by
 * them, so a change on either side fails the type-check of the other.
 */

export const ROLES = ['admin', 'manager', 'rep'] as const;
export type Role = (typeof ROLES)[number];

/** Stable error codes; the app switches on these, never on messages. */
export const ERROR_CODES = {
  badRequest: 'bad_request',
  invalidJson: 'invalid_json',
  validationFailed: 'validation_failed',
  authRequired: 'auth_required',
  invalidCredentials: 'invalid_credentials',
  tooManyAttempts: 'too_many_attempts',
  forbidden: 'forbidden',
  originRejected: 'origin_rejected',
  notFound: 'not_found',
  conflict: 'conflict',
  emailTaken: 'email_taken',
  signupClosed: 'signup_closed',
  inviteInvalid: 'invite_invalid',
  inviteExpired: 'invite_expired',
  inviteUsed: 'invite_used',
  managerCycle: 'manager_cycle',
  lastAdmin: 'last_admin',
  deactivated: 'account_deactivated',
  payloadTooLarge: 'payload_too_large',
  internal: 'internal_error',
  unavailable: 'unavailable',
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Body of every error response. `field` is the dotted path of the offending input, when there is one. */
export interface ApiErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

export interface OrgDto {
  id: string;
  name: string;
}

export interface PersonDto {
  id: string;
  email: string;
  name: string;
  role: Role;
  managerId: string | null;
  active: boolean;
  groupIds: string[];
  createdAt: string;
}

export interface MeDto {
  user: PersonDto;
  org: OrgDto;
}

export interface AuthStateDto {
  /** False until the first sign-up has created an organization. */
  hasOrganization: boolean;
  /** Whether `POST /api/auth/signup` will be accepted. */
  signupOpen: boolean;
}

export interface InviteDto {
  id: string;
  email: string;
  role: Role;
  managerId: string | null;
  invitedBy: string;
  expiresAt: string;
  createdAt: string;
}

/** Returned once, at creation: the only time the invite link is known. */
export interface CreatedInviteDto {
  invite: InviteDto;
  url: string;
}

/** What an invitee sees before accepting (no auth needed, token in path). */
export interface InvitePreviewDto {
  email: string;
  role: Role;
  orgName: string;
  invitedByName: string;
  expiresAt: string;
}

export interface GroupDto {
  id: string;
  name: string;
  memberIds: string[];
}

export interface PeopleListDto {
  people: PersonDto[];
}

export interface GroupListDto {
  groups: GroupDto[];
}

export interface InviteListDto {
  invites: InviteDto[];
}

export interface SignUpInput {
  orgName: string;
  name: string;
  email: string;
  password: string;
}

export interface LogInInput {
  email: string;
  password: string;
}

export interface AcceptInviteInput {
  name: string;
  password: string;
}

export interface CreateInviteInput {
  email: string;
  role: Role;
  managerId?: string | null;
}

export interface UpdatePersonInput {
  name?: string;
  role?: Role;
  managerId?: string | null;
}

export interface GroupInput {
  name: string;
}

export interface GroupMembersInput {
  userIds: string[];
}

/** Minimum and maximum password lengths, shared so the form and the server agree. */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;
