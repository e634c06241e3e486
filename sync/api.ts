/**
 * @module sync/api
 * The JSON contract between the server's presenters and the app. Types only:
 * the server's presenters `satisfies` these and the app's client is typed by
 * them, so a change on either side fails the type-check of the other.
 */

import type { RecordAccess } from './sharing';

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
  addressTaken: 'address_taken',
  alreadyConverted: 'already_converted',
  invalidCsv: 'invalid_csv',
  signupClosed: 'signup_closed',
  inviteInvalid: 'invite_invalid',
  inviteExpired: 'invite_expired',
  inviteUsed: 'invite_used',
  managerCycle: 'manager_cycle',
  connectionFailed: 'connection_failed',
  fromAddressNotAllowed: 'from_address_not_allowed',
  lastAdmin: 'last_admin',
  settingLocked: 'setting_locked',
  deactivated: 'account_deactivated',
  payloadTooLarge: 'payload_too_large',
  internal: 'internal_error',
  unavailable: 'unavailable',
  mailboxSecretUnavailable: 'mailbox_secret_unavailable',
  /** The image proxy refused an address (private, loopback, link-local…) or a link it did not sign. */
  imageRefused: 'image_refused',
  /** The image proxy's target answered something that is not a raster image. */
  notAnImage: 'not_an_image',
  /** The image proxy could not get the image (unreachable, timed out, upstream error, too many redirects). */
  imageUnavailable: 'image_unavailable',
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Body of every error response. `field` is the dotted path of the offending input, when there is one. */
export interface ApiErrorBody {
  /** `details` carries machine-readable context for some codes (e.g. `address_taken`: the record that has the address). */
  error: { code: ErrorCode; message: string; field?: string; details?: Record<string, string> };
}

export interface OrgDto {
  id: string;
  name: string;
  /** Who can access records: everyone (public) or owner, their managers and shares (private). */
  recordAccess: RecordAccess;
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

/** The longest signature, in characters. */
export const MAX_SIGNATURE_LENGTH = 10_000;

/** A person's email signature: plain text, added under a `-- ` line when composing ('' for none). */
export interface SignatureDto {
  signature: string;
  /** Null until the person first saved one. */
  updatedAt: string | null;
}

export interface SignatureInput {
  signature: string;
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

export const MAIL_SECURITY = ['tls', 'starttls', 'none'] as const;
export type MailSecurity = (typeof MAIL_SECURITY)[number];

export interface ServerSettingsDto {
  host: string;
  port: number;
  security: MailSecurity;
}

export interface ProviderPresetDto {
  id: string;
  name: string;
  imap: ServerSettingsDto;
  smtp: ServerSettingsDto;
  username: 'address' | 'local-part';
  passwordHint: string | null;
  appPasswordUrl: string | null;
}

export interface PresetListDto {
  presets: ProviderPresetDto[];
}

export interface EndpointInput extends ServerSettingsDto {
  user: string;
  password: string;
}

/** Connect a mailbox. With `smtpSameCredentials`, the SMTP user and password are the IMAP ones. */
export interface MailAccountInput {
  label?: string;
  email: string;
  provider: string;
  imap: EndpointInput;
  smtp: ServerSettingsDto & { user?: string; password?: string };
  smtpSameCredentials: boolean;
  storeSent: boolean;
  fromAddresses?: { address: string; name?: string | null }[];
}

export interface ConnectionProblemDto {
  code: string;
  message: string;
  hint: string | null;
}

export type ProbeResultDto = { ok: true } | { ok: false; problem: ConnectionProblemDto };

export interface ConnectionTestDto {
  imap: ProbeResultDto;
  smtp: ProbeResultDto;
}

/** Update a mailbox's settings; everything is optional and a secret left out keeps the stored one. */
export interface MailAccountUpdateInput {
  /** An empty label falls back to the address. */
  label?: string;
  /** How the account signs in; switching needs the new incoming secret (and the outgoing one, unless shared). */
  authKind?: MailAuthKind;
  /** `password` is the password, app password or (authKind oauth2) access token. */
  imap?: Partial<ServerSettingsDto> & { user?: string; password?: string };
  smtp?: Partial<ServerSettingsDto> & { user?: string; password?: string };
  smtpSameCredentials?: boolean;
  storeSent?: boolean;
  /** Replaces the From addresses; row 0 is the mailbox's own address. */
  fromAddresses?: { address: string; name?: string | null }[];
}

export const MAIL_AUTH_KINDS = ['password', 'oauth2'] as const;
export type MailAuthKind = (typeof MAIL_AUTH_KINDS)[number];

/**
 * The `details` of a 422 `connection_failed`: for every server that refused,
 * `<imap|smtp>.code`, `<imap|smtp>.message` and, when there is one, `<imap|smtp>.hint`.
 */
export type ConnectionFailureDetails = Partial<Record<`${'imap' | 'smtp'}.${'code' | 'message' | 'hint'}`, string>>;

export const MAIL_ACCOUNT_STATUSES = ['pending', 'syncing', 'idle', 'error', 'disabled'] as const;
export type MailAccountStatus = (typeof MAIL_ACCOUNT_STATUSES)[number];

export interface MailAccountDto {
  id: string;
  ownerId: string;
  label: string;
  email: string;
  provider: string;
  imap: ServerSettingsDto & { user: string };
  smtp: ServerSettingsDto & { user: string };
  smtpSameCredentials: boolean;
  authKind: MailAuthKind;
  storeSent: boolean;
  status: MailAccountStatus;
  /** `since`: when this status and code began; `checkedAt`: the latest check, whatever its outcome. */
  health: { code: string | null; message: string | null; hint: string | null; since: string | null; checkedAt: string | null };
  progress: { done: number; total: number };
  initialSyncCompletedAt: string | null;
  fromAddresses: { address: string; name: string | null; isDefault: boolean }[];
  createdAt: string;
}

export interface MailAccountListDto {
  accounts: MailAccountDto[];
}

/** How a message relates to the one it answers: a fresh message, a reply, a reply to all, or a forward. */
export const SEND_MODES = ['new', 'reply', 'replyAll', 'forward'] as const;
export type SendMode = (typeof SEND_MODES)[number];

/** A recipient: a bare address, or an address with a display name. */
export type RecipientInput = string | { address: string; name?: string | null };

/**
 * Send a message through one of your mailboxes. `id` is the client's idempotency
 * key (a UUID made once per composed message): sending again with the same id
 * never sends twice, it reports the first send. `to` may be left out for a
 * reply or reply-all (the recipients then come from the replied message).
 */
export interface SendMailInput {
  id: string;
  accountId: string;
  from: string;
  to?: RecipientInput[];
  cc?: RecipientInput[];
  bcc?: RecipientInput[];
  subject?: string;
  text: string;
  html?: string | null;
  replyToMessageId?: string | null;
  mode?: SendMode;
}

export const OUTBOUND_STATUSES = ['queued', 'sending', 'sent', 'failed'] as const;
export type OutboundStatus = (typeof OUTBOUND_STATUSES)[number];

/** The state of one send. `sending` with an `error` means delivery could not be confirmed and is not retried. */
export interface OutboundDto {
  outboundId: string;
  status: OutboundStatus;
  /** The Message-ID header, without angle brackets. */
  messageId: string;
  threadId: string | null;
  /** The stored message (`messages.id`) once sent. */
  storedMessageId: string | null;
  error: string | null;
  sentAt: string | null;
  /** When the copy was saved to the server's Sent folder, if it was. */
  appendedAt: string | null;
}

/** Mark a message read or unread, in Shoal and on the mail server. */
export interface MarkSeenInput {
  seen: boolean;
}

export interface MessageSeenDto {
  id: string;
  seen: boolean;
  /** How many server copies (folder locations) were updated. */
  locationsUpdated: number;
}
