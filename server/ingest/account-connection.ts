/**
 * @module server/ingest/account-connection
 * What a mailbox worker needs around one IMAP connection: the account's
 * endpoint with its credential unsealed (refusing a server the address
 * policy forbids, at every connection), the folders worth syncing, a NOOP
 * that proves the socket is alive, and what a failure tells the person.
 */
import type { ImapFlow } from 'imapflow';
import type { MailAccountRow } from '../../db/queries/mail-accounts';
import { listFolders, upsertFolder } from '../../db/queries/mail-folders';
import type { Db } from '../../db/types';
import { classifyConnectionError, type ConnectionProblem } from '../mail/connection-errors';
import { dialableEndpoint, HostNotAllowedError, type DialableEndpoint, type HostPolicy } from '../mail/connection';
import type { Keyring } from '../secrets/keyring';
import { accountEndpoints } from '../outbound/send-message';
import { planFolders, syncOrder } from './folders';

/**
 * The account's IMAP endpoint, credential included, pinned to the address checked now.
 * @throws HostNotAllowedError when the server's name now points to a private or local address and that is not allowed.
 */
export async function imapEndpoint(db: Db, keyring: Keyring, account: MailAccountRow, policy: HostPolicy): Promise<DialableEndpoint> {
  const { imap: settings } = await accountEndpoints(db, keyring, account);
  return dialableEndpoint('imap', settings, policy);
}

/** Lists the server's folders, records the ones to sync, and returns their rows in sync order. */
export async function discoverFolders(db: Db, client: ImapFlow, account: MailAccountRow) {
  const listed = await client.list();
  const gmail = client.capabilities.has('X-GM-EXT-1');
  const plans = planFolders(
    listed.map((f) => ({ path: f.path, delimiter: f.delimiter, flags: f.flags, specialUse: f.specialUse })),
    gmail,
  ).sort(syncOrder);
  for (const plan of plans) {
    await upsertFolder(db, { accountId: account.id, ...plan });
  }
  const rows = await listFolders(db, account.id);
  return plans.map((p) => rows.find((r) => r.path === p.path)).filter((r) => r !== undefined);
}

/** What a failed connection or pass tells the person: the refusal Shoal made itself, or the server's error explained. */
export function imapProblem(error: unknown, account: MailAccountRow): ConnectionProblem {
  if (error instanceof HostNotAllowedError) {
    return error.problem;
  }
  return classifyConnectionError(error, { protocol: 'imap', host: account.imapHost, port: account.imapPort, security: account.imapSecurity });
}

/** A NOOP that does not come back within `ms` means a half-open socket: the connection is closed and the error thrown. */
export async function noopWithin(client: ImapFlow, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('watchdog: NOOP unanswered, the connection is half-open')), ms);
  });
  try {
    await Promise.race([client.noop(), timeout]);
  } catch (error) {
    client.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
