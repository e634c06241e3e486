/**
 * @module server/outbound/mark-seen
 * "Read in Shoal → read on the server": sets or clears \Seen on every server
 * copy of a message (each folder location, by UID) over a short-lived IMAP
 * connection, then mirrors it in Shoal. The server goes first: if it cannot
 * be reached nothing changes, so sync never flips the flag back later.
 */
import { ImapFlow } from 'imapflow';
import { findMailAccount, type MailAccountRow } from '../../db/queries/mail-accounts';
import { findOwnedMessage, listLocations, setSeen, type LocationRow } from '../../db/queries/outbound';
import { ERROR_CODES, type MessageSeenDto } from '../../sync/api';
import type { Auth, Deps } from '../context';
import { HttpError, notFound } from '../errors';
import { classifyConnectionError, type ConnectionProblem } from '../mail/connection-errors';
import { imapOptions, pinEndpoint } from '../mail/connection';
import { accountEndpoints, SEND_TIMEOUTS } from './send-message';

function byFolder(locations: readonly LocationRow[]): Map<string, LocationRow[]> {
  const groups = new Map<string, LocationRow[]>();
  for (const l of locations) {
    groups.set(l.path, [...(groups.get(l.path) ?? []), l]);
  }
  return groups;
}

/**
 * Stores the flag in each folder. A location of an older UIDVALIDITY is
 * skipped: its UID now names nothing (sync relinks it on its next pass).
 * @returns the locations that were updated.
 */
async function storeOnServer(client: ImapFlow, locations: readonly LocationRow[], seen: boolean): Promise<LocationRow[]> {
  const updated: LocationRow[] = [];
  for (const [path, group] of byFolder(locations)) {
    const lock = await client.getMailboxLock(path);
    try {
      const uidvalidity = Number(client.mailbox ? client.mailbox.uidValidity : 0);
      const current = group.filter((l) => l.uidvalidity === uidvalidity);
      if (current.length === 0) {
        continue;
      }
      const range = current.map((l) => l.uid).join(',');
      if (seen) {
        await client.messageFlagsAdd(range, ['\\Seen'], { uid: true });
      } else {
        await client.messageFlagsRemove(range, ['\\Seen'], { uid: true });
      }
      updated.push(...current);
    } finally {
      lock.release();
    }
  }
  return updated;
}

function unreachable(deps: Deps, account: MailAccountRow, problem: ConnectionProblem): HttpError {
  deps.log.warn({ accountId: account.id, code: problem.code }, 'could not change \\Seen on the server');
  return new HttpError(502, ERROR_CODES.connectionFailed, problem.hint ? `${problem.message} ${problem.hint}` : problem.message, 'imap');
}

async function updateServer(deps: Deps, account: MailAccountRow, locations: readonly LocationRow[], seen: boolean): Promise<LocationRow[]> {
  const { imap } = await accountEndpoints(deps.db, deps.keyring, account);
  const pinned = await pinEndpoint('imap', imap, { allowPrivateHosts: deps.config.mailAllowPrivateHosts, log: deps.log });
  if (!pinned.ok) {
    throw unreachable(deps, account, pinned.problem);
  }
  const client = new ImapFlow(imapOptions(pinned.endpoint, SEND_TIMEOUTS));
  client.on('error', () => {});
  try {
    await client.connect();
    const updated = await storeOnServer(client, locations, seen);
    await client.logout();
    return updated;
  } catch (error) {
    const target = { protocol: 'imap', host: account.imapHost, port: account.imapPort, security: account.imapSecurity } as const;
    throw unreachable(deps, account, classifyConnectionError(error, target));
  } finally {
    client.close();
  }
}

/**
 * Marks one of the person's messages read or unread, on the server and in Shoal.
 * @throws {HttpError} 404 for a message not in one of their mailboxes; 502 when the server cannot be reached.
 */
export async function markMessageSeen(deps: Deps, auth: Auth, messageId: string, seen: boolean): Promise<MessageSeenDto> {
  const message = await findOwnedMessage(deps.db, auth.user.id, messageId);
  const account = message ? await findMailAccount(deps.db, auth.user.orgId, message.accountId) : null;
  if (!message || !account) {
    throw notFound('Message');
  }
  const locations = await listLocations(deps.db, message.id);
  const updated = locations.length > 0 ? await updateServer(deps, account, locations, seen) : [];
  await deps.db.transaction((tx) => setSeen(tx, message.id, seen, updated));
  deps.changes?.publish({ kind: 'messages', accountId: account.id, threadIds: [message.threadId] });
  return { id: message.id, seen, locationsUpdated: updated.length };
}
