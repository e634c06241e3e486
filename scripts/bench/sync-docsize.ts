/**
 * @module scripts/bench/sync-docsize
 * (d) a 5,000-thread document: encoded size, first sync (cold: built from
 * Postgres at the upgrade; warm: already in memory), server heap per
 * resident document. (e) is in sync-growth.ts.
 */
import { gzipSync } from 'node:zlib';
import * as Y from 'yjs';
import type { Db } from '../../db/types';
import { MAPS } from '../../sync/doc/schema';
import type { Fleet } from './sync-fleet-control';
import type { SeededOrg } from './sync-seed';
import { BENCH_ORIGIN, sessionCookies, type BenchServer } from './sync-server';
import { collectedHeap, round } from './sync-util';

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
  /** Bytes the client read off its socket until its cold first sync was in (the upgrade, the frames as they travelled). */
  coldFirstSyncWireBytes: number;
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
    coldFirstSyncWireBytes: cold.firstSyncWireBytes?.[0] ?? Number.NaN,
    warmFirstSyncMs: round(warm.firstSyncMs[0] ?? Number.NaN, 0),
    residentDocs,
    ...heap,
  };
}
