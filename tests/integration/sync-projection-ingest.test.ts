/**
 * Ingest → documents, end to end: a real Dovecot mailbox synced by the real
 * SyncManager, whose one-line hook publishes each stored batch; the change
 * feed writes the new threads into the owner's document and, because the
 * owner shares Public and the sender is a contact, into a teammate's; mail
 * that arrives while syncing live follows, and so do progress and the
 * "sync complete" notification. Changes made on the server by another IMAP
 * client reach the documents too (the flag and expunge hook publishes the
 * messages they touched): \Seen set or cleared moves the owner's unread
 * count, an expunged reply takes the thread's summary back to its first
 * message, and a thread whose only message was expunged leaves every
 * document. Every driver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncManager } from '../../server/ingest/sync-manager';
import { createLogger } from '../../server/logger';
import { ChangeFeed } from '../../server/sync/projection/change-feed';
import { createLocalChangeBus } from '../../server/sync/projection/changes';
import { Projection } from '../../server/sync/projection/writer';
import { MAPS, type AccountDoc, type NotificationDoc } from '../../sync/doc/schema';
import { readSummaries } from '../../sync/doc/thread-codec';
import { addPerson, client, createHarness, signUpAdmin, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { connectLoopbackAccount, waitFor } from '../helpers/mail-account';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { TestDocs, threadIdsOf } from '../helpers/sync-projection';

const FAST = { folderIntervalMs: 400, watchdogMs: 20_000, idleDelayMs: 100, leaseRetryMs: 300 };
const INITIAL = 6;

function raw(n: number, from = 'Carol Customer <carol@customer.test>', reply = false): string {
  return [
    `From: ${from}`,
    'To: alice@acme.test',
    `Subject: ${reply ? 'Re: ' : ''}Order question ${n}`,
    reply ? `Message-ID: <reply-${n}@customer.test>\r\nIn-Reply-To: <order-${n}@customer.test>` : `Message-ID: <order-${n}@customer.test>`,
    `Date: ${new Date(Date.now() - (10 - n) * 60_000).toUTCString()}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    reply ? `More about order ${n}.` : `About order ${n}.`,
    '',
  ].join('\r\n');
}

describe.runIf(dovecotAvailable()).each(driverCases())('ingest feeds the documents on $name', ({ create }) => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let manager: SyncManager;
  let feed: ChangeFeed;
  const docs = new TestDocs();
  let owner: string;
  let mate: string;

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    await dovecot.prefill('alice', 'INBOX', Array.from({ length: INITIAL }, (_, i) => Buffer.from(raw(i))));
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
    const bus = createLocalChangeBus();
    h.deps.changes = bus;
    const api = client(h.app);
    const admin = await signUpAdmin(api, 'alice@acme.test');
    owner = admin.userId;
    mate = (await addPerson(api, admin.cookie, 'rep', 'Mate')).userId;
    expect((await api.post('/api/records', { type: 'contact', name: 'Carol Customer', primaryEmail: 'carol@customer.test' }, { cookie: admin.cookie })).status).toBe(201);
    expect((await api.put('/api/me/email-sharing', { mode: 'public', excludedDomains: [], audience: null }, { cookie: admin.cookie })).status).toBe(200);
    const projection = new Projection(t.db, { windowDays: 90, maxThreads: 5000 });
    for (const id of [owner, mate]) {
      await projection.buildDocument(id, docs.open(id));
    }
    feed = new ChangeFeed({ db: t.db, projection, docs, bus, log: createLogger('silent') });
    const accountId = await connectLoopbackAccount(api, admin.cookie, { imapPort: dovecot.port, smtpPort: sink.port });
    manager = new SyncManager({ db: t.db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date(), allowPrivateHosts: true, changes: bus }, FAST);
    await manager.ensure(accountId);
  }, 120_000);

  afterAll(async () => {
    await manager?.stopAll();
    await feed?.close();
    docs.destroy();
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  const threads = (id: string) => threadIdsOf(docs.open(id).doc).size;
  /** The summary of the thread that starts with order `n`, as a person's document shows it (undefined: not there). */
  const summary = (id: string, n: number) =>
    [...readSummaries(docs.open(id).doc).values()].find((t) => t.subject === `Order question ${n}`);

  it('writes every synced thread into the owner’s and the teammate’s document', async () => {
    await waitFor('the initial sync in both documents', () => [threads(owner), threads(mate)], ([a, b]) => a === INITIAL && b === INITIAL, 60_000);
    const notifications = () => [...docs.open(owner).doc.getMap(MAPS.notifications).values()] as NotificationDoc[];
    await waitFor('the sync-complete notification', () => notifications().map((n) => n.kind), (kinds) => kinds.includes('sync_complete'), 30_000);
    const accounts = [...docs.open(owner).doc.getMap(MAPS.accounts).values()] as AccountDoc[];
    expect(accounts).toHaveLength(1);
    expect(accounts[0]?.email).toBe('alice@acme.test');
    expect(docs.open(mate).doc.getMap(MAPS.accounts).size).toBe(0);
  }, 90_000);

  it('adds mail that arrives while syncing live', async () => {
    await dovecot.save('alice', 'INBOX', raw(INITIAL));
    await dovecot.save('alice', 'INBOX', raw(INITIAL + 1, 'Stranger <someone@elsewhere.test>'));
    // The stranger is no contact: only the owner sees that thread.
    await waitFor('the live mail', () => [threads(owner), threads(mate)], ([a, b]) => a === INITIAL + 2 && b === INITIAL + 1, 60_000);
    expect(feed.stats.failures).toBe(0);
  }, 90_000);

  it('follows \\Seen set and cleared by another IMAP client', async () => {
    // UIDs follow the prefill order: UID 1 is order 0.
    expect(summary(owner, 0)?.unreadCount).toBe(1);
    await dovecot.setFlag('alice', 'INBOX', 1, '\\Seen', true);
    await waitFor('the read state in the owner’s document', () => summary(owner, 0)?.unreadCount, (n) => n === 0, 30_000);
    await dovecot.setFlag('alice', 'INBOX', 1, '\\Seen', false);
    await waitFor('the unread state back', () => summary(owner, 0)?.unreadCount, (n) => n === 1, 30_000);
    // Unread counts only the viewer's own mailboxes: the teammate's summary never moved.
    expect(summary(mate, 0)?.unreadCount).toBe(0);
  }, 90_000);

  it('updates a thread whose last message was expunged, and drops one left with none', async () => {
    await dovecot.save('alice', 'INBOX', raw(2, undefined, true));
    await waitFor('the reply in both documents', () => [summary(owner, 2)?.messageCount, summary(mate, 2)?.messageCount], ([a, b]) => a === 2 && b === 2, 60_000);
    expect(summary(owner, 2)?.snippet).toContain('More about order 2');
    const replyUid = Math.max(...(await dovecot.listUids('alice', 'INBOX')));
    await dovecot.expunge('alice', 'INBOX', replyUid);
    await waitFor(
      'the summary back to the first message',
      () => [owner, mate].map((id) => [summary(id, 2)?.messageCount, summary(id, 2)?.snippet]),
      (both) => both.every(([count, snippet]) => count === 1 && String(snippet).startsWith('About order 2')),
      60_000,
    );
    // UID 2 is order 1, alone in its thread.
    const before = [threads(owner), threads(mate)];
    await dovecot.expunge('alice', 'INBOX', 2);
    await waitFor('the emptied thread gone from both documents', () => [summary(owner, 1), summary(mate, 1)], ([a, b]) => a === undefined && b === undefined, 60_000);
    expect([threads(owner), threads(mate)]).toEqual(before.map((n) => n - 1));
    expect(feed.stats.failures).toBe(0);
  }, 120_000);
});
