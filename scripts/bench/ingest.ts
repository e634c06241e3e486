/**
 * @module scripts/bench/ingest
 * `npm run bench:ingest`: on the same 6,046 real messages, in one run,
 * (a) parse-only throughput, (b) raw fetch from a loopback Dovecot, (c) full
 * ingest (fetch, parse, thread, match, store) into Postgres (BENCH_DATABASE_URL,
 * else TEST_DATABASE_URL) or PGlite. Prints a table, then one JSON line.
 */
import { ImapFlow } from 'imapflow';
import type { Db } from '../../db';
import { SyncManager } from '../../server/ingest/sync-manager';
import { parseMessage } from '../../server/ingest/parse-message';
import { loadConfig } from '../../server/env';
import { createLogger } from '../../server/logger';
import { loadKeyring } from '../../server/secrets/keyring';
import { createApp } from '../../server/app';
import { loadCorpus } from '../../tests/helpers/corpus';
import { startDovecot } from '../../tests/helpers/dovecot';
import { startSmtpSink } from '../../tests/helpers/smtp-sink';
import { createBenchDb, peakRss } from './support';

const rss = peakRss();
const corpus = loadCorpus();
const raws = corpus.map((m) => m.raw);

async function parseOnly(): Promise<number> {
  for (const raw of raws.slice(0, 300)) {
    await parseMessage(raw);
  }
  const started = performance.now();
  for (const raw of raws) {
    await parseMessage(raw);
  }
  return raws.length / ((performance.now() - started) / 1000);
}

async function rawFetch(port: number): Promise<number> {
  const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: 'alice', pass: 'alice-pw' }, logger: false });
  await client.connect();
  const lock = await client.getMailboxLock('INBOX', { readOnly: true });
  const started = performance.now();
  let n = 0;
  try {
    for await (const msg of client.fetch('1:*', { uid: true, source: true, flags: true }, { uid: true })) {
      n += msg.source ? 1 : 0;
    }
  } finally {
    lock.release();
  }
  await client.logout();
  return n / ((performance.now() - started) / 1000);
}

async function fullIngest(db: Db, imapPort: number, smtpPort: number): Promise<number> {
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
  const { id } = (await account.json()) as { id: string };
  const manager = new SyncManager(
    { db, keyring, log, now: () => new Date() },
    { folderIntervalMs: 600_000, watchdogMs: 120_000, idleDelayMs: 5_000, leaseRetryMs: 500 },
  );
  const started = performance.now();
  await manager.ensure(id);
  for (;;) {
    const [row] = await db.query<{ n: number }>(
      `select (select count(*) from message_locations l join mail_folders f on f.id = l.folder_id where f.account_id = $1)
            + (select count(*) from message_quarantine where account_id = $1) as n`,
      [id],
    );
    if (Number(row?.n) >= raws.length) {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  await manager.stopAll();
  return raws.length / seconds;
}

const dovecot = await startDovecot();
const sink = await startSmtpSink();
const bench = await createBenchDb();
try {
  await dovecot.prefill('alice', 'INBOX', raws);
  // Ingest runs first so its peak RSS is its own: V8 keeps what earlier phases grew.
  const ingest = await fullIngest(bench.db, dovecot.port, sink.port);
  const ingestRssMb = rss.peakMb();
  const parse = await parseOnly();
  const fetch = await rawFetch(dovecot.port);
  const figures = {
    bench: 'ingest',
    messages: raws.length,
    driver: bench.db.driver,
    parse_per_s: Math.round(parse),
    fetch_per_s: Math.round(fetch),
    ingest_per_s: Math.round(ingest),
    ratio: Number((ingest / parse).toFixed(3)),
    peak_rss_mb: Math.round(ingestRssMb),
    peak_rss_whole_run_mb: Math.round(rss.peakMb()),
  };
  console.table([
    { stage: '(a) parse only, 1 thread', 'msg/s': figures.parse_per_s },
    { stage: '(b) raw fetch from Dovecot', 'msg/s': figures.fetch_per_s },
    { stage: `(c) full ingest into ${figures.driver}`, 'msg/s': figures.ingest_per_s },
    { stage: 'ratio (c)/(a)', 'msg/s': figures.ratio },
    { stage: 'peak RSS during ingest, MB', 'msg/s': figures.peak_rss_mb },
    { stage: 'peak RSS whole run, MB', 'msg/s': figures.peak_rss_whole_run_mb },
  ]);
  console.log(JSON.stringify(figures));
} finally {
  rss.stop();
  await bench.drop();
  await sink.stop();
  await dovecot.stop();
}
process.exit(0);
