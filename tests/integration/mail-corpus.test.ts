/**
 * Initial sync of the real corpus: the SpamAssassin messages loaded into a
 * Dovecot INBOX, mirrored by the sync manager. Every UID on the server must
 * come out exactly once, parsed or quarantined with a reason. Prints the
 * elapsed time and throughput per driver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncManager } from '../../server/ingest/sync-manager';
import { client, createHarness, signUpAdmin, type Harness } from '../helpers/app';
import { CORPUS_SIZE, loadCorpus } from '../helpers/corpus';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { connectLoopbackAccount } from '../helpers/mail-account';

const FAST = { folderIntervalMs: 60_000, watchdogMs: 30_000, idleDelayMs: 1_000, leaseRetryMs: 300 };
/** Measured on 2 cores: about 10 s on Postgres and 18 s on PGlite, so both drivers get the full corpus. */
const TIMEOUT_MS = 240_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const cases = driverCases().map((d) => ({ ...d, size: CORPUS_SIZE }));

describe.runIf(dovecotAvailable()).each(cases)('initial sync of $size corpus messages on $name', ({ create, name, size }) => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let manager: SyncManager | undefined;
  let accountId: string;

  const count = async (sql: string) => Number((await t.db.query<{ n: number }>(sql, [accountId]))[0]?.n ?? 0);
  const inboxLocations = () =>
    count(`select count(*)::int as n from message_locations l join mail_folders f on f.id = l.folder_id
           where f.account_id = $1 and f.path = 'INBOX'`);
  const quarantined = () => count('select count(*)::int as n from message_quarantine where account_id = $1');

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    await dovecot.prefill('alice', 'INBOX', loadCorpus({ limit: size }).map((m) => m.raw));
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
    const api = client(h.app);
    const admin = await signUpAdmin(api, 'alice@acme.test');
    accountId = await connectLoopbackAccount(api, admin.cookie, { imapPort: dovecot.port, smtpPort: sink.port });
  });

  afterAll(async () => {
    await manager?.stopAll();
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('stores every message exactly once, parsed or quarantined with a reason', async () => {
    const started = performance.now();
    manager = new SyncManager({ db: t.db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date(), allowPrivateHosts: true }, FAST);
    await manager.ensure(accountId);
    let stored = 0;
    let lastReport = started;
    while (stored < size) {
      if (performance.now() - started > TIMEOUT_MS - 20_000) {
        throw new Error(`only ${stored} of ${size} stored after ${Math.round(performance.now() - started)} ms`);
      }
      await sleep(250);
      stored = (await inboxLocations()) + (await quarantined());
      if (performance.now() - lastReport > 15_000) {
        lastReport = performance.now();
        console.info(`[mail-corpus] ${name}: ${stored}/${size} after ${Math.round(lastReport - started)} ms`);
      }
    }
    const seconds = (performance.now() - started) / 1_000;
    await manager.stopAll();
    manager = undefined;

    const serverUids = await dovecot.listUids('alice', 'INBOX');
    const rows = await t.db.query<{ uid: number }>(
      `select l.uid from message_locations l join mail_folders f on f.id = l.folder_id
       where f.account_id = $1 and f.path = 'INBOX'
       union all
       select q.uid from message_quarantine q join mail_folders f on f.id = q.folder_id
       where q.account_id = $1 and f.path = 'INBOX'`,
      [accountId],
    );
    const storedUids = rows.map((r) => r.uid).sort((a, b) => a - b);
    const [keys] = await t.db.query<{ messages: number; keys: number }>(
      'select count(*)::int as messages, count(distinct message_key)::int as keys from messages where account_id = $1',
      [accountId],
    );
    const reasons = await t.db.query<{ reason: string }>('select reason from message_quarantine where account_id = $1', [accountId]);
    console.info(
      `[mail-corpus] ${name}: ${size} messages in ${seconds.toFixed(1)} s (${Math.round(size / seconds)} msg/s); ` +
        `${keys?.messages} messages, ${reasons.length} quarantined${reasons.length ? `: ${[...new Set(reasons.map((r) => r.reason))].join('; ')}` : ''}`,
    );

    expect(serverUids.length).toBe(size);
    expect(storedUids.length).toBe(size);
    // Sorted and equal in length, so equality means each server UID is stored exactly once.
    expect(storedUids).toEqual([...serverUids].sort((a, b) => a - b));
    expect(keys?.keys).toBe(keys?.messages);
    for (const { reason } of reasons) {
      expect(reason.trim()).not.toBe('');
    }
  }, TIMEOUT_MS);
});
