/**
 * @module server/mail/presets
 * Server settings of the common providers, so most people only type their
 * address and an (app) password. Values are the providers' published ones.
 */

export const SECURITY = { tls: 'tls', starttls: 'starttls', none: 'none' } as const;
export type Security = (typeof SECURITY)[keyof typeof SECURITY];

export interface ServerSettings {
  host: string;
  port: number;
  security: Security;
}

export interface ProviderPreset {
  id: string;
  name: string;
  imap: ServerSettings;
  smtp: ServerSettings;
  /** Whether the IMAP/SMTP user name is the whole address or only the part before @. */
  username: 'address' | 'local-part';
  /** Shown beside the password field. */
  passwordHint: string | null;
  /** Where the person creates an app password, when the provider needs one. */
  appPasswordUrl: string | null;
}

export const PROVIDER_PRESETS = [
  {
    id: 'gmail',
    name: 'Gmail / Google Workspace',
    imap: { host: 'imap.gmail.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp.gmail.com', port: 465, security: 'tls' },
    username: 'address',
    passwordHint: 'Google requires an app password (with 2-Step Verification on), not your Google password.',
    appPasswordUrl: 'https://myaccount.google.com/apppasswords',
  },
  {
    id: 'outlook',
    name: 'Outlook.com / Hotmail',
    imap: { host: 'outlook.office365.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp-mail.outlook.com', port: 587, security: 'starttls' },
    username: 'address',
    passwordHint: 'Microsoft may refuse password sign-in for IMAP; if it does, the account needs OAuth sign-in.',
    appPasswordUrl: 'https://account.live.com/proofs/AppPassword',
  },
  {
    id: 'office365',
    name: 'Microsoft 365 (work or school)',
    imap: { host: 'outlook.office365.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp.office365.com', port: 587, security: 'starttls' },
    username: 'address',
    passwordHint: 'Your admin must allow IMAP and SMTP AUTH for your mailbox; many tenants require OAuth sign-in.',
    appPasswordUrl: null,
  },
  {
    id: 'yahoo',
    name: 'Yahoo Mail',
    imap: { host: 'imap.mail.yahoo.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp.mail.yahoo.com', port: 465, security: 'tls' },
    username: 'address',
    passwordHint: 'Yahoo requires an app password generated in your account security settings.',
    appPasswordUrl: 'https://login.yahoo.com/account/security/app-passwords',
  },
  {
    id: 'zoho',
    name: 'Zoho Mail',
    imap: { host: 'imap.zoho.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp.zoho.com', port: 465, security: 'tls' },
    username: 'address',
    passwordHint: 'Turn on IMAP access in Zoho Mail settings; with two-factor sign-in, use an application-specific password.',
    appPasswordUrl: 'https://accounts.zoho.com/home#security/app_password',
  },
  {
    id: 'icloud',
    name: 'iCloud Mail',
    imap: { host: 'imap.mail.me.com', port: 993, security: 'tls' },
    smtp: { host: 'smtp.mail.me.com', port: 587, security: 'starttls' },
    username: 'local-part',
    passwordHint: 'iCloud requires an app-specific password from your Apple Account settings.',
    appPasswordUrl: 'https://account.apple.com/account/manage',
  },
] as const satisfies readonly ProviderPreset[];

export type PresetId = (typeof PROVIDER_PRESETS)[number]['id'];
export const CUSTOM_PROVIDER = 'custom';

/** Finds a preset by id. */
export function findPreset(id: string): ProviderPreset | null {
  return PROVIDER_PRESETS.find((p) => p.id === id) ?? null;
}

/** The user name a preset expects for an address. */
export function presetUsername(preset: ProviderPreset, address: string): string {
  return preset.username === 'local-part' ? (address.split('@')[0] ?? address) : address;
}

/** The usual ports, named in "connection refused" hints. */
export const USUAL_PORTS = {
  imap: { tls: 993, starttls: 143, none: 143 },
  smtp: { tls: 465, starttls: 587, none: 25 },
} as const;
