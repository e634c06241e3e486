/**
 * @module scripts/bench/sync-docsize
 * (d) a 5,000-thread document: encoded size, first sync (cold: built from
 * Postgres at the upgrade; warm: already in memory), server heap per
 * resident document; (e) growth under 100,000 overwrites, in memory and in
 * Postgres, against a fresh projection of the same state.
 */
import { gzipSync } from 'node:zlib';
import * as Y from 'yjs';
import type { Db } from '../../db/types';
import { MAPS } from '../../sync/doc/schema';
import { TestDocs } from '../../tests/helpers/sync-projection';
import { sharedThreads } from './sync-fanout';
import type { Fleet } from './sync-fleet-control';
import type { SeededOrg } from './sync-seed';
import { BENCH_ORIGIN, sessionCookies, type BenchServer } from './sync-server';
import { collectedHeap, round, storedBytes, until } from './sync-util';

export interface DocFigures {
  threads: number;
  records: number;
  v1Bytes: number;
  v1GzipBytes: number;
  v2Bytes: number;
  v2GzipBytes: number;
  /** Gzip of the thread summaries alone (the `threads` map's JSON), to tell content from Yjs overhead. */
  threadsJsonGzipBytes: number;
  coldFirstSyncMs: number;
  warmFirstSyncMs: number;
  residentDocs: number;
  heapPerDocMb: number;
  buildMs: number;
}

const KB = 1024;

/** Heap per resident document: `count` more people's documents opened (built from Postgres) between two collected heaps. */
async function heapPerDoc(server: BenchServer, people: readonly string[]): Promise<{ heapPerDocMb: number; buildMs: number }> {
  const before = collectedHeap();
  const start = performance.now();
  for (const person of people) {
    await server.host.open(person);
  }
  const buildMs = (performance.now() - start) / people.length;
  const after = collectedHeap();
  return { heapPerDocMb: round((after.heap - before.heap) / people.length / KB / KB, 2), buildMs: round(buildMs, 0) };
}

export async function documentFigures(db: Db, server: BenchServer, fleet: Fleet, org: SeededOrg, residentDocs: number): Promise<DocFigures> {
  const [owner, ...others] = org.people as [string, ...string[]];
  const [cookie] = await sessionCookies(db, [owner]);
  const cold = await fleet.send({ op: 'connect', url: server.syncUrl, cookies: [cookie as string], origin: BENCH_ORIGIN });
  const warm = await fleet.send({ op: 'connect', url: server.syncUrl, cookies: [cookie as string], origin: BENCH_ORIGIN });
  await fleet.send({ op: 'disconnect' });
  const doc = server.host.findWritable(owner)?.doc;
  if (!doc) {
    throw new Error('the 5,000-thread document is not resident after its sync');
  }
  const v1 = Y.encodeStateAsUpdate(doc);
  const v2 = Y.encodeStateAsUpdateV2(doc);
  const heap = await heapPerDoc(server, others.slice(0, residentDocs));
  return {
    threads: doc.getMap(MAPS.threads).size,
    records: doc.getMap(MAPS.records).size,
    v1Bytes: v1.length,
    v1GzipBytes: gzipSync(v1).length,
    v2Bytes: v2.length,
    v2GzipBytes: gzipSync(v2).length,
    threadsJsonGzipBytes: gzipSync(JSON.stringify(doc.getMap(MAPS.threads).toJSON())).length,
    coldFirstSyncMs: round(cold.firstSyncMs[0] ?? Number.NaN, 0),
    warmFirstSyncMs: round(warm.firstSyncMs[0] ?? Number.NaN, 0),
    residentDocs,
    ...heap,
  };
}

export interface GrowthFigures {
  edits: number;
  transactions: number;
  seconds: number;
  /** The editor's document (client writes, one client id). */
  editorBytesPerOverwrite: number;
  /** A teammate's document (the server's fan-out writes, its lease's client id). */
  teammateBytesPerOverwrite: number;
  /** The editor's document as the server holds it (what a compaction would store). */
  editorEncodedBytes: number;
  /** Snapshot plus tail in Postgres now. */
  editorStoredBytes: number;
  editorFreshBytes: number;
  editorStoredRatio: number;
  editorEncodedRatio: number;
  teammateStoredBytes: number;
  teammateFreshBytes: number;
  teammateStoredRatio: number;
}

async function freshSize(server: BenchServer, userId: string): Promise<number> {
  const docs = new TestDocs();
  try {
    await server.projection.buildDocument(userId, docs.open(userId));
    return Y.encodeStateAsUpdate(docs.open(userId).doc).length;
  } finally {
    docs.destroy();
  }
}

const encodedSize = (server: BenchServer, userId: string) => {
  const doc = server.host.findWritable(userId)?.doc;
  return doc ? Y.encodeStateAsUpdate(doc).length : Number.NaN;
};

const storedTotal = async (db: Db, userId: string) => {
  const s = await storedBytes(db, userId);
  return s.snapshot + s.tail;
};

/** Runs overwrites through the fleet and waits until the server stored, reviewed and fanned out every one. */
async function overwrite(server: BenchServer, fleet: Fleet, org: SeededOrg, total: number): Promise<{ edits: number; transactions: number }> {
  const receives = server.timings.receives.length;
  const threadIds = sharedThreads(server, org).slice(0, 250);
  const run = await fleet.send({ op: 'overwrite', editor: 0, orgId: org.orgId, threadIds, people: org.people, total, batch: 1000, pauseMs: 2 });
  await until('every overwrite reviewed', () => server.timings.receives.length >= receives + run.transactions, 240_000);
  await server.feed.idle();
  return run;
}

/**
 * The editor overwrites 4 fields of 250 threads, 1,000 edits per
 * transaction; a teammate sees the same threads. Growth is counted from
 * after the first 1,000 edits, once every key exists, so it is what
 * overwrites add, not the live values.
 */
export async function growthFigures(db: Db, server: BenchServer, fleet: Fleet, org: SeededOrg, total: number): Promise<GrowthFigures> {
  const [editor, teammate] = org.people as [string, string];
  const cookies = await sessionCookies(db, [editor, teammate]);
  await fleet.send({ op: 'connect', url: server.syncUrl, cookies, origin: BENCH_ORIGIN });
  await overwrite(server, fleet, org, 1000);
  const before = { editor: encodedSize(server, editor), teammate: encodedSize(server, teammate) };
  const start = performance.now();
  const run = await overwrite(server, fleet, org, total);
  const seconds = (performance.now() - start) / 1000;
  await fleet.send({ op: 'disconnect' });
  const after = { editor: encodedSize(server, editor), teammate: encodedSize(server, teammate) };
  // Three of the four fields are shared, so the teammate's document takes three overwrites in four.
  const sharedEdits = (run.edits * 3) / 4;
  const stored = { editor: await storedTotal(db, editor), teammate: await storedTotal(db, teammate) };
  const fresh = { editor: await freshSize(server, editor), teammate: await freshSize(server, teammate) };
  return {
    edits: run.edits,
    transactions: run.transactions,
    seconds: round(seconds, 1),
    editorBytesPerOverwrite: round((after.editor - before.editor) / run.edits, 2),
    teammateBytesPerOverwrite: round((after.teammate - before.teammate) / sharedEdits, 2),
    editorEncodedBytes: after.editor,
    editorStoredBytes: stored.editor,
    editorFreshBytes: fresh.editor,
    editorStoredRatio: round(stored.editor / fresh.editor, 2),
    editorEncodedRatio: round(after.editor / fresh.editor, 2),
    teammateStoredBytes: stored.teammate,
    teammateFreshBytes: fresh.teammate,
    teammateStoredRatio: round(stored.teammate / fresh.teammate, 2),
  };
}
