/**
 * @module scripts/bench/ingest
 * `npm run bench:ingest`: on the same 6,046 real messages, in one run,
 * (a) parse-only throughput, (b) raw fetch from a loopback Dovecot, (c) full
 * ingest (fetch, parse, thread, match, store) into Postgres (BENCH_DATABASE_URL,
 * else TEST_DATABASE_URL) or PGlite. Prints a table, then one JSON line.
 *
 * (c) runs twice, in a fresh process and in one that first synced 300 messages
 * of another organization (as (a) parses 300 before it is timed); the ratio
 * uses the warmed one. (c) and (a) each run in a process of their own (ingest-run.ts,
 * parse-only.ts), bundled to JavaScript as `npm start` runs the server
 * (scripts/build-server.ts), and with the same V8 flags, so (c)'s peak RSS
 * is that of a process syncing one mailbox (not of this one, which holds the
 * corpus) and the ratio compares like with like. BENCH_INGEST_LOADER=tsx
 * runs both from the TypeScript sources through tsx instead, to show what
 * the loader costs.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { loadCorpus } from '../../tests/helpers/corpus';
import { startDovecot } from '../../tests/helpers/dovecot';
import { startSmtpSink } from '../../tests/helpers/smtp-sink';
import { compileBench } from './compile';
import type { IngestFigures } from './ingest-run';
import type { ParseFigures } from './parse-only';
import { peakRss } from './support';

/** V8 flags of the measured processes, (a) and (c) alike. */
const V8_FLAGS: readonly string[] = [];

/** As many messages as (a) parses before it is timed, synced by (c)'s process before it is timed. */
const WARM_UP_MESSAGES = 300;

const rss = peakRss();
const corpus = loadCorpus();
const raws = corpus.map((m) => m.raw);
const fromSources = process.env.BENCH_INGEST_LOADER === 'tsx';

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

/** Runs a node process to its end. @returns the JSON of its last stdout line. */
function runNode<T>(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${args.at(-1)} failed: ${error.message}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T);
    });
  });
}

/** How to start (a) and (c): compiled entries, or the TypeScript sources under this process's tsx loader. */
async function entries(): Promise<{ ingest: string[]; parse: string[] }> {
  if (fromSources) {
    const source = (name: string) => [...process.execArgv, fileURLToPath(new URL(`./${name}`, import.meta.url))];
    return { ingest: source('ingest-run.ts'), parse: source('parse-only.ts') };
  }
  const compiled = await compileBench();
  return { ingest: [compiled.ingestRun], parse: [compiled.parseOnly] };
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits));

const run = await entries();
const dovecot = await startDovecot();
const sink = await startSmtpSink();
try {
  await dovecot.prefill('alice', 'INBOX', raws);
  await dovecot.prefill('bob', 'INBOX', raws.slice(0, WARM_UP_MESSAGES));
  const env = { ...process.env, BENCH_IMAP_PORT: String(dovecot.port), BENCH_SMTP_PORT: String(sink.port), BENCH_MESSAGES: String(raws.length) };
  const cold = await runNode<IngestFigures>([...V8_FLAGS, ...run.ingest], env);
  const ingest = await runNode<IngestFigures>([...V8_FLAGS, ...run.ingest], { ...env, BENCH_WARMUP_MESSAGES: String(WARM_UP_MESSAGES) });
  const parse = await runNode<ParseFigures>([...V8_FLAGS, ...run.parse]);
  // With tuned flags, (a) is also measured as Node runs by default, for the record; the ratio uses the like-for-like (a).
  const parseDefault = V8_FLAGS.length > 0 ? await runNode<ParseFigures>(run.parse) : null;
  const fetch = await rawFetch(dovecot.port);
  const ingestPerSecond = raws.length / ingest.seconds;
  const coldPerSecond = raws.length / cold.seconds;
  const cpu = ingest.cpu;
  const figures = {
    bench: 'ingest',
    messages: raws.length,
    driver: ingest.driver,
    processes: `${fromSources ? 'tsx' : 'compiled'}${V8_FLAGS.length > 0 ? ` ${V8_FLAGS.join(' ')}` : ''}`,
    parse_per_s: Math.round(parse.perSecond),
    ...(parseDefault ? { parse_default_flags_per_s: Math.round(parseDefault.perSecond) } : {}),
    fetch_per_s: Math.round(fetch),
    ingest_per_s: Math.round(ingestPerSecond),
    ratio: round(ingestPerSecond / parse.perSecond, 3),
    ingest_cold_per_s: Math.round(coldPerSecond),
    ratio_cold: round(coldPerSecond / parse.perSecond, 3),
    ...(parseDefault ? { ratio_vs_default_flags: round(ingestPerSecond / parseDefault.perSecond, 3) } : {}),
    peak_rss_mb: Math.round(cold.peakRssMb),
    peak_rss_warmed_mb: Math.round(ingest.peakRssMb),
    rss_before_ingest_mb: Math.round(cold.rssBeforeMb),
    rss_at_peak_main_heap_mb: Math.round(cold.atPeak.heapMb),
    rss_at_peak_main_external_mb: Math.round(cold.atPeak.externalMb),
    peak_rss_bench_process_mb: Math.round(rss.peakMb()),
    parse_cpu_s: round(parse.cpuSeconds, 2),
    ingest_s: round(ingest.seconds, 2),
    ingest_cpu_s: { main: round(cpu.main, 2), parse_worker: round(cpu.started, 2), v8_helpers: round(cpu.helpers, 2), postgres: round(cpu.postgres, 2) },
  };
  console.table([
    { stage: `(a) parse only, 1 thread (${figures.processes})`, value: figures.parse_per_s, unit: 'msg/s' },
    ...(parseDefault ? [{ stage: '(a) with default V8 flags', value: figures.parse_default_flags_per_s, unit: 'msg/s' }] : []),
    { stage: '(b) raw fetch from Dovecot', value: figures.fetch_per_s, unit: 'msg/s' },
    { stage: `(c) full ingest into ${figures.driver}, after ${WARM_UP_MESSAGES} warm-up messages`, value: figures.ingest_per_s, unit: 'msg/s' },
    { stage: 'ratio (c)/(a), both warmed', value: figures.ratio, unit: '' },
    { stage: '(c) by a freshly started process', value: figures.ingest_cold_per_s, unit: 'msg/s' },
    { stage: 'ratio (c) fresh / (a)', value: figures.ratio_cold, unit: '' },
    { stage: 'peak RSS of a fresh process syncing one mailbox', value: figures.peak_rss_mb, unit: 'MB' },
    { stage: '  before the sync started', value: figures.rss_before_ingest_mb, unit: 'MB' },
    { stage: '  at the peak: main V8 heap', value: figures.rss_at_peak_main_heap_mb, unit: 'MB' },
    { stage: '  at the peak: main buffers (external)', value: figures.rss_at_peak_main_external_mb, unit: 'MB' },
    { stage: 'peak RSS of the warmed process (its second mailbox)', value: figures.peak_rss_warmed_mb, unit: 'MB' },
    { stage: 'peak RSS of this process (corpus, (b))', value: figures.peak_rss_bench_process_mb, unit: 'MB' },
    { stage: 'CPU of (a)', value: figures.parse_cpu_s, unit: 's' },
    { stage: `CPU of (c) over ${figures.ingest_s} s: main thread`, value: figures.ingest_cpu_s.main, unit: 's' },
    { stage: '  parse worker', value: figures.ingest_cpu_s.parse_worker, unit: 's' },
    { stage: '  V8 helper threads (optimizing compiler, GC)', value: figures.ingest_cpu_s.v8_helpers, unit: 's' },
    { stage: '  Postgres backends', value: figures.ingest_cpu_s.postgres, unit: 's' },
  ]);
  console.log(JSON.stringify(figures));
} finally {
  rss.stop();
  await sink.stop();
  await dovecot.stop();
}
process.exit(0);
