/**
 * The document host rebuilds an outgrown document on its own, through the
 * real server (projection, edit policy, change feed, `/sync`) and the app's
 * own SyncSession, on every driver. One device of a person overwrites a few
 * fields over and over, so each overwrite leaves a deleted item in the
 * server's copy; another device of the same person is offline with edits of
 * its own. Once a fold finds the snapshot past 1.5× a fresh encoding, the
 * host rebuilds under a new epoch: the writing device resets while still
 * sending, the offline one resets when it comes back, and both end with the
 * canonical state, every edit of theirs accepted, while the stored size fell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldKey, MAPS, THREAD_STATUSES, type FieldValues } from '../../sync/doc/schema';
import { seedOrg, type SeededOrg } from '../../scripts/bench/sync-seed';
import { BENCH_ORIGIN, sessionCookies, startShoal, type BenchServer } from '../../scripts/bench/sync-server';
import { storedBytes } from '../../scripts/bench/sync-util';
import { driverCases, type TestDb } from '../helpers/db';
import { openNodeSession, type NodeSession } from '../helpers/node-sync-session';
import { until } from '../helpers/fake-sync-socket';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe.each(driverCases())('automatic rebuild of an outgrown document on $name', ({ create }) => {
  let t: TestDb;
  let server: BenchServer;
  let org: SeededOrg;
  const sessions: NodeSession[] = [];

  beforeAll(async () => {
    t = await create();
    // Small documents rebuild too (no byte floor), and folds run after every few updates.
    server = await startShoal(t.db, { compactUpdates: 4, compactDelayMs: 20, rebuildMinBytes: 0, sweepMs: 200 });
    org = await seedOrg(t.db, { people: 2, threads: 24, perThread: 1.5, sharing: 'all-public' });
  });

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await server?.stop();
    await t?.drop();
  });

  async function device(cookie: string, userId: string): Promise<NodeSession> {
    const s = await openNodeSession({ url: server.syncUrl, cookie, origin: BENCH_ORIGIN, userId, orgId: org.orgId });
    sessions.push(s);
    await until(() => s.session.status === 'online' && s.session.client.threads().length > 0, 'the device online with its threads', 20_000);
    return s;
  }

  const serverEpoch = (userId: string) => server.host.findWritable(userId)?.epoch ?? null;
  const stored = async (userId: string) => {
    const s = await storedBytes(t.db, userId);
    return s.snapshot + s.tail;
  };

  it('rebuilds under a new epoch; a writing device and an offline one both reset and lose nothing', async () => {
    const [ann, bob] = org.people as [string, string];
    const [desktopCookie, laptopCookie] = await sessionCookies(t.db, [ann, ann]);
    const desktop = await device(desktopCookie as string, ann);
    const laptop = await device(laptopCookie as string, ann);
    const threads = desktop.session.client.threads().map((th) => th.id);
    const overwritten = threads.slice(0, 8);
    const offline = threads.slice(8, 12);
    const first = serverEpoch(ann);
    expect(first).not.toBeNull();

    // The laptop goes offline and edits other threads than the desktop does.
    laptop.setOnline(false);
    await until(() => laptop.session.status === 'offline', 'the laptop offline');
    const laptopWrites = new Map<string, unknown>();
    for (const threadId of offline) {
      laptop.session.setField(threadId, 'status', 'done');
      laptop.session.setField(threadId, 'labels', ['from-the-laptop']);
      laptopWrites.set(fieldKey(threadId, 'status'), 'done').set(fieldKey(threadId, 'labels'), ['from-the-laptop']);
    }

    // The desktop overwrites until the host has rebuilt, then a few rounds more (sent while it resets).
    const desktopWrites = new Map<string, unknown>();
    const write = (round: number) => {
      const values: Partial<FieldValues> = { status: THREAD_STATUSES[round % 3], assignee: round % 2 === 0 ? ann : bob, read: round % 2 === 0 };
      desktop.session.doc.transact(() => {
        for (const threadId of overwritten) {
          for (const [field, value] of Object.entries(values)) {
            desktop.session.setField(threadId, field as 'status', value as FieldValues['status']);
            desktopWrites.set(fieldKey(threadId, field as 'status'), value);
          }
        }
      });
    };
    let peak = 0;
    let round = 0;
    for (; serverEpoch(ann) === first && round < 2_000; round++) {
      write(round);
      peak = Math.max(peak, serverEpoch(ann) === first ? await stored(ann) : 0);
      await sleep(5);
    }
    expect(serverEpoch(ann)).not.toBe(first);
    for (const extra of [1, 2, 3]) {
      write(round + extra);
      await sleep(2);
    }

    laptop.setOnline(true);
    const second = serverEpoch(ann);
    const settled = (s: NodeSession) => s.session.epoch === second && s.session.status === 'online' && s.session.pendingCount === 0;
    await until(() => settled(desktop) && settled(laptop), 'both devices reset to the new epoch with every write acknowledged', 30_000);
    await Promise.all([desktop.session.settledReset(), laptop.session.settledReset()]);
    await server.feed.idle();

    expect(serverEpoch(ann)).toBe(second);
    expect(desktop.resets).toContain(second);
    expect(laptop.resets).toEqual([second]);
    // Every write of both devices is the canonical value, in Postgres and in every copy of the document.
    const hosted = server.host.findWritable(ann);
    for (const [key, value] of [...desktopWrites, ...laptopWrites]) {
      const canonical = (await server.projection.canonicalValue(ann, MAPS.fields, key)) as { v: unknown } | undefined;
      expect(canonical?.v, key).toEqual(value);
      for (const doc of [hosted?.doc, desktop.session.doc, laptop.session.doc]) {
        expect((doc?.getMap(MAPS.fields).get(key) as { v: unknown } | undefined)?.v, key).toEqual(value);
      }
    }
    // Updates the desktop sent in the old epoch were left out, not kept pending in the new document.
    expect(hosted?.doc.store.pendingStructs).toBeNull();
    expect(hosted?.doc.store.pendingDs).toBeNull();
    // The new document is what a build writes (plus the writes since): below the old one at its peak.
    const after = await stored(ann);
    expect(after).toBeLessThan(peak);
  });
});
