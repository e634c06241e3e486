/**
 * @module scripts/bench/sync
 * `npm run bench:sync`: the sync engine's figures of issue 5, in one run on
 * loopback. Shoal's real app and sync engine listen on 127.0.0.1; the
 * clients (y-websocket providers over `ws`, the app's write helpers) run in
 * a child process, so this process's CPU and heap are the server's.
 *
 *   (a) fan-out latency, one client's edit → 200 other clients' documents,
 *       p50/p99, against a bare relay (no authorization, no persistence)
 *   (b) server CPU per recipient (this process + Postgres backends)
 *   (c) 1,000 offline edits: validate time, time until every client converged
 *   (d) 5,000-thread document: gzip size, first sync, heap per resident
 *       document, heap per socket
 *   (e) bytes per overwrite after 100,000 edits; stored vs fresh projection
 *
 * Not a test: no assertions, figures only. Prints a table, then one JSON
 * line. Uses BENCH_DATABASE_URL / TEST_DATABASE_URL (Postgres) when set,
 * else in-memory PGlite. Run counts: SYNC_BENCH_ROUNDS (fan-out rounds, 60),
 * SYNC_BENCH_OVERWRITES (100000), SYNC_BENCH_OFFLINE_BATCHES ((c)'s batches, 5;
 * each (c) figure is their median). SYNC_BENCH_PARTS picks parts by letter
 * (e.g. `e`, or `de`; default all); (a), (b) and (c) run together, (c)
 * reusing (a)'s connected clients. SYNC_BENCH_PROFILE=<dir> writes CPU
 * profiles of the server process during the measured fan-out rounds and
 * the offline batch (`fan-out-shoal`, `fan-out-relay`, `offline` .cpuprofile).
 */
import type { Db } from '../../db/types';
import { createBenchDb } from './support';
import { documentFigures, type DocFigures } from './sync-docsize';
import { OFFLINE_BATCHES, offlineBatches, relayFanOut, shoalFanOut, type FanOutFigures, type OfflineFigures } from './sync-fanout';
import { Fleet } from './sync-fleet-control';
import { growthFigures, type GrowthFigures } from './sync-growth';
import { seedOrg } from './sync-seed';
import { startShoal } from './sync-server';
import { progress, round } from './sync-util';

// Scripts may read the environment for run counts.
const ROUNDS = Number(process.env.SYNC_BENCH_ROUNDS ?? 60);
const OVERWRITES = Number(process.env.SYNC_BENCH_OVERWRITES ?? 100_000);
const BATCHES = Number(process.env.SYNC_BENCH_OFFLINE_BATCHES ?? OFFLINE_BATCHES);
const PARTS = new Set((process.env.SYNC_BENCH_PARTS ?? 'abcde').toLowerCase());
const PROFILE_DIR = process.env.SYNC_BENCH_PROFILE || undefined;
const RECIPIENTS = 200;
const RESIDENT_DOCS = 4;

interface Figures {
  fanOut?: FanOutFigures;
  offline?: OfflineFigures;
  doc?: DocFigures;
  growth?: GrowthFigures;
}

async function run(db: Db, fleet: Fleet): Promise<Figures> {
  const server = await startShoal(db);
  const figures: Figures = {};
  try {
    if (PARTS.has('a') || PARTS.has('b') || PARTS.has('c')) {
      const team = await seedOrg(db, { people: RECIPIENTS + 1, threads: 320, perThread: 1.5, sharing: 'all-public' });
      const options = { rounds: ROUNDS, warmup: 10, gapMs: 20, profileDir: PROFILE_DIR };
      progress('(a, b) fan-out through Shoal');
      const shoal = await shoalFanOut(db, server, fleet, team, options);
      progress('(c) offline batch');
      figures.offline = await offlineBatches(server, fleet, team, BATCHES, PROFILE_DIR);
      await fleet.send({ op: 'disconnect' });
      progress('(a, b) fan-out through the relay');
      const relay = await relayFanOut(db, server, fleet, team, options);
      figures.fanOut = { ...shoal, relay };
    }
    if (PARTS.has('d')) {
      progress('(d) seeding the 5,000-thread organization');
      const big = await seedOrg(db, { people: RESIDENT_DOCS + 1, threads: 6000, perThread: 2.5, sharing: 'all-public' });
      progress('(d) 5,000-thread document');
      figures.doc = await documentFigures(db, server, fleet, big, RESIDENT_DOCS);
    }
    if (PARTS.has('e')) {
      progress('(e) overwrites');
      const pair = await seedOrg(db, { people: 2, threads: 320, perThread: 1.5, sharing: 'all-public' });
      figures.growth = await growthFigures(db, server, fleet, pair, OVERWRITES);
    }
    return figures;
  } finally {
    await server.stop();
  }
}

type Row = [figure: string, value: string, target: string, met: boolean | null];

function rows(f: Figures): Row[] {
  return [...(f.fanOut && f.offline ? fanOutRows(f.fanOut, f.offline) : []), ...(f.doc ? docRows(f.doc, f.fanOut) : []), ...(f.growth ? growthRows(f.growth) : [])];
}

const rangeOf = ([low, high]: [number, number]) => `${low}–${high}`;
const kb = (b: number) => `${round(b / 1024, 1)} KB`;

function fanOutRows(a: FanOutFigures, c: OfflineFigures): Row[] {
  const ratio = a.shoal.p50Ms / a.relay.p50Ms;
  return [
    ['(a) fan-out p50 (Shoal / relay)', `${a.shoal.p50Ms} / ${a.relay.p50Ms} ms`, '<= 10 ms', a.shoal.p50Ms <= 10],
    ['(a) fan-out p99 (Shoal / relay)', `${a.shoal.p99Ms} / ${a.relay.p99Ms} ms`, '<= 50 ms', a.shoal.p99Ms <= 50],
    ['(a) p50 ratio Shoal : relay', `${round(ratio, 2)}`, '<= 3', ratio <= 3],
    ['(a) last of 200, p50 (Shoal / relay)', `${a.shoal.allP50Ms} / ${a.relay.allP50Ms} ms`, '', null],
    ['(b) server CPU per recipient (Shoal / relay)', `${a.shoal.cpuUsPerRecipient} / ${a.relay.cpuUsPerRecipient} µs`, '<= 50 µs', a.shoal.cpuUsPerRecipient <= 50],
    [`(c) validate 1,000 offline edits, median of ${c.batches}`, `${c.validateMs} ms (${rangeOf(c.validateRangeMs)}; review ${c.reviewMs} ms)`, '<= 100 ms', c.validateMs <= 100],
    [`(c) every client converged, median of ${c.batches}`, `${c.convergedMs} ms (${rangeOf(c.convergedRangeMs)}; ${c.mismatchedClients} off)`, '<= 2000 ms', c.convergedMs >= 0 && c.convergedMs <= 2000],
  ];
}

function docRows(d: DocFigures, a: FanOutFigures | undefined): Row[] {
  return [
    ['(d) 5k-thread doc, V1 gzip', `${kb(d.v1GzipBytes)} (V1 ${kb(d.v1Bytes)})`, '<= 200 KB', d.v1GzipBytes <= 200 * 1024],
    ['(d) cold first sync on the wire (deflated)', `${kb(d.coldFirstSyncWireBytes)}`, '', null],
    ['(d) first sync cold / warm', `${d.coldFirstSyncMs} / ${d.warmFirstSyncMs} ms`, '<= 1500 ms cold', d.coldFirstSyncMs <= 1500],
    ['(d) server heap per resident doc', `${d.heapPerDocMb} MB`, '<= 15 MB', d.heapPerDocMb <= 15],
    ...(a ? ([['(d) server heap per socket', `${a.heapPerSocketKb} KB (+${a.externalPerSocketKb} KB buffers; resident +${a.rssPerSocketKb} KB)`, '<= 100 KB', a.heapPerSocketKb + a.externalPerSocketKb <= 100]] satisfies Row[]) : []),
  ];
}

function growthRows(e: GrowthFigures): Row[] {
  const worst = Math.max(e.editorStoredRatio, e.teammateStoredRatio, e.editorPeakStoredRatio, e.teammatePeakStoredRatio);
  return [
    ['(e) bytes per overwrite, editor / teammate', `${e.editorBytesPerOverwrite} / ${e.teammateBytesPerOverwrite} B`, '<= 10 B', Math.max(e.editorBytesPerOverwrite, e.teammateBytesPerOverwrite) <= 10],
    ['(e) stored / fresh at rest, editor / teammate', `${e.editorStoredRatio} / ${e.teammateStoredRatio}`, '<= 2', Math.max(e.editorStoredRatio, e.teammateStoredRatio) <= 2],
    ['(e) stored / fresh at its peak, editor / teammate', `${e.editorPeakStoredRatio} / ${e.teammatePeakStoredRatio}`, '<= 2', worst <= 2],
    ['(e) in memory / fresh at rest, editor', `${e.editorEncodedRatio}`, '', null],
    ['(e) automatic rebuilds, editor / teammate (editor resets)', `${e.editorRebuilds} / ${e.teammateRebuilds} (${e.editorResets})`, '', null],
  ];
}

function printTable(all: Row[]): void {
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((r) => String(r[i]).length)));
  for (const [figure, value, target, met] of all) {
    const mark = met === null ? '' : met ? 'met' : 'NOT MET';
    console.log(`${figure.padEnd(widths[0] as number)}  ${value.padEnd(widths[1] as number)}  ${target.padEnd(widths[2] as number)}  ${mark}`);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const { db, drop } = await createBenchDb();
  const fleet = Fleet.start();
  try {
    const figures = await run(db, fleet);
    printTable(rows(figures));
    console.log(JSON.stringify({ bench: 'sync', driver: db.driver, seconds: round((performance.now() - started) / 1000, 0), ...figures }));
  } finally {
    await fleet.stop();
    await drop();
  }
}

await main();
