/**
 * Mirroring a real Dovecot mailbox: initial sync of real mail, live arrival,
 * flags, expunge, move, UIDVALIDITY reset, and one syncing worker per account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncManager } from '../../server/ingest/sync-manager';
import { client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { loadCorpus } from '../helpers/corpus';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { waitFor, connectLoopbackAccount } from '../helpers/mail-account';

// The watchdog stays realistic: PGlite runs on the main thread, and a tight socket timeout would
// trip on its longer queries when the machine is busy. Half-open detection has its own suite.
const FAST = { folderIntervalMs: 400, watchdogMs: 20_000, idleDelayMs: 100, leaseRetryMs: 300 };
const INBOX_COUNT = 200;
const SENT_COUNT = 20;


function rawMessage(id: string, subject: string, extra = ''): string {
  return [
    'From: Carol Customer <carol@customer.test>',
    'To: alice@acme.test',
    `Subject: ${subject}`,
    `Message-ID: <${id}>`,
    'Date: Mon, 23 Nov 2026 09:00:00 +0000',
    extra,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of ${subject}`,
    '',
  ]
    .filter((line, i) => line !== '' || i > 5)
    .join('\r\n');
}

describe.runIf(dovecotAvailable()).each(driverCases())('mailbox sync against Dovecot on $name', ({ create }) => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let api: Client;
  let manager: SyncManager;
  let accountId: string;

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await t.db.query<{ n: number }>(sql, params))[0]?.n ?? 0);
  const locations = (path: string) =>
    count(
      `select count(*)::int as n from message_locations l join mail_folders f on f.id = l.folder_id
       where f.account_id = $1 and f.path = $2`,
      [accountId, path],
    );
  const messages = () => count('select count(*)::int as n from messages where account_id = $1', [accountId]);

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    const corpus = loadCorpus({ groups: ['easy-ham-1'], limit: INBOX_COUNT + SENT_COUNT });
    await dovecot.prefill('alice', 'INBOX', corpus.slice(0, INBOX_COUNT).map((m) => m.raw));
    await dovecot.prefill('alice', 'Sent', corpus.slice(INBOX_COUNT).map((m) => m.raw));
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
    api = client(h.app);
    const admin = await signUpAdmin(api, 'alice@acme.test');
    accountId = await connectLoopbackAccount(api, admin.cookie, { imapPort: dovecot.port, smtpPort: sink.port, storeSent: true });
    manager = new SyncManager({ db: t.db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date(), allowPrivateHosts: true }, FAST);
    await manager.ensure(accountId);
  }, 120_000);

  afterAll(async () => {
    await manager?.stopAll();
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('mirrors every message exactly once, parsed or quarantined, and reports completion', async () => {
    await waitFor('initial sync', () => locations('INBOX'), (n) => n === INBOX_COUNT, 60_000);
    await waitFor('sent folder', () => locations('Sent'), (n) => n === SENT_COUNT);
    const quarantined = await count('select count(*)::int as n from message_quarantine where account_id = $1', [accountId]);
    expect(quarantined).toBe(0);
    const keys = await count('select count(distinct message_key)::int as n from messages where account_id = $1', [accountId]);
    expect(keys).toBe(await messages());
    const account = await waitFor(
      'completion',
      async () => (await t.db.query<{ done: number; total: number; completed: Date | null }>(
        'select sync_done as done, sync_total as total, initial_sync_completed_at as completed from mail_accounts where id = $1',
        [accountId],
      ))[0],
      (a) => a !== undefined && a.completed !== null,
    );
    expect(account?.done).toBe(account?.total);
    // The notification is written just after the completion mark.
    await waitFor('notification', () => count(`select count(*)::int as n from notifications where kind = 'sync_complete'`), (n) => n >= 1);
    expect(await count(`select count(*)::int as n from notifications where kind = 'sync_complete'`)).toBe(1);
    const threads = await count(
      'select count(distinct thread_id)::int as n from messages where account_id = $1',
      [accountId],
    );
    expect(threads).toBeGreaterThan(0);
    expect(threads).toBeLessThanOrEqual(await messages());
  });

  it('stores mail that arrives while idling', async () => {
    const before = await messages();
    const started = Date.now();
    await dovecot.save('alice', 'INBOX', rawMessage('live-1@customer.test', 'Pricing for 40 seats'));
    await waitFor('live message', messages, (n) => n === before + 1, 15_000);
    console.info(`live arrival stored after ${Date.now() - started} ms`);
    const [row] = await t.db.query<{ subject: string }>(
      `select subject from messages where account_id = $1 and header_message_id = 'live-1@customer.test'`,
      [accountId],
    );
    expect(row?.subject).toBe('Pricing for 40 seats');
  });

  it('threads a reply into its parent’s conversation', async () => {
    await dovecot.save('alice', 'INBOX', rawMessage('live-2@customer.test', 'Re: Pricing for 40 seats', 'In-Reply-To: <live-1@customer.test>'));
    const rows = await waitFor(
      'reply',
      () => t.db.query<{ threadId: string }>(
        `select thread_id as "threadId" from messages where account_id = $1 and header_message_id in ('live-1@customer.test', 'live-2@customer.test')`,
        [accountId],
      ),
      (r) => r.length === 2,
    );
    expect(rows[0]?.threadId).toBe(rows[1]?.threadId);
  });

  it('mirrors \\Seen set elsewhere', async () => {
    const uid = (await dovecot.listUids('alice', 'INBOX'))[0] as number;
    await dovecot.setFlag('alice', 'INBOX', uid, '\\Seen', true);
    await waitFor(
      'seen flag',
      async () => (await t.db.query<{ seen: boolean }>(
        `select m.seen from messages m join message_locations l on l.message_id = m.id join mail_folders f on f.id = l.folder_id
         where f.account_id = $1 and f.path = 'INBOX' and l.uid = $2`,
        [accountId, uid],
      ))[0]?.seen,
      (seen) => seen === true,
    );
  });

  it('mirrors a move as the same message, and an expunge as a removal', async () => {
    const before = await messages();
    const [moved] = await t.db.query<{ id: string; uid: number }>(
      `select m.id, l.uid from messages m join message_locations l on l.message_id = m.id join mail_folders f on f.id = l.folder_id
       where f.account_id = $1 and f.path = 'INBOX' and m.header_message_id = 'live-1@customer.test'`,
      [accountId],
    );
    const inboxBeforeMove = await locations('INBOX');
    await dovecot.move('alice', 'INBOX', 'Archive', moved?.uid as number);
    await waitFor('move', () => locations('Archive'), (n) => n === 1);
    // Archive and INBOX are separate passes: wait for the INBOX side of the move too.
    await waitFor('moved out of INBOX', () => locations('INBOX'), (n) => n === inboxBeforeMove - 1);
    const [archived] = await t.db.query<{ id: string }>(
      `select l.message_id as id from message_locations l join mail_folders f on f.id = l.folder_id
       where f.account_id = $1 and f.path = 'Archive'`,
      [accountId],
    );
    expect(archived?.id).toBe(moved?.id);
    expect(await messages()).toBe(before);

    const inboxBefore = await locations('INBOX');
    const victim = (await dovecot.listUids('alice', 'INBOX'))[1] as number;
    await dovecot.expunge('alice', 'INBOX', victim);
    await waitFor('expunge', () => locations('INBOX'), (n) => n === inboxBefore - 1);
  });

  it('rebuilds silently after a UIDVALIDITY change, without duplicates', async () => {
    const before = await messages();
    const inbox = await locations('INBOX');
    const notesBefore = await count('select count(*)::int as n from notifications');
    const value = await dovecot.resetUidValidity('alice', 'INBOX');
    await waitFor(
      'new uidvalidity',
      async () => (await t.db.query<{ v: number }>(
        `select uidvalidity as v from mail_folders where account_id = $1 and path = 'INBOX'`,
        [accountId],
      ))[0]?.v,
      (v) => v === value,
    );
    await waitFor('relinked', () => locations('INBOX'), (n) => n === inbox);
    expect(await messages()).toBe(before);
    expect(await count('select count(*)::int as n from notifications')).toBe(notesBefore);
  });

  it('never dials a server on a private address unless MAIL_ALLOW_PRIVATE_HOSTS allows it, at every connection', async () => {
    const cookie = (await signUpAdmin(api, 'bob@other.test')).cookie;
    const bob = await connectLoopbackAccount(api, cookie, { imapPort: dovecot.port, smtpPort: sink.port, user: 'bob', password: 'bob-pw', email: 'bob@other.test' });
    const guarded = new SyncManager({ db: t.db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date() }, FAST);
    try {
      await guarded.ensure(bob);
      const health = await waitFor(
        'the refusal on the health line',
        async () => (await t.db.query<{ status: string; code: string | null }>('select status, health_code as code from mail_accounts where id = $1', [bob]))[0],
        (row) => row?.status === 'error',
      );
      expect(health?.code).toBe('address_not_allowed');
      expect(await count('select count(*)::int as n from mail_folders where account_id = $1', [bob])).toBe(0);
    } finally {
      await guarded.stopAll();
    }
  });

  it('lets only one process sync an account', async () => {
    const other = new SyncManager({ db: t.db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date(), allowPrivateHosts: true }, FAST);
    try {
      await other.ensure(accountId);
      await new Promise((r) => setTimeout(r, 500));
      expect(manager.isSyncing(accountId)).toBe(true);
      expect(other.isSyncing(accountId)).toBe(false);
    } finally {
      await other.stopAll();
    }
  });
});
