/**
 * @module scripts/bench/sync-fanout
 * (a) fan-out latency from one client's edit to every other connected
 * client's document, Shoal against the bare relay; (b) server CPU per
 * recipient; heap per socket; (c) 1,000 offline edits: the server's
 * handling of the batch and the time until every client shows the outcome.
 */
import * as Y from 'yjs';
import type { Db } from '../../db/types';
import { fieldKey, MAPS, type ThreadField } from '../../sync/doc/schema';
import { cpuMeter, type CpuSplit } from './support';
import type { Fleet } from './sync-fleet-control';
import type { FleetEdit } from './sync-fleet-protocol';
import type { SeededOrg } from './sync-seed';
import { BENCH_ORIGIN, sessionCookies, startRelay, type BenchServer } from './sync-server';
import { collectedHeap, percentile, profiled, round, until } from './sync-util';

export interface FanOutOptions {
  rounds: number;
  warmup: number;
  gapMs: number;
  /** Where to write CPU profiles of the measured rounds (`SYNC_BENCH_PROFILE`), if anywhere. */
  profileDir?: string;
}

export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  /** Per round, the slowest recipient: when the last of them had it. */
  allP50Ms: number;
  cpuUsPerRecipient: number;
  cpu: CpuSplit;
}

export interface FanOutFigures {
  recipients: number;
  threadsPerDoc: number;
  buildAllMs: number;
  connectMs: number;
  heapPerSocketKb: number;
  externalPerSocketKb: number;
  /** Resident memory per socket: also what V8 does not see, such as the zlib streams of permessage-deflate. */
  rssPerSocketKb: number;
  shoal: LatencyFigures;
  relay: LatencyFigures;
}

/**
 * The threads every person's document holds, newest first (Public mail
 * about a record is everyone's; mail from strangers stays its owner's).
 */
export function sharedThreads(server: BenchServer, org: SeededOrg): string[] {
  const held = org.people.map((p) => server.host.findWritable(p)?.doc.getMap(MAPS.threads));
  return org.threads.filter((t) => held.every((m) => m?.has(t)));
}

const cpuTotal = (c: CpuSplit) => c.main + c.helpers + c.started + c.postgres;

async function measureRounds(db: Db, fleet: Fleet, orgId: string, threadIds: string[], o: FanOutOptions, label: string): Promise<LatencyFigures> {
  await fleet.send({ op: 'fan-out', editor: 0, orgId, threadIds, rounds: o.warmup, gapMs: o.gapMs });
  const meter = await cpuMeter(db);
  const { latencies } = await profiled(o.profileDir, label, () => fleet.send({ op: 'fan-out', editor: 0, orgId, threadIds, rounds: o.rounds, gapMs: o.gapMs }));
  const cpu = await meter.stop();
  const all = latencies.flat();
  const recipients = all.length;
  return {
    p50Ms: round(percentile(all, 50), 2),
    p99Ms: round(percentile(all, 99), 2),
    allP50Ms: round(percentile(latencies.map((r) => Math.max(...r)), 50), 2),
    cpuUsPerRecipient: round((cpuTotal(cpu) * 1e6) / recipients, 1),
    cpu: { main: round(cpu.main, 2), helpers: round(cpu.helpers, 2), started: round(cpu.started, 2), postgres: round(cpu.postgres, 2) },
  };
}

/** Runs (a) and (b) on Shoal, leaving the clients connected for (c); the relay runs after (c), in `relayFanOut`. */
export async function shoalFanOut(db: Db, server: BenchServer, fleet: Fleet, org: SeededOrg, o: FanOutOptions): Promise<Omit<FanOutFigures, 'relay'>> {
  const cookies = await sessionCookies(db, org.people);
  let start = performance.now();
  for (const person of org.people) {
    await server.host.open(person);
  }
  const buildAllMs = performance.now() - start;
  const before = collectedHeap();
  start = performance.now();
  await fleet.send({ op: 'connect', url: server.syncUrl, cookies, origin: BENCH_ORIGIN });
  const connectMs = performance.now() - start;
  const after = collectedHeap();
  const sockets = org.people.length;
  const threadsPerDoc = server.host.findWritable(org.people[0] as string)?.doc.getMap(MAPS.threads).size ?? 0;
  const shoal = await measureRounds(db, fleet, org.orgId, sharedThreads(server, org).slice(0, 20), o, 'fan-out-shoal');
  return {
    recipients: sockets - 1,
    threadsPerDoc,
    buildAllMs: round(buildAllMs, 0),
    connectMs: round(connectMs, 0),
    heapPerSocketKb: round((after.heap - before.heap) / sockets / 1024, 1),
    externalPerSocketKb: round((after.external - before.external) / sockets / 1024, 1),
    rssPerSocketKb: round((after.rss - before.rss) / sockets / 1024, 1),
    shoal,
  };
}

/** The same rounds through the bare relay, its document seeded with the editor's content. */
export async function relayFanOut(db: Db, server: BenchServer, fleet: Fleet, org: SeededOrg, o: FanOutOptions): Promise<LatencyFigures> {
  const editorDoc = server.host.findWritable(org.people[0] as string)?.doc;
  const relay = await startRelay(editorDoc ? Y.encodeStateAsUpdate(editorDoc) : null);
  try {
    await fleet.send({ op: 'connect', url: relay.url, cookies: org.people.map(() => null), origin: BENCH_ORIGIN });
    return await measureRounds(db, fleet, org.orgId, sharedThreads(server, org).slice(0, 20), o, 'fan-out-relay');
  } finally {
    await fleet.send({ op: 'disconnect' });
    await relay.stop();
  }
}

export interface OfflineFigures {
  edits: number;
  /** Batches measured; each figure below is their median, with the range beside it. */
  batches: number;
  /** Edits the server refused (assignees who cannot see the thread), each compensated. */
  refusedSent: number;
  clientWriteMs: number;
  /** The server's whole handling of the batch: apply, store, authorize, one Postgres transaction, compensate. */
  validateMs: number;
  validateRangeMs: [number, number];
  /** Of which the policy's review (authorize, commit, compensate). */
  reviewMs: number;
  /** The fan-out of the committed batch to every other document, after the review. */
  fanOutMs: number;
  convergedMs: number;
  convergedRangeMs: [number, number];
  /** Clients that never showed the outcome, in the worst batch. */
  mismatchedClients: number;
  /** Edits the editor's document shows as written, in the worst batch. */
  accepted: number;
}

type BatchFigures = Omit<OfflineFigures, 'batches' | 'validateRangeMs' | 'convergedRangeMs'>;

/**
 * 1,000 edits over 250 threads × 4 fields; every 100th assigns someone
 * outside the organization (refused). Each batch writes other values than
 * the one before, so every batch changes every field again.
 */
function offlineEdits(org: SeededOrg, threads: readonly string[], batch: number): FleetEdit[] {
  const fields: ThreadField[] = ['status', 'assignee', 'labels', 'read'];
  const edits: FleetEdit[] = [];
  for (let i = 0; i < 1000; i++) {
    const threadId = threads[Math.floor(i / 4)] as string;
    const field = fields[i % 4] as ThreadField;
    const value =
      field === 'status' ? ((i + batch) % 8 === 0 ? 'done' : batch % 2 === 0 ? 'pending' : 'open')
      : field === 'assignee' ? (i % 100 === 1 ? crypto.randomUUID() : org.people[((i + batch) % (org.people.length - 1)) + 1])
      : field === 'labels' ? [batch === 0 ? 'offline' : `offline-${batch}`, `l${(i + batch) % 7}`]
      : batch % 2 === 0;
    edits.push({ threadId, field, value });
  }
  return edits;
}

/** Batches of (c) when SYNC_BENCH_OFFLINE_BATCHES does not say: one batch's figures move by a quarter from run to run. */
export const OFFLINE_BATCHES = 5;

export async function offlineBatches(server: BenchServer, fleet: Fleet, org: SeededOrg, batches: number, profileDir?: string): Promise<OfflineFigures> {
  const runs = await profiled(profileDir, 'offline', async () => {
    const out: BatchFigures[] = [];
    for (let batch = 0; batch < batches; batch++) {
      out.push(await runOfflineBatch(server, fleet, org, batch));
    }
    return out;
  });
  const median = (pick: (b: BatchFigures) => number) => round(percentile(runs.map(pick), 50), 1);
  const range = (pick: (b: BatchFigures) => number): [number, number] => [Math.min(...runs.map(pick)), Math.max(...runs.map(pick))];
  const worst = runs.reduce((a, b) => (b.mismatchedClients > a.mismatchedClients || b.accepted < a.accepted ? b : a));
  return {
    edits: worst.edits,
    batches: runs.length,
    refusedSent: worst.refusedSent,
    clientWriteMs: median((b) => b.clientWriteMs),
    validateMs: median((b) => b.validateMs),
    validateRangeMs: range((b) => b.validateMs),
    reviewMs: median((b) => b.reviewMs),
    fanOutMs: median((b) => b.fanOutMs),
    // A batch that never converged (-1) counts as the slowest.
    convergedMs: round(percentile(runs.map((b) => (b.convergedMs < 0 ? Infinity : b.convergedMs)), 50), 1),
    convergedRangeMs: range((b) => b.convergedMs),
    mismatchedClients: worst.mismatchedClients,
    accepted: worst.accepted,
  };
}

async function runOfflineBatch(server: BenchServer, fleet: Fleet, org: SeededOrg, batch: number): Promise<BatchFigures> {
  const edits = offlineEdits(org, sharedThreads(server, org), batch);
  const keys = edits.map((e) => fieldKey(e.threadId, e.field));
  const receivesBefore = server.timings.receives.length;
  const reviewsBefore = server.timings.reviews.length;
  const changesBefore = server.feed.stats.changes;
  const { reconnectedAt, writeMs } = await fleet.send({ op: 'offline', editor: 0, orgId: org.orgId, edits });
  await until('the offline batch reviewed', () => server.timings.reviews.length > reviewsBefore && server.timings.receives.length > receivesBefore);
  const reviewedAt = performance.now();
  await until('its change published', () => server.feed.stats.changes > changesBefore);
  await server.feed.idle();
  const fanOutMs = performance.now() - reviewedAt;
  const expected = org.people.map((person) => {
    const fields = server.host.findWritable(person)?.doc.getMap<unknown>(MAPS.fields);
    return Object.fromEntries(keys.map((k) => [k, fields?.get(k)]));
  });
  const settled = await fleet.send({ op: 'settle', expected, since: reconnectedAt });
  const editorExpected = expected[0] ?? {};
  const accepted = edits.filter((e) => JSON.stringify((editorExpected[fieldKey(e.threadId, e.field)] as { v?: unknown } | undefined)?.v) === JSON.stringify(e.value)).length;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    edits: edits.length,
    refusedSent: edits.filter((e) => e.field === 'assignee' && !org.people.includes(e.value as string)).length,
    clientWriteMs: round(writeMs, 1),
    validateMs: round(sum(server.timings.receives.slice(receivesBefore)), 1),
    reviewMs: round(sum(server.timings.reviews.slice(reviewsBefore)), 1),
    fanOutMs: round(fanOutMs, 1),
    convergedMs: round(settled.convergedMs, 1),
    mismatchedClients: settled.mismatched,
    accepted,
  };
}
