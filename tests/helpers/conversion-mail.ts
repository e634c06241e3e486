/**
 * @module tests/helpers/conversion-mail
 * Real messages through the real store (parse, thread, participants) without
 * an IMAP server: a mailbox row, a folder, and .eml text built per test.
 */
import { updateFolder, upsertFolder, type FolderRow } from '../../db/queries/mail-folders';
import type { Db } from '../../db/types';
import { createMessageStore } from '../../server/ingest/store-messages';
import type { FetchedMessage } from '../../server/ingest/sync-folder';
import { createAccountSecrets } from '../../server/secrets/account-secrets';
import type { Keyring } from '../../server/secrets/keyring';

export interface TestMailbox {
  accountId: string;
  orgId: string;
  email: string;
  folder: FolderRow;
  uidvalidity: number;
  /** The next UID `deliver` will use. */
  nextUid: number;
}

/** A connected mailbox (status disabled, so nothing tries to sync it) with an INBOX folder. */
export async function seedMailbox(db: Db, keyring: Keyring, orgId: string, ownerId: string, email: string): Promise<TestMailbox> {
  const accountId = crypto.randomUUID();
  const sealed = createAccountSecrets(keyring, accountId, { imap: 'pw', smtp: null });
  await db.query(
    `insert into mail_accounts (id, org_id, owner_id, label, email, provider, imap_host, imap_port, imap_security, imap_user,
       smtp_host, smtp_port, smtp_security, smtp_user, auth_kind, wrapped_dek, imap_secret, smtp_secret, status)
     values ($1, $2, $3, 'Work', $4, 'custom', 'imap.example.test', 993, 'tls', $4,
       'smtp.example.test', 465, 'tls', $4, 'password', $5, $6, $7, 'disabled')`,
    [accountId, orgId, ownerId, email, sealed.wrappedDek, sealed.imapSecret, sealed.smtpSecret],
  );
  await db.query('insert into mail_account_addresses (account_id, address, is_default) values ($1, $2, true)', [accountId, email]);
  const folder = await upsertFolder(db, { accountId, path: 'INBOX', delimiter: '/', role: 'inbox', selectable: true });
  const uidvalidity = 1000 + Math.floor(Math.random() * 1000);
  await updateFolder(db, folder.id, { uidvalidity });
  return { accountId, orgId, email, folder: { ...folder, uidvalidity }, uidvalidity, nextUid: 1 };
}

export interface TestMail {
  from: string;
  fromName?: string;
  to: string[];
  cc?: string[];
  subject?: string;
  body?: string;
  /** The Date header; defaults to `receivedAt`. */
  date?: Date;
  /** The server's INTERNALDATE; defaults to now. */
  receivedAt?: Date;
}

/** An RFC 822 message. */
export function eml(mail: TestMail): string {
  const from = mail.fromName ? `"${mail.fromName}" <${mail.from}>` : mail.from;
  const date = mail.date ?? mail.receivedAt ?? new Date();
  return [
    `From: ${from}`,
    `To: ${mail.to.join(', ')}`,
    ...(mail.cc?.length ? [`Cc: ${mail.cc.join(', ')}`] : []),
    `Subject: ${mail.subject ?? 'Hello'}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <${crypto.randomUUID()}@mail.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    mail.body ?? 'Hi there',
    '',
  ].join('\r\n');
}

/**
 * Stores messages into the mailbox's INBOX as one batch through the ingest store.
 * @returns the UIDs used, for the batch hook.
 */
export async function deliver(db: Db, keyring: Keyring, box: TestMailbox, mails: readonly TestMail[]): Promise<FetchedMessage[]> {
  const store = createMessageStore(db, {
    accountId: box.accountId,
    orgId: box.orgId,
    ownAddresses: [box.email],
    messageIdKey: keyring.messageIdKey,
  });
  const fetched = mails.map((mail): FetchedMessage => {
    const uid = box.nextUid++;
    return {
      uid,
      flags: [],
      modseq: null,
      internalDate: mail.receivedAt ?? new Date(),
      source: Buffer.from(eml(mail)),
      emailId: null,
      gmThreadId: null,
    };
  });
  await store.storeBatch(box.folder, box.uidvalidity, fetched, { uidnext: box.nextUid });
  return fetched;
}

/** The stored message id of a delivered UID. */
export async function messageIdOf(db: Db, box: TestMailbox, uid: number): Promise<string> {
  const [row] = await db.query<{ id: string }>(
    'select message_id as id from message_locations where folder_id = $1 and uidvalidity = $2 and uid = $3',
    [box.folder.id, box.uidvalidity, uid],
  );
  if (!row) {
    throw new Error(`no message at uid ${uid}`);
  }
  return row.id;
}
