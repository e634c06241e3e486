/**
 * The mail test harness against the real thing: a throwaway Dovecot seeded
 * through doveadm and Maildir files and read back through imapflow, the
 * SpamAssassin corpus, and the SMTP sink fed by nodemailer.
 */
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_SIZE, HAM_GROUPS, loadCorpus } from '../helpers/corpus';
import { dovecotAvailable, parseThreadResponse, SPECIAL_FOLDERS, startDovecot, type Dovecot, type MailUser } from '../helpers/dovecot';
import { headerMessageId, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

const ALICE: MailUser = { name: 'alice', password: 'alice-pw' };
const BULK: MailUser = { name: 'bulk', password: 'bulk-pw' };
const CAROL: MailUser = { name: 'carol', password: 'carol-pw' };

function message(headers: Record<string, string>, body = 'Hello.'): string {
  const lines = Object.entries({ From: 'sender@shoal.test', To: 'alice@shoal.test', ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}\r\n`;
}

describe.runIf(dovecotAvailable())('mail harness', () => {
  let dovecot: Dovecot;
  const clients: ImapFlow[] = [];
  const sinks: SmtpSink[] = [];

  async function imap(user: MailUser): Promise<ImapFlow> {
    const client = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      auth: { user: user.name, pass: user.password },
      logger: false,
    });
    clients.push(client);
    await client.connect();
    return client;
  }

  async function imapCount(client: ImapFlow, mailbox: string): Promise<number | undefined> {
    // Dovecot answers STATUS on the selected mailbox from the session's view, which
    // ignores doveadm's expunges and moves until a NOOP lets the session catch up.
    await client.noop();
    const status = await client.status(mailbox, { messages: true });
    return status ? status.messages : undefined;
  }

  async function imapFlags(client: ImapFlow, mailbox: string, uid: number): Promise<string[]> {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const found = await client.fetchOne(String(uid), { flags: true }, { uid: true });
      return found ? [...(found.flags ?? [])] : [];
    } finally {
      lock.release();
    }
  }

  beforeAll(async () => {
    const started = performance.now();
    dovecot = await startDovecot({ users: [ALICE, BULK, CAROL] });
    console.log(`[mail-harness] Dovecot accepted on :${dovecot.port} after ${(performance.now() - started).toFixed(0)} ms`);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.logout().catch(() => undefined)));
    await Promise.all(sinks.map((s) => s.stop()));
    await dovecot?.stop();
  });

  it('auto-creates and subscribes the special-use folders and advertises the sync extensions', async () => {
    const client = await imap(ALICE);
    console.log(`[mail-harness] capabilities: ${[...client.capabilities.keys()].join(' ')}`);
    for (const capability of ['IDLE', 'UIDPLUS', 'CONDSTORE', 'QRESYNC', 'MOVE', 'SPECIAL-USE', 'THREAD=REFERENCES']) {
      expect(client.capabilities.has(capability), capability).toBe(true);
    }
    const folders = await client.list();
    for (const [name, use] of Object.entries(SPECIAL_FOLDERS)) {
      const folder = folders.find((f) => f.path === name);
      expect(folder, name).toBeDefined();
      expect(folder?.specialUse).toBe(use);
      expect(folder?.specialUseSource).toBe('extension');
      expect(folder?.subscribed).toBe(true);
      expect(folder?.delimiter).toBe('/');
    }
    expect(folders.find((f) => f.path === 'INBOX')?.specialUse).toBe('\\Inbox');
  });

  it('saves through doveadm with flags and reports status', async () => {
    const first = await dovecot.save(ALICE.name, 'INBOX', message({ Subject: 'one', 'Message-ID': '<one@shoal.test>' }), ['\\Seen']);
    const second = await dovecot.save(ALICE.name, 'INBOX', Buffer.from(message({ Subject: 'two', 'Message-ID': '<two@shoal.test>' })));
    expect([first, second]).toEqual([1, 2]);
    const status = await dovecot.status(ALICE.name, 'INBOX');
    expect(status).toMatchObject({ messages: 2, uidnext: 3 });
    expect(status.uidvalidity).toBeGreaterThan(0);
    expect(status.highestmodseq).toBeGreaterThan(0);
    expect(await dovecot.listUids(ALICE.name, 'INBOX')).toEqual([1, 2]);

    const client = await imap(ALICE);
    expect(await imapCount(client, 'INBOX')).toBe(2);
    expect(await imapFlags(client, 'INBOX', first)).toContain('\\Seen');
    expect(await imapFlags(client, 'INBOX', second)).not.toContain('\\Seen');
  });

  it('prefills the whole corpus through Maildir files, in order', async () => {
    const corpus = loadCorpus();
    expect(corpus).toHaveLength(CORPUS_SIZE);
    expect(loadCorpus({ groups: HAM_GROUPS })).toHaveLength(4_150);
    expect(corpus.every((m) => !m.raw.subarray(0, 5).equals(Buffer.from('From ')))).toBe(true);

    const started = performance.now();
    await dovecot.prefill(BULK.name, 'INBOX', corpus.map((m) => m.raw));
    const written = performance.now();
    const client = await imap(BULK);
    expect(await imapCount(client, 'INBOX')).toBe(CORPUS_SIZE);
    const indexed = performance.now();
    const ms = (from: number, to: number): string => (to - from).toFixed(0);
    console.log(`[mail-harness] prefill of ${CORPUS_SIZE}: files ${ms(started, written)} ms, first STATUS ${ms(written, indexed)} ms`);

    const lock = await client.getMailboxLock('INBOX');
    try {
      for (const index of [0, CORPUS_SIZE - 1]) {
        const expected = headerMessageId(corpus[index]?.raw ?? Buffer.alloc(0));
        expect(expected).toMatch(/^<.+>$/);
        const found = await client.fetchOne(String(index + 1), { envelope: true }, { uid: true });
        expect(found ? found.envelope?.messageId : undefined).toBe(expected);
      }
    } finally {
      lock.release();
    }

    // Twice within one second, the second time into an already indexed folder.
    await dovecot.prefill(BULK.name, 'Archive', corpus.slice(0, 3).map((m) => m.raw));
    expect(await dovecot.listUids(BULK.name, 'Archive')).toEqual([1, 2, 3]);
    await dovecot.prefill(BULK.name, 'Archive', corpus.slice(3, 5).map((m) => m.raw));
    expect(await dovecot.listUids(BULK.name, 'Archive')).toEqual([1, 2, 3, 4, 5]);
  });

  it('resets UIDVALIDITY as the client sees it', async () => {
    const client = await imap(ALICE);
    const before = await client.status('INBOX', { uidValidity: true });
    const next = await dovecot.resetUidValidity(ALICE.name, 'INBOX');
    const after = await client.status('INBOX', { uidValidity: true });
    expect(before && before.uidValidity).not.toBe(BigInt(next));
    expect(after && after.uidValidity).toBe(BigInt(next));
    expect((await dovecot.status(ALICE.name, 'INBOX')).uidvalidity).toBe(next);
  });

  it('moves, expunges and flags behind the client', async () => {
    const uids: number[] = [];
    for (const subject of ['a', 'b', 'c']) {
      uids.push(await dovecot.save(ALICE.name, 'Junk', message({ Subject: subject })));
    }
    const [keep, moved, gone] = uids as [number, number, number];
    const client = await imap(ALICE);

    await dovecot.setFlag(ALICE.name, 'Junk', keep, '\\Flagged', true);
    expect(await imapFlags(client, 'Junk', keep)).toContain('\\Flagged');
    await dovecot.setFlag(ALICE.name, 'Junk', keep, '\\Flagged', false);
    expect(await imapFlags(client, 'Junk', keep)).not.toContain('\\Flagged');

    await dovecot.move(ALICE.name, 'Junk', 'Trash', moved);
    await dovecot.expunge(ALICE.name, 'Junk', gone);
    expect(await dovecot.listUids(ALICE.name, 'Junk')).toEqual([keep]);
    expect(await dovecot.listUids(ALICE.name, 'Trash')).toHaveLength(1);
    expect(await imapCount(client, 'Junk')).toBe(1);
    expect(await imapCount(client, 'Trash')).toBe(1);
  });

  it('threads by References the way Dovecot does', async () => {
    const root = await dovecot.save(
      CAROL.name,
      'INBOX',
      message({ Subject: 'Pricing', 'Message-ID': '<root@shoal.test>', Date: 'Mon, 02 Nov 2026 09:00:00 +0000' }),
    );
    const reply = await dovecot.save(
      CAROL.name,
      'INBOX',
      message({
        Subject: 'Re: Pricing',
        'Message-ID': '<reply@shoal.test>',
        'In-Reply-To': '<root@shoal.test>',
        Date: 'Mon, 02 Nov 2026 10:00:00 +0000',
      }),
    );
    const other = await dovecot.save(
      CAROL.name,
      'INBOX',
      message({ Subject: 'Lunch?', 'Message-ID': '<lunch@shoal.test>', Date: 'Mon, 02 Nov 2026 11:00:00 +0000' }),
    );
    expect(await dovecot.threadReferences(CAROL.name, 'INBOX')).toEqual([[root, reply], [other]]);
  });

  it('parses nested THREAD responses into flat threads', () => {
    expect(parseThreadResponse(' (2)(3 6 (4 23)(44 7 96))')).toEqual([[2], [3, 6, 4, 23, 44, 7, 96]]);
    expect(parseThreadResponse('((3)(5))(7)')).toEqual([[3, 5], [7]]);
    expect(parseThreadResponse('')).toEqual([]);
  });

  it('receives mail from nodemailer with the envelope and Message-ID, and rejects a wrong password', async () => {
    const sink = await startSmtpSink({ users: [{ user: 'agent', pass: 'right' }] });
    sinks.push(sink);
    const transport = (pass: string) =>
      nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true, auth: { user: 'agent', pass } });

    const good = transport('right');
    const info = await good.sendMail({
      from: 'agent@shoal.test',
      to: ['lead@example.test', 'boss@example.test'],
      subject: 'Quote',
      text: 'Attached.',
    });
    good.close();
    const [received] = await sink.waitFor(1);
    expect(received?.envelope).toEqual({ from: 'agent@shoal.test', to: ['lead@example.test', 'boss@example.test'] });
    expect(received?.messageId).toBe(info.messageId);
    expect(received?.user).toBe('agent');
    expect(received?.raw.toString('utf8')).toContain('Subject: Quote');

    const bad = transport('wrong');
    await expect(bad.sendMail({ from: 'agent@shoal.test', to: 'lead@example.test', text: 'x' })).rejects.toMatchObject({
      responseCode: 535,
    });
    bad.close();
    expect(sink.messages).toHaveLength(1);
  });

  it('accepts unauthenticated mail when the sink has no users', async () => {
    const sink = await startSmtpSink();
    sinks.push(sink);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'a@shoal.test', to: 'b@example.test', text: 'hi' });
    transport.close();
    const [received] = await sink.waitFor(1);
    expect(received?.user).toBeNull();
    expect(received?.envelope.to).toEqual(['b@example.test']);
  });
});
