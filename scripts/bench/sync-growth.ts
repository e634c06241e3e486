/**
 * @module scripts/bench/sync-growth
 * (e) Growth under 100,000 overwrites: one person overwrites the 4 fields of
 * 250 threads, 1,000 edits per transaction; a teammate's document takes the
 * 3 shared fields through the fan-out. Both run the app's own sync session,
 * so when the host rebuilds an outgrown document under a new epoch they
 * reset to it as the app does, keeping their unsent writes.
 *
 * The editor waits for each transaction's acknowledgement before the next
 * (sync-fleet.ts), so every overwrite reaches the server.
 *
 * Bytes per overwrite are what the server's copy gains per overwrite from
 * after the first 1,000 edits (once every key exists), summed over the
 * epochs: each rebuild closes a stretch at the snapshot that set it off and
 * opens the next at the rebuilt one. Stored (snapshot + tail in Postgres)
 * and in-memory sizes are compared with a fresh projection of the same
 * state: at rest (once the deferred fold of the last writes has run), and,
 * for stored, at its peak during the run (sampled every 250 ms).
 */
import * as Y from 'yjs';
import type { Db } from '../../db/types';
import type { AutoRebuild } from '../../server/sync/host/resident-deps';
import { TestDocs } from '../../tests/helpers/sync-projection';
import { sharedThreads } from './sync-fanout';
import type { Fleet } from './sync-fleet-control';
import type { SeededOrg } from './sync-seed';
import { BENCH_ORIGIN, sessionCookies, type BenchServer } from './sync-server';
import { round, storedBytes, until } from './sync-util';

export interface GrowthFigures {
  edits: number;
  transactions: number;
  seconds: number;
  /** The editor's document (client writes, one client id). */
  editorBytesPerOverwrite: number;
  /** A teammate's document (the server's fan-out writes, its lease's client id). */
  teammateBytesPerOverwrite: number;
  /** Automatic rebuilds of each document during the run, and the resets the editor's session made. */
  editorRebuilds: number;
  teammateRebuilds: number;
  editorResets: number;
  /** The editor's document as the server holds it at the end. */
  editorEncodedBytes: number;
  /** Snapshot plus tail in Postgres at rest, after the run. */
  editorStoredBytes: number;
  editorFreshBytes: number;
  editorStoredRatio: number;
  editorEncodedRatio: number;
  /** The largest stored size sampled during the run, against the fresh size at the end. */
  editorPeakStoredRatio: number;
  teammateStoredBytes: number;
  teammateFreshBytes: number;
  teammateStoredRatio: number;
  teammatePeakStoredRatio: number;
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

/** Samples the largest stored size of each person's document until stopped. */
function samplePeaks(db: Db, userIds: readonly string[]): { stop(): Promise<number[]> } {
  const peaks = userIds.map(() => 0);
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const [i, userId] of userIds.entries()) {
        peaks[i] = Math.max(peaks[i] as number, await storedTotal(db, userId));
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peaks;
    },
  };
}

/** Waits (at most 15 s) until the tail is within the share of the snapshot that compaction keeps it to (options.ts). */
async function folded(db: Db, userId: string): Promise<void> {
  await until(
    'the last writes folded',
    async () => {
      const s = await storedBytes(db, userId);
      return s.tail <= Math.max(32 * 1024, s.snapshot / 4);
    },
    15_000,
  ).catch(() => {});
}

/** What the document gained over the run, stretch by stretch between rebuilds. */
function grown(userId: string, before: number, after: number, rebuilds: readonly AutoRebuild[]): number {
  let start = before;
  let sum = 0;
  for (const r of rebuilds.filter((x) => x.userId === userId)) {
    sum += r.snapshotBytes - start;
    start = r.rebuiltBytes;
  }
  return sum + after - start;
}

/** Runs overwrites through the fleet; it answers once every one is acknowledged (reviewed); then the fan-out settles. */
async function overwrite(server: BenchServer, fleet: Fleet, org: SeededOrg, total: number) {
  const threadIds = sharedThreads(server, org).slice(0, 250);
  const run = await fleet.send({ op: 'overwrite', editor: 0, orgId: org.orgId, threadIds, people: org.people, total, batch: 1000, pauseMs: 2 });
  await server.feed.idle();
  return run;
}

export async function growthFigures(db: Db, server: BenchServer, fleet: Fleet, org: SeededOrg, total: number): Promise<GrowthFigures> {
  const [editor, teammate] = org.people as [string, string];
  const cookies = await sessionCookies(db, [editor, teammate]);
  await fleet.send({ op: 'connect', url: server.syncUrl, cookies, origin: BENCH_ORIGIN, app: { orgId: org.orgId, userIds: [editor, teammate] } });
  await overwrite(server, fleet, org, 1000);
  const before = { editor: encodedSize(server, editor), teammate: encodedSize(server, teammate) };
  const since = server.rebuilds.length;
  const peaks = samplePeaks(db, [editor, teammate]);
  const start = performance.now();
  const run = await overwrite(server, fleet, org, total);
  const seconds = (performance.now() - start) / 1000;
  const [editorPeak, teammatePeak] = (await peaks.stop()) as [number, number];
  await fleet.send({ op: 'disconnect' });
  await folded(db, editor);
  await folded(db, teammate);
  const rebuilds = server.rebuilds.slice(since);
  const after = { editor: encodedSize(server, editor), teammate: encodedSize(server, teammate) };
  // Three of the four fields are shared, so the teammate's document takes three overwrites in four.
  const sharedEdits = (run.edits * 3) / 4;
  const stored = { editor: await storedTotal(db, editor), teammate: await storedTotal(db, teammate) };
  const fresh = { editor: await freshSize(server, editor), teammate: await freshSize(server, teammate) };
  return {
    edits: run.edits,
    transactions: run.transactions,
    seconds: round(seconds, 1),
    editorBytesPerOverwrite: round(grown(editor, before.editor, after.editor, rebuilds) / run.edits, 2),
    teammateBytesPerOverwrite: round(grown(teammate, before.teammate, after.teammate, rebuilds) / sharedEdits, 2),
    editorRebuilds: rebuilds.filter((r) => r.userId === editor).length,
    teammateRebuilds: rebuilds.filter((r) => r.userId === teammate).length,
    editorResets: run.resets,
    editorEncodedBytes: after.editor,
    editorStoredBytes: stored.editor,
    editorFreshBytes: fresh.editor,
    editorStoredRatio: round(stored.editor / fresh.editor, 2),
    editorEncodedRatio: round(after.editor / fresh.editor, 2),
    editorPeakStoredRatio: round(editorPeak / fresh.editor, 2),
    teammateStoredBytes: stored.teammate,
    teammateFreshBytes: fresh.teammate,
    teammateStoredRatio: round(stored.teammate / fresh.teammate, 2),
    teammatePeakStoredRatio: round(teammatePeak / fresh.teammate, 2),
  };
}
