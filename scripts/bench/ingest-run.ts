/**
 * @module scripts/bench/ingest-run
 * Phase (c) of `npm run bench:ingest`, in a process of its own so that its
 * peak RSS is that of a Shoal process syncing one mailbox, not of the
 * benchmark holding the whole corpus for phases (a) and (b). Started by
 * ingest.ts with BENCH_IMAP_PORT, BENCH_SMTP_PORT and BENCH_MESSAGES; prints
 * one JSON line with the figures.
 */
import type { Db } from '../../db';
import { createApp } from '../../server/app';
import { loadConfig } from '../../server/env';
import { SyncManager } from '../../server/ingest/sync-manager';
import { createLogger } from '../../server/logger';
import { loadKeyring } from '../../server/secrets/keyring';
import { cpuMeter, createBenchDb, peakRss, processThreads, type CpuSplit, type PeakParts } from './support';

export interface IngestFigures {
  driver: string;
  /** Messages of another organization's mailbox synced by the same process before (c) was timed. */
  warmUpMessages: number;
  seconds: number;
  peakRssMb: number;
  rssBeforeMb: number;
  atPeak: PeakParts;
  cpu: CpuSplit;
}

function required(name: string): number {
  const value = Number(process.env[name]);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`ingest-run: ${name} must be a positive integer`);
  }
  return value;
}

interface Mailbox {
  org: string;
  email: string;
  user: string;
  password: string;
}

const MEASURED: Mailbox = { org: 'Bench', email: 'alice@acme.test', user: 'alice', password: 'alice-pw' };
/** A mailbox of another organization, synced first so (c), like (a), is timed on warmed code. */
const WARM_UP: Mailbox = { org: 'Warm-up', email: 'bob@warm.test', user: 'bob', password: 'bob-pw' };

/** Shoal's API and the sync dependencies over the bench database: one key ring, so every account's secrets open. */
async function createShoal(db: Db) {
  const config = loadConfig({
    NODE_ENV: 'test',
    ORIGIN: 'http://bench.test',
    APP_DIR: '/nonexistent',
    SIGNUP: 'open',
    MAIL_ALLOW_PRIVATE_HOSTS: 'true',
    MAIL_KEKS: `k1:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`,
    MESSAGE_ID_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64'),
  });
  const log = createLogger('silent');
  const keyring = await loadKeyring(config);
  const app = createApp({ db, config, log, keyring, now: () => new Date() });
  return { app, deps: { db, keyring, log, now: () => new Date(), allowPrivateHosts: true } };
}

type Shoal = Awaited<ReturnType<typeof createShoal>>;

/** Signs up and connects a Dovecot mailbox through the API, as a person would. @returns the account's id. */
async function connectMailbox(shoal: Shoal, imapPort: number, smtpPort: number, mailbox: Mailbox): Promise<string> {
  const headers = { 'content-type': 'application/json', origin: 'http://bench.test' };
  const signup = await shoal.app.request('/api/auth/signup', {
    method: 'POST',
    headers,
    body: JSON.stringify({ orgName: mailbox.org, name: mailbox.user, email: mailbox.email, password: 'correct horse battery' }),
  });
  const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const account = await shoal.app.request('/api/mail/accounts', {
    method: 'POST',
    headers: { ...headers, cookie },
    body: JSON.stringify({
      email: mailbox.email,
      provider: 'custom',
      imap: { host: '127.0.0.1', port: imapPort, security: 'none', user: mailbox.user, password: mailbox.password },
      smtp: { host: '127.0.0.1', port: smtpPort, security: 'none' },
      smtpSameCredentials: true,
      storeSent: false,
    }),
  });
  const body = (await account.json()) as { id?: string };
  if (!account.ok || !body.id) {
    throw new Error(`connecting the bench mailbox failed: ${account.status} ${JSON.stringify(body)}`);
  }
  return body.id;
}

async function stored(db: Db, accountId: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select (select count(*) from message_locations l join mail_folders f on f.id = l.folder_id where f.account_id = $1)
          + (select count(*) from message_quarantine where account_id = $1) as n`,
    [accountId],
  );
  return Number(row?.n);
}

async function waitStored(db: Db, accountId: string, messages: number): Promise<void> {
  while ((await stored(db, accountId)) < messages) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<IngestFigures> {
  const messages = required('BENCH_MESSAGES');
  const warmUp = Number(process.env.BENCH_WARMUP_MESSAGES ?? 0);
  const imapPort = required('BENCH_IMAP_PORT');
  const smtpPort = required('BENCH_SMTP_PORT');
  const bench = await createBenchDb();
  try {
    const platform = processThreads();
    const shoal = await createShoal(bench.db);
    const id = await connectMailbox(shoal, imapPort, smtpPort, MEASURED);
    const manager = new SyncManager(shoal.deps, { folderIntervalMs: 600_000, watchdogMs: 120_000, idleDelayMs: 5_000, leaseRetryMs: 500 });
    if (warmUp > 0) {
      const warm = await connectMailbox(shoal, imapPort, smtpPort, WARM_UP);
      await manager.ensure(warm);
      await waitStored(bench.db, warm, warmUp);
      await manager.stop(warm);
    }
    const rssBeforeMb = process.memoryUsage.rss() / (1024 * 1024);
    const rss = peakRss();
    const cpu = await cpuMeter(bench.db, platform);
    const started = performance.now();
    await manager.ensure(id);
    await waitStored(bench.db, id, messages);
    const seconds = (performance.now() - started) / 1000;
    // Read before stopping: the parse worker's thread is gone afterwards.
    const split = await cpu.stop();
    const peakRssMb = rss.peakMb();
    rss.stop();
    await manager.stopAll();
    return { driver: bench.db.driver, warmUpMessages: warmUp, seconds, peakRssMb, rssBeforeMb, atPeak: rss.parts(), cpu: split };
  } finally {
    await bench.drop();
  }
}

process.stdout.write(`${JSON.stringify(await main())}\n`);
process.exit(0);
