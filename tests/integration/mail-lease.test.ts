/**
 * One syncing worker per mailbox across every Shoal process. Each worker
 * holds its account's lease (a Postgres advisory lock); this suite checks
 * that leases do not take the query pool away, that a lease whose
 * connection died is known dead without crashing the process, that a worker
 * whose lease died stops syncing while another process takes over, and
 * that of two real processes started against one mailbox only one syncs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../db';
import { SyncManager } from '../../server/ingest/sync-manager';
import { client, createHarness, signUpAdmin, type Harness } from '../helpers/app';
import { loadCorpus } from '../helpers/corpus';
import { driverCases, type DriverCase, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { connectLoopbackAccount, waitFor } from '../helpers/mail-account';
import { prerequisite } from '../helpers/prereq';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { spawnSyncChild, type SyncChild } from '../helpers/sync-child-process';

/** More than the query pool's ten connections. */
const MANY = 12;
const MESSAGES = 60;
const FAST = { folderIntervalMs: 400, watchdogMs: 4_000, idleDelayMs: 100, leaseRetryMs: 100 };

const randomKey = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');

describe.each(driverCases())('mailbox leases on $name', ({ create }) => {
  let t: TestDb;

  beforeAll(async () => {
    t = await create();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it(`holds ${MANY} leases (more than the query pool has connections) and still answers queries`, async () => {
    const leases = [];
    for (let i = 0; i < MANY; i += 1) {
      leases.push(await t.db.tryLease(`mail-account:many-${i}`));
    }
    expect(leases.filter((l) => l !== null)).toHaveLength(MANY);
    expect(await t.db.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
    expect(await t.db.transaction((tx) => tx.query<{ two: number }>('select 2 as two'))).toEqual([{ two: 2 }]);
    // Held by this process already: a second worker here is refused too, and every lease is alive.
    expect(await t.db.tryLease('mail-account:many-0')).toBeNull();
    expect(await Promise.all(leases.map((l) => l?.alive()))).toEqual(Array.from({ length: MANY }, () => true));
    for (const lease of leases) {
      await lease?.release();
    }
    const again = await t.db.tryLease('mail-account:many-0');
    expect(again).not.toBeNull();
    await again?.release();
  });
});

const hasPostgres = prerequisite(
  'Postgres tier',
  process.env.TEST_DATABASE_URL ? null : 'TEST_DATABASE_URL is not set (leases across processes need a shared database)',
);
const postgresCase: DriverCase | undefined = hasPostgres ? driverCases().find((d) => d.name === 'postgres') : undefined;

describe.runIf(postgresCase !== undefined)('a lease on Postgres whose connection died', () => {
  let t: TestDb;
  let url: string;
  const opened: Db[] = [];

  beforeAll(async () => {
    t = await (postgresCase as DriverCase).create();
    url = await databaseUrl(t);
  });
  afterAll(async () => {
    await Promise.all(opened.map((db) => db.close()));
    await t?.drop();
  });

  async function open(): Promise<Db> {
    const db = await openDb({ databaseUrl: url });
    opened.push(db);
    return db;
  }

  it('is reported dead without crashing the process, and another process may take it', async () => {
    const one = await open();
    const two = await open();
    const name = `mail-account:${crypto.randomUUID()}`;
    const lease = await one.tryLease(name);
    expect(lease).not.toBeNull();
    expect(await two.tryLease(name)).toBeNull();

    const pid = await holderPid(t.db, name);
    await t.db.query('select pg_terminate_backend($1)', [pid]);
    await waitFor('the lease to be reported dead', () => lease?.alive(), (alive) => alive === false);
    // A second look at a dead connection is where postgres.js's reserved connections crash the process.
    expect(await lease?.alive()).toBe(false);
    const taken = await waitFor('the other process to take the lease', () => two.tryLease(name), (l) => l !== null);
    const takerPid = await holderPid(t.db, name);

    // Releasing the dead lease leaves the new holder's lock alone.
    await lease?.release();
    expect(await holderPid(t.db, name)).toBe(takerPid);
    expect(await taken?.alive()).toBe(true);
    // The first process keeps working: queries, and a new lease on its reconnected lease connection.
    expect(await one.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
    const fresh = await one.tryLease(`mail-account:${crypto.randomUUID()}`);
    expect(await fresh?.alive()).toBe(true);
    await fresh?.release();
    await taken?.release();
    expect(await holderPid(t.db, name)).toBeNull();
  });
});

describe.runIf(postgresCase !== undefined && dovecotAvailable())('one syncing worker per mailbox across processes', () => {
  const keks = `k1:${randomKey()}`;
  const messageIdKey = randomKey();
  const corpus = loadCorpus({ groups: ['easy-ham-1'], limit: MESSAGES + 2 });
  const children: SyncChild[] = [];
  const managers: SyncManager[] = [];
  const opened: Db[] = [];
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let url: string;
  let accountId: string;

  const inboxLocations = async () =>
    Number(
      (
        await t.db.query<{ n: number }>(
          `select count(*)::int as n from message_locations l join mail_folders f on f.id = l.folder_id
           where f.account_id = $1 and f.path = 'INBOX'`,
          [accountId],
        )
      )[0]?.n ?? 0,
    );

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    await dovecot.prefill('alice', 'INBOX', corpus.slice(0, MESSAGES).map((m) => m.raw));
    t = await (postgresCase as DriverCase).create();
    url = await databaseUrl(t);
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true', MAIL_KEKS: keks, MESSAGE_ID_KEY: messageIdKey });
    const admin = await signUpAdmin(client(h.app), 'alice@acme.test');
    accountId = await connectLoopbackAccount(client(h.app), admin.cookie, { imapPort: dovecot.port, smtpPort: sink.port });
  }, 120_000);

  afterAll(async () => {
    for (const child of children) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    await Promise.all(managers.map((m) => m.stopAll()));
    await Promise.all(opened.map((db) => db.close()));
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('of two processes started together only one syncs, and the other takes over when it dies', async () => {
    const env = { databaseUrl: url, accountId, keks, messageIdKey };
    const pair = [spawnSyncChild(env), spawnSyncChild(env)];
    children.push(...pair);
    const leased = () => pair.filter((c) => c.events.includes('leased'));
    await waitFor('one child to take the lease', () => leased().length, (n) => n > 0, 60_000);
    await waitFor('the initial sync', inboxLocations, (n) => n === MESSAGES, 60_000);
    await waitFor('the account to be idle', async () => (await t.db.query<{ status: string }>(
      'select status from mail_accounts where id = $1',
      [accountId],
    ))[0]?.status, (s) => s === 'idle');
    // The other child retried every 100 ms all along and never got the lease.
    expect(leased()).toHaveLength(1);
    expect(await holders(t.db, `mail-account:${accountId}`)).toBe(1);

    const [holder] = leased() as [SyncChild];
    const other = pair.find((c) => c !== holder) as SyncChild;
    holder.proc.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    await waitFor('the other child to take over', () => other.events.includes('leased'), (yes) => yes, 30_000);
    await dovecot.save('alice', 'INBOX', (corpus[MESSAGES] as { raw: Buffer }).raw);
    await waitFor('new mail stored by the survivor', inboxLocations, (n) => n === MESSAGES + 1, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nsurvivor's stderr:\n${other.stderr.join('').slice(-2_000)}`);
    });
    expect(await holders(t.db, `mail-account:${accountId}`)).toBe(1);
    other.proc.kill('SIGTERM');
    expect((await other.exited).code).toBe(0);
    const [counts] = await t.db.query<{ messages: number; keys: number }>(
      'select count(*)::int as messages, count(distinct message_key)::int as keys from messages where account_id = $1',
      [accountId],
    );
    expect(counts).toEqual({ messages: MESSAGES + 1, keys: MESSAGES + 1 });
  }, 180_000);

  it('a worker whose lease connection died stops syncing while another process takes over', async () => {
    const start = async (leaseRetryMs: number) => {
      const db = await openDb({ databaseUrl: url });
      opened.push(db);
      const manager = new SyncManager({ db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date(), allowPrivateHosts: true }, { ...FAST, leaseRetryMs });
      managers.push(manager);
      await manager.ensure(accountId);
      return manager;
    };
    // The first worker would wait a minute before trying again, so the second is the one to take over.
    const first = await start(60_000);
    await waitFor('the first worker to hold the lease', () => first.isSyncing(accountId), (yes) => yes);
    const second = await start(100);
    await waitFor('the first worker to catch up', inboxLocations, (n) => n === MESSAGES + 1, 60_000);
    expect(second.isSyncing(accountId)).toBe(false);

    const cut = Date.now();
    await t.db.query('select pg_terminate_backend($1)', [await holderPid(t.db, `mail-account:${accountId}`)]);
    await waitFor('the second worker to take over', () => second.isSyncing(accountId), (yes) => yes, 30_000);
    await waitFor('the first worker to stop syncing', () => first.isSyncing(accountId), (yes) => !yes, FAST.watchdogMs * 2);
    expect(await holders(t.db, `mail-account:${accountId}`)).toBe(1);
    await dovecot.save('alice', 'INBOX', (corpus[MESSAGES + 1] as { raw: Buffer }).raw);
    await waitFor('new mail stored by the second worker', inboxLocations, (n) => n === MESSAGES + 2, 30_000);
    // A lost lease is not a mailbox problem: logged as such, and the health line does not turn red for it.
    const since = logged(h, cut);
    expect(since).toContain('mailbox lease lost');
    expect(since).not.toContain('mailbox sync interrupted');
    const [account] = await t.db.query<{ status: string; code: string | null }>(
      'select status, health_code as code from mail_accounts where id = $1',
      [accountId],
    );
    expect(account).toEqual({ status: 'idle', code: null });
  }, 180_000);
});

/** The messages the harness's logger wrote at or after `since` (pino's epoch-ms `time`). */
function logged(h: Harness, since: number): string[] {
  return h.logs
    .flatMap((chunk) => chunk.split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as { msg?: string; time?: number })
    .filter((entry) => (entry.time ?? 0) >= since)
    .map((entry) => entry.msg ?? '');
}

/** The URL of a test database (its server's URL with the database's own name). */
async function databaseUrl(t: TestDb): Promise<string> {
  const [row] = await t.db.query<{ name: string }>('select current_database() as name');
  const out = new URL(process.env.TEST_DATABASE_URL as string);
  out.pathname = `/${row?.name}`;
  return out.toString();
}

const LOCK_ROWS = `from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
  and classid = hashtext('shoal')::oid and objid = hashtext($1)::oid and objsubid = 2`;

/** The backend holding a lease, or null. */
async function holderPid(db: Db, name: string): Promise<number | null> {
  const rows = await db.query<{ pid: number }>(`select pid ${LOCK_ROWS}`, [name]);
  return rows[0]?.pid ?? null;
}

/** How many backends hold a lease (session advisory locks: one row per holder). */
async function holders(db: Db, name: string): Promise<number> {
  return (await db.query<{ n: number }>(`select count(*)::int as n ${LOCK_ROWS}`, [name]))[0]?.n ?? 0;
}
