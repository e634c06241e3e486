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
import { cpuMeter, createBenchDb, peakRss, type CpuSplit, type PeakParts } from './support';

export interface IngestFigures {
  driver: string;
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

/** Signs up and connects the Dovecot mailbox through the API, as a person would. @returns the account and the sync dependencies. */
async function connectMailbox(db: Db, imapPort: number, smtpPort: number) {
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
  const headers = { 'content-type': 'application/json', origin: 'http://bench.test' };
  const signup = await app.request('/api/auth/signup', {
    method: 'POST',
    headers,
    body: JSON.stringify({ orgName: 'Bench', name: 'Alice', email: 'alice@acme.test', password: 'correct horse battery' }),
  });
  const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const account = await app.request('/api/mail/accounts', {
    method: 'POST',
    headers: { ...headers, cookie },
    body: JSON.stringify({
      email: 'alice@acme.test',
      provider: 'custom',
      imap: { host: '127.0.0.1', port: imapPort, security: 'none', user: 'alice', password: 'alice-pw' },
      smtp: { host: '127.0.0.1', port: smtpPort, security: 'none' },
      smtpSameCredentials: true,
      storeSent: false,
    }),
  });
  const body = (await account.json()) as { id?: string };
  if (!account.ok || !body.id) {
    throw new Error(`connecting the bench mailbox failed: ${account.status} ${JSON.stringify(body)}`);
  }
  const id = body.id;
  return { id, deps: { db, keyring, log, now: () => new Date() } };
}

async function stored(db: Db, accountId: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select (select count(*) from message_locations l join mail_folders f on f.id = l.folder_id where f.account_id = $1)
          + (select count(*) from message_quarantine where account_id = $1) as n`,
    [accountId],
  );
  return Number(row?.n);
}

async function main(): Promise<IngestFigures> {
  const messages = required('BENCH_MESSAGES');
  const bench = await createBenchDb();
  try {
    const { id, deps } = await connectMailbox(bench.db, required('BENCH_IMAP_PORT'), required('BENCH_SMTP_PORT'));
    const manager = new SyncManager(deps, { folderIntervalMs: 600_000, watchdogMs: 120_000, idleDelayMs: 5_000, leaseRetryMs: 500 });
    const rssBeforeMb = process.memoryUsage.rss() / (1024 * 1024);
    const rss = peakRss();
    const cpu = await cpuMeter(bench.db);
    const started = performance.now();
    await manager.ensure(id);
    while ((await stored(bench.db, id)) < messages) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    // Read before stopping: the parse worker's thread is gone afterwards.
    const split = await cpu.stop();
    const peakRssMb = rss.peakMb();
    rss.stop();
    await manager.stopAll();
    return { driver: bench.db.driver, seconds, peakRssMb, rssBeforeMb, atPeak: rss.parts(), cpu: split };
  } finally {
    await bench.drop();
  }
}

process.stdout.write(`${JSON.stringify(await main())}\n`);
process.exit(0);
