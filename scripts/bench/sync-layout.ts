/**
 * @module scripts/bench/sync-layout
 * (d)'s document alone, and what each part of it costs: seeds the 5-person,
 * 6,000-thread organization of `bench:sync` (d), builds the first person's
 * document with the projection, prints its V1 size and gzip, then the gzip
 * bytes each thread field and the records map add (the whole document
 * gzipped with and without it: ids gzip cannot shrink show up here).
 *
 *   tsx scripts/bench/sync-layout.ts
 *
 * Uses BENCH_DATABASE_URL / TEST_DATABASE_URL (Postgres) when set, else PGlite.
 * Last line: one JSON object with every figure.
 */
import { gzipSync } from 'node:zlib';
import * as Y from 'yjs';
import { Projection } from '../../server/sync/projection/writer';
import { MAPS } from '../../sync/doc/schema';
import { TestDocs } from '../../tests/helpers/sync-projection';
import { seedOrg } from './sync-seed';
import { createBenchDb } from './support';

type Content = Record<string, Record<string, unknown>>;

function gzipOf(content: Content): number {
  const doc = new Y.Doc({ gc: true });
  doc.transact(() => {
    for (const [name, entries] of Object.entries(content)) {
      const map = doc.getMap(name);
      Object.entries(entries).forEach(([k, v]) => map.set(k, v));
    }
  });
  return gzipSync(Y.encodeStateAsUpdate(doc)).length;
}

const without = (value: unknown, field: string): unknown => {
  const copy = { ...(value as Record<string, unknown>) };
  delete copy[field];
  return copy;
};

async function main(): Promise<void> {
  const { db, drop } = await createBenchDb();
  try {
    const org = await seedOrg(db, { people: 5, threads: 6000, perThread: 2.5, sharing: 'all-public' });
    const docs = new TestDocs();
    const person = org.people[0] as string;
    await new Projection(db, { windowDays: 90, maxThreads: 5000 }).buildDocument(person, docs.open(person));
    const doc = docs.open(person).doc;
    const v1 = Y.encodeStateAsUpdate(doc);
    const content: Content = Object.fromEntries(Object.values(MAPS).map((name) => [name, doc.getMap(name).toJSON()]));
    const whole = gzipOf(content);
    const threads = Object.entries(content.threads ?? {});
    const fields = Object.keys((threads[0]?.[1] ?? {}) as object);
    const parts: Record<string, number> = {};
    for (const field of fields) {
      parts[`thread.${field}`] = whole - gzipOf({ ...content, threads: Object.fromEntries(threads.map(([k, v]) => [k, without(v, field)])) });
    }
    parts.records = whole - gzipOf({ ...content, records: {} });
    parts.threadKeys = gzipOf({ threads: Object.fromEntries(threads.map(([k]) => [k, 0])) });
    for (const [name, bytes] of Object.entries(parts)) {
      console.log(`${name.padEnd(16)} ${(bytes / 1024).toFixed(1)} KB`);
    }
    const figures = { threads: threads.length, records: Object.keys(content.records ?? {}).length, v1Bytes: v1.length, v1GzipBytes: gzipSync(v1).length, parts };
    console.log(JSON.stringify({ bench: 'sync-layout', ...figures }));
    docs.destroy();
  } finally {
    await drop();
  }
}

void main();
