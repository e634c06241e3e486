/**
 * The provider's own Sent copy of mail Shoal sent, on a server with stable
 * ids. Debian's Dovecot 2.3.19 has no OBJECTID (it answers `FETCH (EMAILID)`
 * with BAD), so the pass runs with `stableIds` forced and a client that
 * reports imapflow's per-copy id as each message's EMAILID, as an OBJECTID
 * server would: messages are keyed `id:<emailId>` while Shoal stored the
 * send under `mid:<Message-ID>`. Real send through the API and the SMTP sink, real
 * copies in Dovecot, real pass and store; each case must end with exactly
 * one message row for the sent Message-ID.
 */
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFolders, upsertFolder } from '../../db/queries/mail-folders';
import { createMessageStore } from '../../server/ingest/store-messages';
import { syncFolderPass } from '../../server/ingest/sync-folder';
import type { OutboundDto } from '../../sync/api';
import { client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { connectLoopbackAccount } from '../helpers/mail-account';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

/** Dovecot 2.3 has no EMAILID: each fetched copy gets imapflow's per-copy id (md5 of path, UIDVALIDITY, UID) instead. */
function withServerIds(imap: ImapFlow): ImapFlow {
  return new Proxy(imap, {
    get(target, prop) {
      if (prop === 'fetch') {
        return async function* fetch(...args: Parameters<ImapFlow['fetch']>) {
          for await (const msg of target.fetch(...args)) {
            yield { ...msg, emailId: msg.emailId ?? msg.id };
          }
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const FOLDERS = [
  { path: 'INBOX', role: 'inbox' },
  { path: 'Sent', role: 'sent' },
  { path: 'Archive', role: 'archive' },
] as const;

describe.runIf(dovecotAvailable()).each(driverCases())('server Sent copies of sent mail on $name', ({ create }) => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let api: Client;
  let cookie: string;
  let orgId: string;

  interface Account {
    id: string;
    user: string;
    email: string;
  }

  async function connect(user: string, storeSent: boolean): Promise<Account> {
    const email = `${user}@acme.test`;
    const id = await connectLoopbackAccount(api, cookie, { imapPort: dovecot.port, smtpPort: sink.port, user, password: `${user}-pw`, email, storeSent });
    for (const f of FOLDERS) {
      await upsertFolder(t.db, { accountId: id, path: f.path, delimiter: '/', role: f.role, selectable: true });
    }
    return { id, user, email };
  }

  /** Sends through the API and returns the Message-ID (without brackets). */
  async function send(account: Account, subject: string): Promise<string> {
    const res = await api.post<OutboundDto>(
      '/api/mail/send',
      { id: crypto.randomUUID(), accountId: account.id, from: account.email, to: ['erin@prospect.test'], subject, text: `About ${subject}` },
      { cookie },
    );
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    expect(res.body.status).toBe('sent');
    return res.body.messageId;
  }

  /** One sync pass over `path` with server ids trusted, as on Gmail or an OBJECTID server. */
  async function passWithStableIds(account: Account, path: string): Promise<void> {
    const imap = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: account.user, pass: `${account.user}-pw` }, logger: false });
    imap.on('error', () => {});
    await imap.connect();
    try {
      const folder = (await listFolders(t.db, account.id)).find((f) => f.path === path);
      const store = createMessageStore(t.db, { accountId: account.id, orgId, ownAddresses: [account.email], messageIdKey: h.deps.keyring.messageIdKey });
      const lock = await imap.getMailboxLock(path, { readOnly: true });
      try {
        await syncFolderPass({ db: t.db, client: withServerIds(imap), sink: store, stableIds: true, shouldStop: () => false }, folder?.id as string);
      } finally {
        lock.release();
      }
      await imap.logout();
    } finally {
      imap.close();
    }
  }

  const rowsWithId = (account: Account, headerId: string) =>
    t.db.query<{ id: string; key: string; emailId: string | null; sentFromShoal: boolean; direction: string }>(
      `select id, message_key as key, email_id as "emailId", sent_from_shoal as "sentFromShoal", direction
       from messages where account_id = $1 and header_message_id = $2`,
      [account.id, headerId],
    );
  const pathsOf = async (messageId: string) =>
    (
      await t.db.query<{ path: string }>(
        `select f.path from message_locations l join mail_folders f on f.id = l.folder_id where l.message_id = $1 order by f.path`,
        [messageId],
      )
    ).map((r) => r.path);

  beforeAll(async () => {
    dovecot = await startDovecot({ users: ['alice', 'bob'].map((name) => ({ name, password: `${name}-pw` })) });
    sink = await startSmtpSink();
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
    api = client(h.app);
    const admin = await signUpAdmin(api, 'admin@acme.test');
    cookie = admin.cookie;
    orgId = admin.orgId;
  }, 60_000);

  afterAll(async () => {
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('links Shoal’s own APPENDed Sent copy to the stored send and re-keys it to the server id', async () => {
    const alice = await connect('alice', true);
    const messageId = await send(alice, 'Intro to Shoal');
    const [stored] = await rowsWithId(alice, messageId);
    expect(stored?.key).toBe(`mid:${messageId}`);
    expect(await dovecot.listUids('alice', 'Sent')).toHaveLength(1);

    await passWithStableIds(alice, 'Sent');
    const rows = await rowsWithId(alice, messageId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: stored?.id, sentFromShoal: true, direction: 'outbound' });
    expect(rows[0]?.key).toBe(`id:${rows[0]?.emailId}`);
    expect(await pathsOf(stored?.id as string)).toEqual(['Sent']);

    // The next pass finds the copy by its new key: still one row, one location.
    await passWithStableIds(alice, 'Sent');
    expect(await rowsWithId(alice, messageId)).toHaveLength(1);
    expect(await pathsOf(stored?.id as string)).toEqual(['Sent']);
  });

  it('links the copy the provider files itself (no APPEND), and a further copy under another server id', async () => {
    const bob = await connect('bob', false);
    const messageId = await send(bob, 'Pricing for 40 seats');
    const [stored] = await rowsWithId(bob, messageId);
    expect(await dovecot.listUids('bob', 'Sent')).toHaveLength(0);
    // The provider files what it delivered (as Gmail does), and a rule also copies it to Archive.
    const delivered = sink.messages.find((m) => m.messageId === `<${messageId}>`);
    expect(delivered).toBeDefined();
    await dovecot.save('bob', 'Sent', delivered?.raw as Buffer, ['\\Seen']);
    await dovecot.save('bob', 'Archive', delivered?.raw as Buffer);

    await passWithStableIds(bob, 'Sent');
    await passWithStableIds(bob, 'Archive');
    const rows = await rowsWithId(bob, messageId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: stored?.id, sentFromShoal: true });
    expect(await pathsOf(stored?.id as string)).toEqual(['Archive', 'Sent']);
  });

  it('does not absorb someone else’s message that reuses a sent Message-ID', async () => {
    const bob: Account = { id: (await t.db.query<{ id: string }>(`select id from mail_accounts where email = 'bob@acme.test'`))[0]?.id as string, user: 'bob', email: 'bob@acme.test' };
    const messageId = await send(bob, 'Contract draft');
    const forged = [
      'From: Mallory <mallory@evil.test>',
      'To: bob@acme.test',
      'Subject: Contract draft',
      `Message-ID: <${messageId}>`,
      'Date: Mon, 23 Nov 2026 11:00:00 +0000',
      '',
      'Not from Bob.',
      '',
    ].join('\r\n');
    await dovecot.save('bob', 'INBOX', forged);

    await passWithStableIds(bob, 'INBOX');
    const rows = await rowsWithId(bob, messageId);
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.sentFromShoal)).toHaveLength(1);
    expect(rows.find((r) => r.sentFromShoal)?.key).toBe(`mid:${messageId}`);
  });
});
