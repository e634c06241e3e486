/**
 * @module server/mail/account-update
 * What a settings change means for a connected mailbox: the settings it
 * leaves (the stored ones where the change is silent), which servers must be
 * probed again before saving, and the rules only the stored account can
 * decide. A stored secret is only ever sent to the server and security it
 * was saved with, so changing either needs the secret typed again: a
 * hijacked session cannot point the account at its own server to harvest it.
 */
import type { MailAccountRow, MailAccountPatch } from '../../db/queries/mail-accounts';
import type { MailAuthKind } from '../../sync/api';
import { invalid } from '../errors';
import type { ValidMailAccountUpdate } from './account-input';
import type { Credential, EndpointSettings } from './connection';

/** The account's opened credentials (`smtp` is the incoming one when shared). */
export interface OpenedSecrets {
  imap: string;
  smtp: string;
}

export interface UpdatePlan {
  imap: EndpointSettings;
  smtp: EndpointSettings;
  /** Servers whose effective settings changed: probed before anything is saved. */
  changed: { imap: boolean; smtp: boolean };
  /** Column values, secrets still in plaintext (the command seals them). */
  patch: Omit<MailAccountPatch, 'imapSecret' | 'smtpSecret' | 'resetHealth'>;
  /** A new incoming secret to seal. */
  imapSecret: string | null;
  /** A new outgoing secret to seal; null: outgoing now shares the incoming one; undefined: unchanged. */
  smtpSecret: string | null | undefined;
}

const AGAIN = 'enter it again: the saved one is only sent to the server and security it was saved with';

function credential(kind: MailAuthKind, secret: string): Credential {
  return kind === 'oauth2' ? { kind: 'oauth2', accessToken: secret } : { kind: 'password', password: secret };
}

/**
 * Merges a change into an account.
 * @throws {HttpError} 400 `validation_failed` naming the secret that must be given.
 */
export function planUpdate(account: MailAccountRow, stored: OpenedSecrets, input: ValidMailAccountUpdate): UpdatePlan {
  const authKind = input.authKind ?? account.authKind;
  const kindChanged = authKind !== account.authKind;
  const imap = {
    host: input.imap?.host ?? account.imapHost,
    port: input.imap?.port ?? account.imapPort,
    security: input.imap?.security ?? account.imapSecurity,
    user: input.imap?.user ?? account.imapUser,
  };
  const newImapSecret = input.imap?.password ?? null;
  const imapMoved = imap.host !== account.imapHost || imap.security !== account.imapSecurity;
  if (!newImapSecret && kindChanged) {
    throw invalid('imap.password', 'imap.password: is required when changing how the account signs in');
  }
  if (!newImapSecret && imapMoved) {
    throw invalid('imap.password', `imap.password: ${AGAIN}`);
  }

  const same = input.smtpSameCredentials ?? account.smtpSameCredentials;
  const smtp = {
    host: input.smtp?.host ?? account.smtpHost,
    port: input.smtp?.port ?? account.smtpPort,
    security: input.smtp?.security ?? account.smtpSecurity,
    user: same ? imap.user : (input.smtp?.user ?? account.smtpUser),
  };
  const newSmtpSecret = same ? null : (input.smtp?.password ?? null);
  const smtpMoved = smtp.host !== account.smtpHost || smtp.security !== account.smtpSecurity;
  if (same && smtpMoved && !newImapSecret) {
    throw invalid('imap.password', `imap.password: outgoing uses it, so ${AGAIN}`);
  }
  if (!same && !newSmtpSecret) {
    const reason = account.smtpSameCredentials
      ? 'is required when outgoing no longer uses the incoming credentials'
      : kindChanged
        ? 'is required when changing how the account signs in'
        : smtpMoved
          ? AGAIN
          : null;
    if (reason) {
      throw invalid('smtp.password', `smtp.password: ${reason}`);
    }
  }

  const imapSecret = newImapSecret ?? stored.imap;
  const smtpSecret = same ? imapSecret : (newSmtpSecret ?? stored.smtp);
  const changed = {
    imap: imapMoved || imap.port !== account.imapPort || imap.user !== account.imapUser || newImapSecret !== null || kindChanged,
    smtp:
      smtpMoved ||
      smtp.port !== account.smtpPort ||
      smtp.user !== account.smtpUser ||
      same !== account.smtpSameCredentials ||
      newSmtpSecret !== null ||
      kindChanged ||
      (same && newImapSecret !== null),
  };
  const label = input.label === undefined ? undefined : input.label || account.email;
  return {
    imap: { ...imap, credential: credential(authKind, imapSecret) },
    smtp: { ...smtp, credential: credential(authKind, smtpSecret) },
    changed,
    patch: {
      label,
      storeSent: input.storeSent,
      ...(changed.imap || changed.smtp
        ? {
            authKind,
            imapHost: imap.host,
            imapPort: imap.port,
            imapSecurity: imap.security,
            imapUser: imap.user,
            smtpHost: smtp.host,
            smtpPort: smtp.port,
            smtpSecurity: smtp.security,
            smtpUser: smtp.user,
          }
        : {}),
    },
    imapSecret: newImapSecret,
    smtpSecret: same ? (account.smtpSameCredentials ? undefined : null) : (newSmtpSecret ?? undefined),
  };
}
