/**
 * How expunges are found, against a real Dovecot (which offers QRESYNC):
 * from VANISHED since the stored HIGHESTMODSEQ when QRESYNC is enabled, by a
 * full UID diff when it is turned off, and by the diff again whenever the
 * daily safety net is due. Each case asserts the path the pass took (its
 * `folder synced` log line and `last_full_sync_at`), not only the outcome.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncManager } from '../../server/ingest/sync-manager';
import type { WorkerOptions } from '../../server/ingest/account-worker';
import { createLogger } from '../../server/logger';
import { client, createHarness, signUpAdmin, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { connectLoopbackAccount, waitFor } from '../helpers/mail-account';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

const FAST = { folderIntervalMs: 400, watchdogMs: 20_000, idleDelayMs: 100, leaseRetryMs: 300 };
const INBOX_COUNT = 8;
const ARCHIVE_COUNT = 4;

function rawMessage(user: string, n: number): string {
  return [
    'From: Carol Customer <carol@customer.test>',
    `To: ${user}@acme.test`,
    `Subject: Question ${n} for ${user}`,
    `Message-ID: <q-${user}-${n}@customer.test>`,
    'Date: Mon, 23 Nov 2026 09:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body ${n}`,
    '',
  ].join('\r\n');
}

interface PassLine {
  msg: string;
  folder?: string;
  expunged?: number;
  expungeSource?: string | null;
}

/** A syncing manager whose log lines are kept, to see which path each pass took. */
class Syncer {
  readonly lines: PassLine[] = [];
  readonly manager: SyncManager;

  constructor(h: Harness, t: TestDb, options: WorkerOptions) {
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          this.lines.push(JSON.parse(line) as PassLine);
        }
        done();
      },
    });
    this.manager = new SyncManager({ db: t.db, keyring: h.deps.keyring, log: createLogger('info', sink), now: () => new Date(), allowPrivateHosts: true }, options);
  }

  /** The `folder synced` lines of passes that removed something from `folder`. */
  expungePasses(folder: string): PassLine[] {
    return this.lines.filter((l) => l.msg === 'folder synced' && l.folder === folder && (l.expunged ?? 0) > 0);
  }
}

describe.runIf(dovecotAvailable()).each(driverCases())('expunge detection against Dovecot on $name', ({ create }) => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let cookie: string;
  const syncers: Syncer[] = [];
  const accounts = new Map<string, string>();

  const locations = (user: string, path: string) =>
    t.db
      .query<{ n: number }>(
        `select count(*)::int as n from message_locations l join mail_folders f on f.id = l.folder_id
         where f.account_id = $1 and f.path = $2`,
        [accounts.get(user), path],
      )
      .then((rows) => rows[0]?.n ?? 0);
  const lastFullSync = (user: string, path: string) =>
    t.db
      .query<{ at: Date | null }>(`select last_full_sync_at as at from mail_folders where account_id = $1 and path = $2`, [
        accounts.get(user),
        path,
      ])
      .then((rows) => rows[0]?.at ?? null);

  /** Connects `user`'s mailbox and syncs it with its own worker options. */
  async function start(user: string, options: WorkerOptions): Promise<Syncer> {
    const id = await connectLoopbackAccount(client(h.app), cookie, {
      imapPort: dovecot.port,
      smtpPort: sink.port,
      user,
      password: `${user}-pw`,
      email: `${user}@acme.test`,
    });
    accounts.set(user, id);
    const syncer = new Syncer(h, t, options);
    syncers.push(syncer);
    await syncer.manager.ensure(id);
    return syncer;
  }

  beforeAll(async () => {
    const users = ['alice', 'bob', 'carol'].map((name) => ({ name, password: `${name}-pw` }));
    dovecot = await startDovecot({ users });
    sink = await startSmtpSink();
    for (const { name } of users) {
      await dovecot.prefill(name, 'INBOX', Array.from({ length: INBOX_COUNT }, (_, i) => Buffer.from(rawMessage(name, i))));
    }
    await dovecot.prefill('alice', 'Archive', Array.from({ length: ARCHIVE_COUNT }, (_, i) => Buffer.from(rawMessage('alice', 100 + i))));
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
    cookie = (await signUpAdmin(client(h.app), 'admin@acme.test')).cookie;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(syncers.map((s) => s.manager.stopAll()));
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('learns expunges from VANISHED when QRESYNC is enabled, in the idled inbox and in other folders', async () => {
    const syncer = await start('alice', FAST);
    await waitFor('alice synced', () => locations('alice', 'INBOX'), (n) => n === INBOX_COUNT, 60_000);
    await waitFor('alice archive', () => locations('alice', 'Archive'), (n) => n === ARCHIVE_COUNT);
    // The first pass had no modseq to resync from: it diffed, and recorded when.
    const firstDiff = await waitFor('first full diff', () => lastFullSync('alice', 'INBOX'), (at) => at !== null);

    const victim = (await dovecot.listUids('alice', 'INBOX'))[2] as number;
    await dovecot.expunge('alice', 'INBOX', victim);
    await waitFor('inbox expunge', () => locations('alice', 'INBOX'), (n) => n === INBOX_COUNT - 1);
    const archived = (await dovecot.listUids('alice', 'Archive'))[0] as number;
    await dovecot.expunge('alice', 'Archive', archived);
    await waitFor('archive expunge', () => locations('alice', 'Archive'), (n) => n === ARCHIVE_COUNT - 1);

    // The pass logs once it has returned, a moment after its rows changed.
    await waitFor('inbox pass logged', () => syncer.expungePasses('INBOX').length, (n) => n > 0);
    await waitFor('archive pass logged', () => syncer.expungePasses('Archive').length, (n) => n > 0);
    expect(syncer.expungePasses('INBOX').map((l) => l.expungeSource)).toEqual(['qresync']);
    expect(syncer.expungePasses('Archive').map((l) => l.expungeSource)).toEqual(['qresync']);
    expect(await lastFullSync('alice', 'INBOX')).toEqual(firstDiff);

    // Flags still come through the same CHANGEDSINCE fetch.
    const seenUid = (await dovecot.listUids('alice', 'INBOX'))[0] as number;
    await dovecot.setFlag('alice', 'INBOX', seenUid, '\\Seen', true);
    await waitFor(
      'seen flag',
      async () =>
        (
          await t.db.query<{ seen: boolean }>(
            `select m.seen from messages m join message_locations l on l.message_id = m.id join mail_folders f on f.id = l.folder_id
             where f.account_id = $1 and f.path = 'INBOX' and l.uid = $2`,
            [accounts.get('alice'), seenUid],
          )
        )[0]?.seen,
      (seen) => seen === true,
    );
  });

  it('falls back to the full UID diff with QRESYNC turned off', async () => {
    const syncer = await start('bob', { ...FAST, qresync: false });
    await waitFor('bob synced', () => locations('bob', 'INBOX'), (n) => n === INBOX_COUNT, 60_000);
    const firstDiff = await waitFor('first full diff', () => lastFullSync('bob', 'INBOX'), (at) => at !== null);

    const victim = (await dovecot.listUids('bob', 'INBOX'))[3] as number;
    await dovecot.expunge('bob', 'INBOX', victim);
    await waitFor('expunge', () => locations('bob', 'INBOX'), (n) => n === INBOX_COUNT - 1);
    await waitFor('pass logged', () => syncer.expungePasses('INBOX').length, (n) => n > 0);
    expect(syncer.expungePasses('INBOX').map((l) => l.expungeSource)).toEqual(['uid-diff']);
    expect((await lastFullSync('bob', 'INBOX'))?.getTime()).toBeGreaterThan(firstDiff?.getTime() ?? 0);
  });

  it('diffs anyway when the safety-net interval has passed, although QRESYNC is available', async () => {
    const syncer = await start('carol', { ...FAST, fullDiffIntervalMs: 0 });
    await waitFor('carol synced', () => locations('carol', 'INBOX'), (n) => n === INBOX_COUNT, 60_000);

    const victim = (await dovecot.listUids('carol', 'INBOX'))[1] as number;
    await dovecot.expunge('carol', 'INBOX', victim);
    await waitFor('expunge', () => locations('carol', 'INBOX'), (n) => n === INBOX_COUNT - 1);
    await waitFor('pass logged', () => syncer.expungePasses('INBOX').length, (n) => n > 0);
    expect(syncer.expungePasses('INBOX').map((l) => l.expungeSource)).toEqual(['uid-diff']);
  });
});
