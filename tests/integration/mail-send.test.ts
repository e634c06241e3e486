/**
 * Sending through a real SMTP sink and a real Dovecot: new mail, reply,
 * reply-all, forward with the original's attachment, the Sent-folder APPEND
 * reconciled by the next sync without a double copy, idempotent retries
 * (sequential and concurrent), authorization, SMTP auth failure and retry,
 * \Seen pushed to the server, and the "N messages synchronized" email.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncManager } from '../../server/ingest/sync-manager';
import type { OutboundDto } from '../../sync/api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { startSmtpSink, type SinkUser, type SmtpSink } from '../helpers/smtp-sink';
import { waitFor } from '../helpers/mail-account';

const FAST = { folderIntervalMs: 400, watchdogMs: 3_000, idleDelayMs: 100, leaseRetryMs: 300 };
const ATTACHMENT = Buffer.from('%PDF-1.4 price list: 40 seats at 30 EUR\n'.repeat(20));
const ORIGINAL_SUBJECT = 'Quarterly pricing for Acme';


/** Carol's mail to Alice, cc Dave and Alice's own sales alias, with a PDF attached. */
function originalMessage(): string {
  return [
    'From: Carol Customer <carol@customer.test>',
    'To: Alice <alice@acme.test>',
    'Cc: dave@customer.test, Acme Sales <sales@acme.test>',
    `Subject: ${ORIGINAL_SUBJECT}`,
    'Message-ID: <orig-1@customer.test>',
    'References: <root-0@customer.test>',
    'Date: Mon, 23 Nov 2026 09:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Could you send us pricing for 40 seats?',
    '--b1',
    'Content-Type: application/pdf; name="price-list.pdf"',
    'Content-Disposition: attachment; filename="price-list.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    ATTACHMENT.toString('base64').replace(/.{76}/g, '$&\r\n'),
    '--b1--',
    '',
  ].join('\r\n');
}

function renewalReply(): string {
  return [
    'From: carol@customer.test',
    'To: alice@acme.test',
    'Subject: Re: Renewal terms',
    'Message-ID: <renew-2@customer.test>',
    'Date: Mon, 23 Nov 2026 10:00:00 +0000',
    '',
    'Sounds good.',
    '',
  ].join('\r\n');
}

/**
 * An SMTP server that takes a whole message and then drops the connection
 * instead of answering it: the sender cannot know whether it was delivered.
 */
async function startDroppingSmtp(): Promise<{ port: number; received: () => number; stop: () => Promise<void> }> {
  let received = 0;
  const server = createServer((socket) => {
    let buffer = '';
    let inData = false;
    socket.on('error', () => {});
    socket.write('220 drop.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      if (inData) {
        if (buffer.includes('\r\n.\r\n')) {
          received += 1;
          socket.destroy();
        }
        return;
      }
      for (let end = buffer.indexOf('\r\n'); end >= 0 && !inData; end = buffer.indexOf('\r\n')) {
        const verb = buffer.slice(0, 4).toUpperCase();
        buffer = buffer.slice(end + 2);
        inData = verb === 'DATA';
        socket.write(verb === 'EHLO' ? '250-drop.test\r\n250 8BITMIME\r\n' : inData ? '354 go ahead\r\n' : verb === 'QUIT' ? '221 bye\r\n' : '250 OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    received: () => received,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const parse = (raw: Buffer): Promise<ParsedMail> => simpleParser(raw);
const addresses = (field: ParsedMail['to']): string[] =>
  (Array.isArray(field) ? field : field ? [field] : []).flatMap((a) => a.value.map((v) => v.address ?? ''));

describe.runIf(dovecotAvailable()).each(driverCases())('sending mail through SMTP and Dovecot on $name', ({ create }) => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let authSink: SmtpSink;
  const authUsers: SinkUser[] = [{ user: 'bob', pass: 'bob-smtp-pw' }];
  let t: TestDb;
  let h: Harness;
  let api: Client;
  let manager: SyncManager;
  let alice: { cookie: string; userId: string };
  let rep: { cookie: string };
  let accountId: string;
  let bobAccountId: string;
  let firstSend: { id: string; body: OutboundDto };

  const send = (body: Record<string, unknown>, cookie = alice.cookie) => api.post<OutboundDto & { error: { code: string; field?: string; message: string } }>('/api/mail/send', body, { cookie });
  const delivered = (s: SmtpSink, messageId: string) => s.messages.filter((m) => m.messageId === `<${messageId}>`);
  const rowsWithId = (headerId: string) =>
    t.db.query<{ id: string; threadId: string; key: string; sentFromShoal: boolean; direction: string; bcc: { address: string }[] }>(
      `select id, thread_id as "threadId", message_key as key, sent_from_shoal as "sentFromShoal", direction,
         case when jsonb_typeof(bcc_addresses) = 'string' then (bcc_addresses #>> '{}')::jsonb else bcc_addresses end as bcc
       from messages where account_id = $1 and header_message_id = $2`,
      [accountId, headerId],
    );
  const folderOf = async (messageId: string) =>
    (await t.db.query<{ path: string; uid: number }>(
      `select f.path, l.uid from message_locations l join mail_folders f on f.id = l.folder_id where l.message_id = $1 order by f.path`,
      [messageId],
    ));
  const messageIdOf = async (headerId: string) => (await rowsWithId(headerId))[0]?.id as string;
  const serverFlags = (mailbox: string, uid: number) =>
    dovecot.doveadm(['fetch', '-u', 'alice', 'flags', 'mailbox', mailbox, 'uid', String(uid)]);

  async function connect(body: Record<string, unknown>): Promise<string> {
    const res = await api.post<{ id: string }>('/api/mail/accounts', body, { cookie: alice.cookie });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  }

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    authSink = await startSmtpSink({ users: authUsers });
    await dovecot.save('alice', 'INBOX', originalMessage());
    await dovecot.save('alice', 'INBOX', renewalReply());
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
    api = client(h.app);
    alice = await signUpAdmin(api, 'alice@acme.test');
    rep = await addPerson(api, alice.cookie);
    const imap = (user: string, password: string) => ({ host: '127.0.0.1', port: dovecot.port, security: 'none', user, password });
    accountId = await connect({
      email: 'alice@acme.test',
      provider: 'custom',
      imap: imap('alice', 'alice-pw'),
      smtp: { host: '127.0.0.1', port: sink.port, security: 'none' },
      smtpSameCredentials: true,
      storeSent: true,
      fromAddresses: [{ address: 'sales@acme.test', name: 'Acme Sales' }],
    });
    bobAccountId = await connect({
      email: 'bob@acme.test',
      provider: 'custom',
      imap: imap('bob', 'bob-pw'),
      smtp: { host: '127.0.0.1', port: authSink.port, security: 'none', user: 'bob', password: 'bob-smtp-pw' },
      smtpSameCredentials: false,
      storeSent: false,
    });
    manager = new SyncManager({ db: t.db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date(), allowPrivateHosts: true }, FAST);
    await manager.ensure(accountId);
    await waitFor('initial sync', async () => rowsWithId('renew-2@customer.test'), (r) => r.length === 1);
    await waitFor('original', async () => rowsWithId('orig-1@customer.test'), (r) => r.length === 1);
  }, 120_000);

  afterAll(async () => {
    await manager?.stopAll();
    await t?.drop();
    await sink?.stop();
    await authSink?.stop();
    await dovecot?.stop();
  });

  it('emails the owner "N messages synchronized" through the account when the initial sync completes', async () => {
    const [mail] = await waitFor('sync-complete email', async () => sink.messages.filter((m) => /messages? synchronized/.test(m.raw.toString())), (m) => m.length > 0);
    const parsed = await parse(mail?.raw as Buffer);
    expect(parsed.subject).toBe('2 messages synchronized');
    expect(parsed.from?.value[0]?.address).toBe('alice@acme.test');
    expect(addresses(parsed.to)).toEqual(['alice@acme.test']);
    expect(mail?.envelope.to).toEqual(['alice@acme.test']);
  });

  it('sends a new message once, shows it at once, and saves it to Sent without a double copy after sync', async () => {
    const id = crypto.randomUUID();
    const body = { id, accountId, from: 'alice@acme.test', to: ['erin@prospect.test'], bcc: ['boss@acme.test'], subject: 'Intro to Shoal', text: 'Hello Erin' };
    const res = await send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ outboundId: id, status: 'sent', error: null });
    firstSend = { id, body: res.body };
    const mails = delivered(sink, res.body.messageId);
    expect(mails).toHaveLength(1);
    const mail = mails[0] as (typeof mails)[number];
    expect(mail.envelope.to.sort()).toEqual(['boss@acme.test', 'erin@prospect.test']);
    expect(mail.raw.toString()).not.toMatch(/^bcc:/im);
    const parsed = await parse(mail.raw);
    expect(parsed.from?.value[0]?.address).toBe('alice@acme.test');
    expect(addresses(parsed.to)).toEqual(['erin@prospect.test']);
    expect(parsed.subject).toBe('Intro to Shoal');
    expect(res.body.messageId).toMatch(/^s\.[0-9a-f]{32}\.[a-z0-9]{10}\.[0-9a-f]{16}@acme\.test$/);

    const [row] = await rowsWithId(res.body.messageId);
    expect(row).toMatchObject({ id: res.body.storedMessageId, threadId: res.body.threadId, key: `mid:${res.body.messageId}`, sentFromShoal: true, direction: 'outbound' });
    expect(row?.bcc.map((a) => a.address)).toEqual(['boss@acme.test']);
    expect(res.body.appendedAt).not.toBeNull();

    const sentUids = await dovecot.listUids('alice', 'Sent');
    expect(sentUids).toHaveLength(1);
    expect(await serverFlags('Sent', sentUids[0] as number)).toMatch(/\\Seen/);
    const where = await waitFor('Sent location', () => folderOf(row?.id as string), (l) => l.some((x) => x.path === 'Sent'));
    expect(where).toEqual([{ path: 'Sent', uid: sentUids[0] }]);
    expect(await rowsWithId(res.body.messageId)).toHaveLength(1);
  });

  it('replays a retry with the same id: same answer, still one delivery', async () => {
    const res = await send({ id: firstSend.id, accountId, from: 'alice@acme.test', to: ['erin@prospect.test'], subject: 'Intro to Shoal', text: 'Hello Erin' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(firstSend.body);
    expect(delivered(sink, firstSend.body.messageId)).toHaveLength(1);
    expect(await dovecot.listUids('alice', 'Sent')).toHaveLength(1);
  });

  it('delivers once when two requests with the same id race', async () => {
    const body = { id: crypto.randomUUID(), accountId, from: 'sales@acme.test', to: ['gina@prospect.test'], subject: 'Race', text: 'Once only' };
    const [a, b] = await Promise.all([send(body), send(body)]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.messageId).toBe(b.body.messageId);
    expect(a.body.status).toBe('sent');
    expect(b.body.status).toBe('sent');
    expect(delivered(sink, a.body.messageId)).toHaveLength(1);
    const parsed = await parse(delivered(sink, a.body.messageId)[0]?.raw as Buffer);
    expect(parsed.from?.value[0]).toEqual({ address: 'sales@acme.test', name: 'Acme Sales' });
  });

  it('replies with In-Reply-To and References, one "Re:", into the original’s thread', async () => {
    const originalId = await messageIdOf('orig-1@customer.test');
    const res = await send({ id: crypto.randomUUID(), accountId, from: 'alice@acme.test', mode: 'reply', replyToMessageId: originalId, text: 'Pricing attached.' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const mail = delivered(sink, res.body.messageId)[0];
    const parsed = await parse(mail?.raw as Buffer);
    expect(parsed.subject).toBe(`Re: ${ORIGINAL_SUBJECT}`);
    expect(parsed.text).toMatch(/^Pricing attached\.\n\nOn Mon, 23 Nov 2026 09:00:00 GMT, .*carol@customer\.test.* wrote:\n> Could you send us pricing for 40 seats\?/u);
    expect(parsed.inReplyTo).toBe('<orig-1@customer.test>');
    expect(parsed.references).toEqual(['<root-0@customer.test>', '<orig-1@customer.test>']);
    expect(mail?.envelope.to).toEqual(['carol@customer.test']);
    const [original] = await rowsWithId('orig-1@customer.test');
    expect(res.body.threadId).toBe(original?.threadId);
    const [reply] = await rowsWithId(res.body.messageId);
    await waitFor('reply synced from Sent', () => folderOf(reply?.id as string), (l) => l.some((x) => x.path === 'Sent'));
    const after = await rowsWithId(res.body.messageId);
    expect(after).toHaveLength(1);
    expect(after[0]?.threadId).toBe((await rowsWithId('orig-1@customer.test'))[0]?.threadId);

    const renewal = await send({ id: crypto.randomUUID(), accountId, from: 'alice@acme.test', replyToMessageId: await messageIdOf('renew-2@customer.test'), text: 'Great.' });
    expect(renewal.status).toBe(201);
    expect((await parse(delivered(sink, renewal.body.messageId)[0]?.raw as Buffer)).subject).toBe('Re: Renewal terms');
  });

  it('replies to all without the account’s own addresses', async () => {
    const res = await send({ id: crypto.randomUUID(), accountId, from: 'alice@acme.test', mode: 'replyAll', replyToMessageId: await messageIdOf('orig-1@customer.test'), text: 'Adding everyone.' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const mail = delivered(sink, res.body.messageId)[0];
    const parsed = await parse(mail?.raw as Buffer);
    expect(addresses(parsed.to)).toEqual(['carol@customer.test']);
    expect(addresses(parsed.cc)).toEqual(['dave@customer.test']);
    expect(mail?.envelope.to.sort()).toEqual(['carol@customer.test', 'dave@customer.test']);
  });

  it('forwards with the original quoted and its attachment re-attached', async () => {
    const res = await send({ id: crypto.randomUUID(), accountId, from: 'alice@acme.test', mode: 'forward', replyToMessageId: await messageIdOf('orig-1@customer.test'), to: ['frank@partner.test'], text: 'FYI' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const parsed = await parse(delivered(sink, res.body.messageId)[0]?.raw as Buffer);
    expect(parsed.subject).toBe(`Fwd: ${ORIGINAL_SUBJECT}`);
    expect(parsed.text).toContain('---------- Forwarded message ---------');
    expect(parsed.text).toContain('> Could you send us pricing for 40 seats?');
    expect(parsed.text).toMatch(/Attachments: price-list\.pdf \(application\/pdf, 800 B\)/);
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['price-list.pdf']);
    expect(parsed.attachments[0]?.content.equals(ATTACHMENT)).toBe(true);
  });

  it('refuses a From address that is not the account’s, and other people’s mailboxes', async () => {
    const bad = await send({ id: crypto.randomUUID(), accountId, from: 'mallory@acme.test', to: ['x@prospect.test'], text: 'hi' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'from_address_not_allowed', field: 'from' });
    const stranger = await send({ id: crypto.randomUUID(), accountId, from: 'alice@acme.test', to: ['x@prospect.test'], text: 'hi' }, rep.cookie);
    expect(stranger.status).toBe(404);
    const seen = await api.post(`/api/mail/messages/${await messageIdOf('orig-1@customer.test')}/seen`, { seen: true }, { cookie: rep.cookie });
    expect(seen.status).toBe(404);
    expect(await t.db.query('select 1 from outbound_messages where author_id <> $1', [alice.userId])).toHaveLength(0);
  });

  it('fails with a human error when SMTP rejects the login, and a retry after the fix sends once', async () => {
    const body = { id: crypto.randomUUID(), accountId: bobAccountId, from: 'bob@acme.test', to: ['hank@prospect.test'], subject: 'Auth', text: 'Try me' };
    (authUsers[0] as SinkUser).pass = 'rotated-at-the-provider';
    const failed = await send(body);
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatchObject({ code: 'connection_failed', field: 'smtp' });
    expect(failed.body.error.message).toMatch(/rejected the user name or password/);
    const status = await api.get<OutboundDto>(`/api/mail/outbound/${body.id}`, { cookie: alice.cookie });
    expect(status.body).toMatchObject({ status: 'failed', storedMessageId: null });
    expect(status.body.error).toMatch(/rejected the user name or password/);
    expect(authSink.messages).toHaveLength(0);

    (authUsers[0] as SinkUser).pass = 'bob-smtp-pw';
    const retried = await send(body);
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(retried.body).toMatchObject({ status: 'sent', messageId: status.body.messageId, appendedAt: null });
    const again = await send(body);
    expect(again.status).toBe(200);
    expect(authSink.messages).toHaveLength(1);
    expect(authSink.messages[0]?.user).toBe('bob');
  });

  it('never resends a message whose delivery could not be confirmed', async () => {
    const dropping = await startDroppingSmtp();
    try {
      const dropAccountId = await connect({
        email: 'carl@acme.test',
        provider: 'custom',
        imap: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: 'bob', password: 'bob-pw' },
        smtp: { host: '127.0.0.1', port: dropping.port, security: 'none' },
        smtpSameCredentials: true,
        storeSent: false,
      });
      const body = { id: crypto.randomUUID(), accountId: dropAccountId, from: 'carl@acme.test', to: ['ivy@prospect.test'], text: 'Lost reply?' };
      const first = await send(body);
      expect(first.status, JSON.stringify(first.body)).toBe(202);
      expect(first.body).toMatchObject({ status: 'sending', storedMessageId: null });
      expect(first.body.error).toMatch(/may have been delivered/);
      const retry = await send(body);
      expect(retry.status).toBe(202);
      expect(retry.body).toEqual(first.body);
      expect(dropping.received()).toBe(1);
    } finally {
      await dropping.stop();
    }
  });

  it('pushes read and unread to the server', async () => {
    const messageId = await messageIdOf('orig-1@customer.test');
    const [inbox] = (await folderOf(messageId)).filter((l) => l.path === 'INBOX');
    expect(await serverFlags('INBOX', inbox?.uid as number)).not.toMatch(/\\Seen/);
    const read = await api.post('/api/mail/messages/' + messageId + '/seen', { seen: true }, { cookie: alice.cookie });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body).toEqual({ id: messageId, seen: true, locationsUpdated: 1 });
    expect(await serverFlags('INBOX', inbox?.uid as number)).toMatch(/\\Seen/);
    const [row] = await t.db.query<{ seen: boolean }>('select seen from messages where id = $1', [messageId]);
    expect(row?.seen).toBe(true);

    const unread = await api.post('/api/mail/messages/' + messageId + '/seen', { seen: false }, { cookie: alice.cookie });
    expect(unread.status).toBe(200);
    expect(await serverFlags('INBOX', inbox?.uid as number)).not.toMatch(/\\Seen/);
    await new Promise((r) => setTimeout(r, 1_000));
    const [later] = await t.db.query<{ seen: boolean }>('select seen from messages where id = $1', [messageId]);
    expect(later?.seen).toBe(false);
  });
});
