/**
 * @module sync/sharing-api
 * The JSON contract of the email sharing settings and the organization's
 * record access: my setting, the admin "Email sharing" page, the org switch.
 */
import type { RecordAccess, SharingMode } from './sharing';

/** Custom or Public: who the shared mail goes to instead of everyone with record access. */
export interface SharingAudienceDto {
  userIds: string[];
  groupIds: string[];
}

/** Change your own setting (`PUT /api/me/email-sharing`). */
export interface EmailSharingInput {
  mode: SharingMode;
  /** Domains or `@domain`s; normalized, deduplicated, at most `MAX_EXCLUDED_DOMAINS`. Kept under Private, where nothing is shared anyway. */
  excludedDomains: string[];
  /** Null shares with everyone who can access the record; not allowed with Private. */
  audience: SharingAudienceDto | null;
}

/** An admin changes someone's setting and may lock it (`PUT /api/admin/email-sharing/:userId`). */
export interface AdminEmailSharingInput extends EmailSharingInput {
  locked: boolean;
}

/** One person's setting. A person who never chose has the default (custom, nothing excluded, unrestricted). */
export interface EmailSharingDto {
  mode: SharingMode;
  excludedDomains: string[];
  audience: SharingAudienceDto | null;
  /** Set by an admin: the person cannot change it. */
  locked: boolean;
  /** Who changed it last; null while it is the default, or when that person was deleted. */
  updatedBy: { id: string; name: string } | null;
  updatedAt: string | null;
}

export interface SharingPersonDto {
  id: string;
  name: string;
  email: string;
  active: boolean;
}

export interface PersonEmailSharingDto {
  person: SharingPersonDto;
  setting: EmailSharingDto;
}

/** Counts over active people only: deactivated people share nothing new. */
export interface EmailSharingStatsDto {
  public: number;
  custom: number;
  private: number;
  locked: number;
  /** Custom and Public mailboxes shared with chosen people or groups only. */
  restricted: number;
  /** Domains excluded by Custom and Public mailboxes (where exclusion applies), most used first. */
  excludedDomains: { domain: string; people: number }[];
}

/** `GET /api/admin/email-sharing`: everyone, active first, then by name. */
export interface AdminEmailSharingDto {
  people: PersonEmailSharingDto[];
  stats: EmailSharingStatsDto;
}

/** `GET/PUT /api/admin/organization`. */
export interface OrganizationSettingsInput {
  recordAccess: RecordAccess;
}
