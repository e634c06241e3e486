/**
 * @module server/outbound/notify-sync-complete
 * The "N messages synchronized" email sent when a mailbox's initial sync
 * finishes. It goes through the account's own SMTP server, From and To the
 * account's address, so it needs no mail setup of Shoal's own and lands
 * where the person already reads mail. Best effort: never throws.
 */
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { findMailAccountById, type MailAccountRow } from '../../db/queries/mail-accounts';
import type { Db } from '../../db/types';
import { classifyConnectionError } from '../mail/connection-errors';
import { pinEndpoint, smtpOptions } from '../mail/connection';
import type { Keyring } from '../secrets/keyring';
import { accountEndpoints, SEND_TIMEOUTS } from './send-message';

export interface NotifyDeps {
  db: Db;
  keyring: Keyring;
  log: Logger;
  /** Whether an SMTP server on a private or local address may be used; absent: refused. */
  allowPrivateHosts?: boolean;
}

/** "1 message synchronized", "1,234 messages synchronized". */
export function syncCompleteSubject(count: number): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'message' : 'messages'} synchronized`;
}

function bodyText(email: string, count: number): string {
  return [
    `Shoal has finished the first sync of ${email}: ${syncCompleteSubject(count)}.`,
    '',
    'New mail now appears in Shoal as it arrives, and what you send from Shoal is saved in this mailbox.',
    '',
  ].join('\n');
}

/**
 * Emails the account's owner that the initial sync is complete.
 * @param count the number shown in the in-app notification.
 */
export async function notifySyncComplete(deps: NotifyDeps, accountId: string, count: number): Promise<void> {
  let account: MailAccountRow | null = null;
  try {
    account = await findMailAccountById(deps.db, accountId);
    if (!account) {
      return;
    }
    const { smtp } = await accountEndpoints(deps.db, deps.keyring, account);
    const pinned = await pinEndpoint('smtp', smtp, { allowPrivateHosts: deps.allowPrivateHosts === true, log: deps.log });
    if (!pinned.ok) {
      deps.log.warn({ accountId, code: pinned.problem.code }, 'could not send the sync-complete email');
      return;
    }
    const transport = nodemailer.createTransport(smtpOptions(pinned.endpoint, SEND_TIMEOUTS));
    try {
      await transport.sendMail({
        from: { name: 'Shoal', address: account.email },
        to: account.email,
        subject: syncCompleteSubject(count),
        text: bodyText(account.email, count),
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
    } finally {
      transport.close();
    }
    deps.log.info({ accountId, messages: count }, 'sync-complete email sent');
  } catch (error) {
    const target = account
      ? ({ protocol: 'smtp', host: account.smtpHost, port: account.smtpPort, security: account.smtpSecurity } as const)
      : null;
    const code = target ? classifyConnectionError(error, target).code : 'unknown';
    deps.log.warn({ accountId, code }, 'could not send the sync-complete email');
  }
}
