/**
 * Syncing through a hostile network. Dovecot sits behind the fault proxy;
 * while the corpus (6,026 real messages) syncs and new mail keeps arriving, a
 * seeded schedule injects ≥ 50 faults of every kind (RST, RST mid-literal,
 * half-open blackhole, latency, slow drip). The mirror must come out exact:
 * every UID once, nothing lost, nothing doubled, and every half-open socket
 * found within the watchdog interval, mid-sync and on an idle account alike.
 * Set SHOAL_TEST_SEED to replay a schedule; DEBUG_FAULTS=1 prints the
 * worker's last warnings.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerOptions } from '../../server/ingest/account-worker';
import { SyncManager } from '../../server/ingest/sync-manager';
import { client, createHarness, signUpAdmin, type Harness } from '../helpers/app';
import { CORPUS_SIZE, loadCorpus } from '../helpers/corpus';
import { driverCases, type DriverCase, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import {
  faults,
  seededRandom,
  startFaultProxy,
  testSeed,
  type Fault,
  type FaultKind,
  type FaultProxy,
} from '../helpers/fault-proxy';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { waitFor, connectLoopbackAccount } from '../helpers/mail-account';

const WATCHDOG_MS = 1_500;
/** Scheduling slack on top of the watchdog: timers, the close, and a loaded 2-core box. */
const DETECTION_MARGIN_MS = 500;
const OPTIONS: WorkerOptions = {
  // Longer than the watchdog, as in production, so idle detection is the watchdog's doing.
  folderIntervalMs: 10_000,
  watchdogMs: WATCHDOG_MS,
  idleDelayMs: 100,
  leaseRetryMs: 300,
  reconnectBaseMs: 50,
  reconnectMaxMs: 500,
};
const LIVE = 20;
/** The whole corpus, the last few arriving live: enough batches for ≥ 50 faults within the initial sync. */
const PREFILLED = CORPUS_SIZE - LIVE;
const MIN_FAULTS = 50;
const IDLE_TRIALS = 5;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));


/** An echo server: whatever a client sends comes back, so each fault is visible end to end. */
async function startEcho(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `data` and collects what comes back until `bytes` arrived or the socket ends. */
function roundTrip(socket: Socket, data: Buffer, bytes = data.length) {
  return new Promise<{ received: Buffer; chunks: number; error: string | null; ms: number }>((resolve) => {
    const started = Date.now();
    const parts: Buffer[] = [];
    let error: string | null = null;
    const finish = () => resolve({ received: Buffer.concat(parts), chunks: parts.length, error, ms: Date.now() - started });
    socket.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      if (Buffer.concat(parts).length >= bytes) {
        finish();
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', finish);
    socket.write(data);
  });
}

describe('fault proxy', () => {
  let echo: { server: Server; port: number };
  let proxy: FaultProxy;
  const sockets: Socket[] = [];
  /** A connection through the proxy, once the proxy has accepted it (faults land on the newest). */
  const via = async () => {
    const before = proxy.connections;
    const socket = await open(proxy.port);
    sockets.push(socket);
    await waitFor('the proxy to accept', () => proxy.connections, (n) => n > before, 2_000);
    return socket;
  };

  beforeAll(async () => {
    echo = await startEcho();
    proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: echo.port });
  });

  afterEach(async () => {
    // Each test's faults must land on its own connections, not on a previous test's.
    sockets.splice(0).forEach((s) => s.destroy());
    await waitFor('the links to close', () => proxy.active, (n) => n === 0, 2_000);
  });

  afterAll(async () => {
    await proxy?.stop();
    await new Promise((resolve) => echo?.server.close(resolve));
  });

  it('forwards untouched without faults', async () => {
    const data = Buffer.alloc(200_000, 7);
    const result = await roundTrip(await via(), data);
    expect(result.received.equals(data)).toBe(true);
  });

  it('resets a connection (the client sees ECONNRESET) and resets mid-stream after N server bytes', async () => {
    const first = await via();
    const pending = roundTrip(first, Buffer.from('x'), 10);
    await sleep(50);
    proxy.inject(faults.reset());
    expect((await pending).error).toBe('ECONNRESET');

    const second = await via();
    proxy.inject(faults.resetAfterBytes(1_000));
    const cut = await roundTrip(second, Buffer.alloc(50_000, 1));
    expect(cut.received.length).toBe(1_000);
    expect(cut.error).toBe('ECONNRESET');
  });

  it('blackholes a connection without closing it (half-open)', async () => {
    const socket = await via();
    proxy.inject(faults.blackhole());
    const result = await Promise.race([roundTrip(socket, Buffer.from('ping')), sleep(400).then(() => null)]);
    expect(result).toBeNull();
    expect(socket.destroyed).toBe(false);
    expect(proxy.active).toBe(1);
  });

  it('adds latency and re-chunks server data into a slow drip', async () => {
    const slowSocket = await via();
    proxy.inject(faults.latency(150));
    const slow = await roundTrip(slowSocket, Buffer.from('hello'));
    // Once on the way in, once on the way out.
    expect(slow.ms).toBeGreaterThanOrEqual(280);
    const dripSocket = await via();
    proxy.inject(faults.slowDrip(100, 5));
    const drip = await roundTrip(dripSocket, Buffer.alloc(2_000, 2));
    expect(drip.received.length).toBe(2_000);
    expect(drip.chunks).toBeGreaterThanOrEqual(10);
    expect(proxy.injectedByKind).toMatchObject({ reset: 1, resetAfterBytes: 1, blackhole: 1, latency: 1, slowDrip: 1 });
  });
});

/** What a mailbox looks like in Shoal next to what the server holds. */
async function mirrorReport(db: TestDb['db'], accountId: string, path: string, serverUids: readonly number[]) {
  const stored = await db.query<{ uid: number }>(
    `select l.uid from message_locations l join mail_folders f on f.id = l.folder_id and l.uidvalidity = f.uidvalidity
     where f.account_id = $1 and f.path = $2
     union all
     select q.uid from message_quarantine q join mail_folders f on f.id = q.folder_id and q.uidvalidity = f.uidvalidity
     where f.account_id = $1 and f.path = $2`,
    [accountId, path],
  );
  const seen = new Map<number, number>();
  stored.forEach(({ uid }) => seen.set(uid, (seen.get(uid) ?? 0) + 1));
  const onServer = new Set(serverUids);
  const [counts] = await db.query<{ messages: number; keys: number; unlocated: number }>(
    `select count(*)::int as messages, count(distinct message_key)::int as keys,
       count(*) filter (where not exists (select 1 from message_locations l where l.message_id = m.id))::int as unlocated
     from messages m where account_id = $1`,
    [accountId],
  );
  return {
    server: serverUids.length,
    stored: stored.length,
    lost: serverUids.filter((uid) => !seen.has(uid)),
    duplicated: [...seen].filter(([, n]) => n > 1).map(([uid]) => uid),
    extra: [...seen.keys()].filter((uid) => !onServer.has(uid)),
    ...(counts ?? { messages: 0, keys: 0, unlocated: 0 }),
  };
}

const KINDS: readonly FaultKind[] = ['reset', 'resetAfterBytes', 'blackhole', 'latency', 'slowDrip'];

/** A seeded fault: sizes and delays picked so each kind bites during a FETCH of real mail. */
function pickFault(random: () => number): Fault {
  const kind = KINDS[Math.floor(random() * KINDS.length)] as FaultKind;
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo));
  switch (kind) {
    case 'reset':
      return faults.reset();
    case 'resetAfterBytes':
      return faults.resetAfterBytes(between(1, 96 * 1024));
    case 'blackhole':
      return faults.blackhole();
    case 'latency':
      return faults.latency(between(5, 120));
    case 'slowDrip':
      return faults.slowDrip(between(512, 8 * 1024), between(1, 4));
  }
}

/** Faults that end the connection, so the next one waits for the worker to reconnect. */
const KILLS: ReadonlySet<FaultKind> = new Set(['reset', 'resetAfterBytes', 'blackhole']);

describe.runIf(dovecotAvailable())('mailbox sync through a faulty network', () => {
  // Postgres when available (the production shape), PGlite otherwise: the faults are in the network, not the store.
  const driver = driverCases().at(-1) as DriverCase;
  let dovecot: Dovecot;
  let proxy: FaultProxy;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let manager: SyncManager;
  let accountId: string;
  const corpus = loadCorpus();

  const storedCount = async () =>
    Number(
      (
        await t.db.query<{ n: number }>(
          `select (select count(*) from message_locations l join mail_folders f on f.id = l.folder_id
                   where f.account_id = $1 and f.path = 'INBOX')
                + (select count(*) from message_quarantine where account_id = $1) as n`,
          [accountId],
        )
      )[0]?.n ?? 0,
    );

  /** When the worker first logged an interruption at or after `since` (pino's epoch-ms `time`). */
  const interruptedAt = (since: number): number | null => {
    for (const line of h.logs) {
      const entry = JSON.parse(line) as { msg?: string; time?: number };
      if (entry.msg === 'mailbox sync interrupted' && (entry.time ?? 0) >= since) {
        return entry.time ?? null;
      }
    }
    return null;
  };

  beforeAll(async () => {
    dovecot = await startDovecot();
    await dovecot.prefill('alice', 'INBOX', corpus.slice(0, PREFILLED).map((m) => m.raw));
    proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: dovecot.port });
    sink = await startSmtpSink();
    t = await driver.create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
    const api = client(h.app);
    const admin = await signUpAdmin(api, 'alice@acme.test');
    accountId = await connectLoopbackAccount(api, admin.cookie, { imapPort: proxy.port, smtpPort: sink.port });
    console.info(`[mail-faults] driver ${driver.name}; Dovecot :${dovecot.port} behind proxy :${proxy.port}`);
  });

  afterAll(async () => {
    await manager?.stopAll();
    if (process.env.DEBUG_FAULTS) {
      console.info(h?.logs.filter((l) => /"level":(40|50)/.test(l)).slice(-40).join(''));
    }
    await proxy?.stop();
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  const backfillDone = async () =>
    (
      await t.db.query<{ done: boolean }>(
        `select backfill_done as done from mail_folders where account_id = $1 and path = 'INBOX'`,
        [accountId],
      )
    )[0]?.done === true;

  /** Straight into Dovecot, not through the proxy: new mail keeps arriving while the network misbehaves. */
  const arrive = async (n: number) => {
    await dovecot.save('alice', 'INBOX', (corpus[PREFILLED + n] as { raw: Buffer }).raw);
  };

  it(`completes the sync of ${PREFILLED} messages plus ${LIVE} arrivals through ≥ ${MIN_FAULTS} faults: 0 lost, 0 duplicated`, async () => {
    const seed = testSeed('mail-faults');
    const random = seededRandom(seed);
    const started = Date.now();
    manager = new SyncManager({ db: t.db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date(), allowPrivateHosts: true }, OPTIONS);
    await manager.ensure(accountId);

    let saved = 0;
    let storedAtLastKill = -1;
    const reconnectMs: Record<string, number[]> = { reset: [], resetAfterBytes: [], blackhole: [] };
    const blackholeDetectMs: number[] = [];
    let duringInitial = 0;
    // Faults for as long as the initial sync runs; should it outrun the schedule, more follow while new mail syncs.
    while (!(await backfillDone()) || proxy.faultsInjected < MIN_FAULTS) {
      await waitFor('a live connection', () => proxy.active, (n) => n > 0, 30_000);
      const fault = pickFault(random);
      if (KILLS.has(fault.kind)) {
        // Kill again only once a batch landed since the last kill: each fault costs at most one batch of rework, so the sync must finish.
        await waitFor('progress', storedCount, (n) => n > storedAtLastKill, 15_000).catch(() => undefined);
      }
      // A random phase: during login, a FETCH, a store, or IDLE.
      await sleep(Math.floor(random() * 250));
      const initial = !(await backfillDone());
      duringInitial += initial ? 1 : 0;
      const stored = await storedCount();
      const before = { connections: proxy.connections, at: Date.now() };
      proxy.inject(fault);
      if ((random() < 0.4 || !initial) && saved < LIVE) {
        await arrive(saved);
        saved += 1;
      }
      if (KILLS.has(fault.kind)) {
        storedAtLastKill = stored;
        // An armed RST-after-N waits for traffic; do not stall the schedule on it.
        const back = await waitFor('reconnect', () => proxy.connections, (n) => n > before.connections, 5_000).catch(() => null);
        if (back !== null) {
          reconnectMs[fault.kind]?.push(Date.now() - before.at);
        }
        if (fault.kind === 'blackhole') {
          blackholeDetectMs.push((interruptedAt(before.at) ?? Number.NaN) - before.at);
        }
      }
      if (proxy.faultsInjected % 10 === 0) {
        console.info(`[mail-faults] ${proxy.faultsInjected} faults, ${proxy.connections} connections, ${stored} stored, ${Date.now() - started} ms`);
      }
    }
    const chaosMs = Date.now() - started;
    for (; saved < LIVE; saved += 1) {
      await arrive(saved);
    }
    const serverUids = await dovecot.listUids('alice', 'INBOX');
    expect(serverUids.length).toBe(PREFILLED + LIVE);
    await waitFor('the mirror to converge', storedCount, (n) => n >= serverUids.length, 60_000);
    const report = await mirrorReport(t.db, accountId, 'INBOX', serverUids);
    const status = await dovecot.status('alice', 'INBOX');
    // The folder's UIDNEXT moves after the messages: a pass cut by the last fault stored its batch, and the next pass
    // records the server's UIDNEXT (a stale one only makes the next fetch ask again for what is already stored).
    const folder = await waitFor(
      "the folder's UIDNEXT",
      async () =>
        (
          await t.db.query<{ uidnext: number; backfillDone: boolean }>(
            `select uidnext, backfill_done as "backfillDone" from mail_folders where account_id = $1 and path = 'INBOX'`,
            [accountId],
          )
        )[0],
      (row) => row?.uidnext === status.uidnext,
      30_000,
    );
    const summary = (ms: number[]) => (ms.length ? `n=${ms.length} max ${Math.max(...ms)} ms` : 'n=0');
    console.info(
      [
        `[mail-faults] seed ${seed}: ${proxy.faultsInjected} faults (${duringInitial} during the initial sync) over ${proxy.connections} connections`,
        `  by kind: ${JSON.stringify(proxy.injectedByKind)}`,
        `  injection → next connection: ${Object.entries(reconnectMs).map(([k, ms]) => `${k} ${summary(ms)}`).join('; ')}`,
        `  blackhole (mid-sync) detected after: ${blackholeDetectMs.join(', ')} ms`,
        `  faults over ${chaosMs} ms; converged after ${Date.now() - started} ms with ${LIVE} live arrivals`,
        `  mirror: ${JSON.stringify({ ...report, lost: report.lost.length, duplicated: report.duplicated.length, extra: report.extra.length })}`,
      ].join('\n'),
    );
    expect(proxy.faultsInjected).toBeGreaterThanOrEqual(MIN_FAULTS);
    for (const kind of KINDS) {
      expect(proxy.injectedByKind[kind], kind).toBeGreaterThan(0);
    }
    expect(report.lost).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(report.extra).toEqual([]);
    expect(report.stored).toBe(serverUids.length);
    expect(report.keys).toBe(report.messages);
    expect(report.unlocated).toBe(0);
    expect(folder?.backfillDone).toBe(true);
    expect(folder?.uidnext).toBe(status.uidnext);
    // A blackhole that lands on a connection already being torn down by an earlier fault has no
    // detection of its own to time; the ones that could be timed must all be within the watchdog.
    const timed = blackholeDetectMs.filter((ms) => Number.isFinite(ms));
    expect(timed.length).toBeGreaterThan(0);
    for (const ms of timed) {
      expect(ms).toBeLessThanOrEqual(WATCHDOG_MS + DETECTION_MARGIN_MS);
    }
  }, 300_000);

  it(`detects a half-open connection on an idle account within the watchdog interval (${WATCHDOG_MS} ms)`, async () => {
    const random = seededRandom(testSeed('mail-faults idle'));
    const detected: number[] = [];
    const reconnected: number[] = [];
    for (let trial = 0; trial < IDLE_TRIALS; trial += 1) {
      // Idle again means a whole catch-up pass over the corpus, slow on a busy box; the detection itself is timed below.
      await waitFor('an idle account', async () => (await t.db.query<{ status: string }>(
        'select status from mail_accounts where id = $1',
        [accountId],
      ))[0]?.status, (s) => s === 'idle', 90_000);
      // A random phase against the watchdog's timer.
      await sleep(Math.floor(random() * WATCHDOG_MS));
      const before = proxy.connections;
      const at = Date.now();
      proxy.inject(faults.blackhole());
      await waitFor('reconnect', () => proxy.connections, (n) => n > before, 10_000);
      reconnected.push(Date.now() - at);
      detected.push((interruptedAt(at) ?? Number.NaN) - at);
    }
    console.info(
      `[mail-faults] half-open on an idle account, watchdog ${WATCHDOG_MS} ms: detected after ${detected.join(', ')} ms; ` +
        `reconnected after ${reconnected.join(', ')} ms`,
    );
    for (const ms of detected) {
      expect(ms).toBeLessThanOrEqual(WATCHDOG_MS + DETECTION_MARGIN_MS);
    }
  }, 400_000);
});
