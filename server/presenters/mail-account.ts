/**
 * @module server/presenters/mail-account
 * A mailbox as the app sees it: settings and health, never a credential.
 */
import type { MailAccountRow } from '../../db/queries/mail-accounts';
import type { MailAccountDto, ProviderPresetDto } from '../../sync/api';
import type { ProviderPreset } from '../mail/presets';

/** One connected mailbox. */
export function presentMailAccount(a: MailAccountRow): MailAccountDto {
  return {
    id: a.id,
    ownerId: a.ownerId,
    label: a.label,
    email: a.email,
    provider: a.provider,
    imap: { host: a.imapHost, port: a.imapPort, security: a.imapSecurity, user: a.imapUser },
    smtp: { host: a.smtpHost, port: a.smtpPort, security: a.smtpSecurity, user: a.smtpUser },
    smtpSameCredentials: a.smtpSameCredentials,
    authKind: a.authKind,
    storeSent: a.storeSent,
    status: a.status,
    health: {
      code: a.healthCode,
      message: a.healthMessage,
      hint: a.healthHint,
      since: a.healthAt?.toISOString() ?? null,
      checkedAt: a.healthCheckedAt?.toISOString() ?? null,
    },
    progress: { done: a.syncDone, total: a.syncTotal },
    initialSyncCompletedAt: a.initialSyncCompletedAt?.toISOString() ?? null,
    fromAddresses: a.fromAddresses,
    createdAt: a.createdAt.toISOString(),
  };
}

/** A provider preset. */
export function presentPreset(p: ProviderPreset): ProviderPresetDto {
  return {
    id: p.id,
    name: p.name,
    imap: { ...p.imap },
    smtp: { ...p.smtp },
    username: p.username,
    passwordHint: p.passwordHint,
    appPasswordUrl: p.appPasswordUrl,
  };
}
