/**
 * @module app/lib/components/sharing/sharing-draft
 * The editable form of an email sharing setting, shared by my Sharing page
 * and the admin's edit dialog, and the words used to describe each mode.
 */
import type { EmailSharingDto, EmailSharingInput } from '$sync/sharing-api';
import type { SharingMode } from '$sync/sharing';

export const MODE_LABELS: Record<SharingMode, string> = { private: 'Private', custom: 'Custom', public: 'Public' };

export const MODE_SUMMARIES: Record<SharingMode, string> = {
  private: 'Nobody else sees your email, not even your managers.',
  custom: 'Record by record: mail about a record is shared once you switch on “Share my emails” on it.',
  public: 'Your mail about every record is shared with everyone who can access that record.',
};

export const MODE_TONES = { private: 'neutral', custom: 'accent', public: 'success' } as const;

/** Server errors shown next to the field they name (top-level segment of `field`). */
export interface SharingFieldErrors {
  excludedDomains?: string;
  audience?: string;
}

/** Whether shared mail goes to everyone who can access the record, or to chosen people and groups only. */
export type AudienceScope = 'everyone' | 'chosen';

export class SharingDraft {
  mode = $state<SharingMode>('custom');
  excludedDomains = $state<string[]>([]);
  scope = $state<AudienceScope>('everyone');
  userIds = $state<string[]>([]);
  groupIds = $state<string[]>([]);

  /** The audience applies only while something is shared. */
  readonly sharesMail = $derived(this.mode !== 'private');

  /** Starts the draft from a saved setting. */
  reset(setting: EmailSharingDto): void {
    this.mode = setting.mode;
    this.excludedDomains = [...setting.excludedDomains];
    this.scope = setting.audience ? 'chosen' : 'everyone';
    this.userIds = [...(setting.audience?.userIds ?? [])];
    this.groupIds = [...(setting.audience?.groupIds ?? [])];
  }

  /** The request body. Private has no audience; the chosen people are kept in the draft in case the mode comes back. */
  toInput(): EmailSharingInput {
    const chosen = this.sharesMail && this.scope === 'chosen';
    return {
      mode: this.mode,
      excludedDomains: [...this.excludedDomains],
      audience: chosen ? { userIds: [...this.userIds], groupIds: [...this.groupIds] } : null,
    };
  }
}

/** A saved setting as the body that would save it again, to tell whether a draft changed anything. */
export function settingInput(setting: EmailSharingDto): EmailSharingInput {
  return { mode: setting.mode, excludedDomains: [...setting.excludedDomains], audience: setting.audience };
}

/** Whether two bodies save the same setting (the order of chosen ids does not matter). */
export function sameInput(a: EmailSharingInput, b: EmailSharingInput): boolean {
  const ids = (x: EmailSharingInput) =>
    x.audience ? [[...x.audience.userIds].sort(), [...x.audience.groupIds].sort()] : null;
  return a.mode === b.mode && a.excludedDomains.join() === b.excludedDomains.join() && JSON.stringify(ids(a)) === JSON.stringify(ids(b));
}

// A person at a free mail provider has no company domain worth excluding.
const FREE_MAIL = new Set(['gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'yahoo.com', 'icloud.com', 'me.com', 'proton.me', 'protonmail.com', 'aol.com', 'gmx.com', 'gmx.de', 'web.de']);

/** The company domain of a work address, or null for a free mail provider. */
export function companyDomain(email: string | undefined): string | null {
  const domain = email?.slice(email.lastIndexOf('@') + 1).toLowerCase() ?? '';
  return domain && !FREE_MAIL.has(domain) ? domain : null;
}
