/**
 * The document host in one process, on every driver: a new document is
 * built and stored under a fresh epoch; every update is in Postgres before
 * any listener hears it; snapshot + tail loads to the live document;
 * compaction keeps the content and bounds the tail; one writer id per lease;
 * rebuild moves to a new epoch and tells listeners to reset; idle documents
 * leave memory unless followed; a fenced-out writer stops.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendSyncDocUpdate, claimSyncDoc, compactSyncDoc, insertSyncDoc, readSyncDoc } from '../../db/queries/sync-docs';
import type { Db } from '../../db/types';
import { createLocalBus } from '../../server/sync/host/bus';
import { SyncDocHost } from '../../server/sync/host/doc-host';
import { applyState } from '../../server/sync/host/doc-store';
import { createLocalLeases } from '../../server/sync/host/leases';
import { sweep } from '../../server/sync/host/maintenance';
import type { DocHostOptions } from '../../server/sync/host/options';
import type { EditPolicy } from '../../server/sync/types';
import { DOC_SCHEMA_VERSION, MAPS } from '../../sync/doc/schema';
import { driverCases, type TestDb } from '../helpers/db';
import { author, clientIds, docJson, holdsUpdate, insertPeople, quietLog, recordingDb, recordingPolicy, TestClient, testBuilder, waitUntil, type RecordingDb } from '../helpers/sync-host';

describe.each(driverCases())('sync document host on $name', ({ create }) => {
  let t: TestDb;
  let db: RecordingDb;
  const hosts: SyncDocHost[] = [];

  function startHost(options: Partial<DocHostOptions> = {}, extra: { policy?: EditPolicy; build?: ReturnType<typeof testBuilder>; on?: Db } = {}) {
    const processId = randomUUID();
    const host = new SyncDocHost({
      db: extra.on ?? db,
      log: quietLog,
      bus: createLocalBus(processId),
      leases: createLocalLeases(processId),
      build: extra.build ?? testBuilder(),
      policy: extra.policy ?? recordingPolicy(),
      options,
    });
    hosts.push(host);
    return host;
  }

  async function storedDoc(userId: string): Promise<Y.Doc> {
    const state = await readSyncDoc(db, userId);
    const doc = new Y.Doc();
    if (state) {
      applyState(doc, state);
    }
    return doc;
  }

  const tailRows = async (userId: string) =>
    (await db.query<{ n: number }>('select count(*)::int8 as n from sync_doc_updates where user_id = $1', [userId]))[0]?.n ?? 0;

  beforeAll(async () => {
    t = await create();
    db = recordingDb(t.db);
  });
  afterAll(async () => {
    await Promise.allSettled(hosts.map((h) => h.close()));
    await t?.drop();
  });

  it('builds a new document, stores it as a snapshot under a fresh epoch and loads it back', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    const build = testBuilder(4);
    const host = startHost({}, { build });
    const hosted = await host.open(userId);
    expect(build.calls).toBe(1);
    const [row] = await db.query<{ epoch: string; snapshot_seq: number; writer: string }>('select epoch, snapshot_seq, writer from sync_docs where user_id = $1', [userId]);
    expect(row?.epoch).toMatch(/^[0-9a-f-]{36}$/);
    expect(hosted.epoch).toBe(row?.epoch);
    expect(hosted.doc.getMap(MAPS.meta).toJSON()).toEqual({ schema: DOC_SCHEMA_VERSION, userId, epoch: row?.epoch });
    expect(hosted.doc.getMap(MAPS.threads).size).toBe(4);
    expect(await tailRows(userId)).toBe(0);
    expect(docJson(await storedDoc(userId))).toEqual(docJson(hosted.doc));
    await host.close();

    const again = startHost({}, { build });
    const reloaded = await again.open(userId);
    expect(build.calls).toBe(1);
    expect(docJson(reloaded.doc)).toEqual(docJson(hosted.doc));
    await again.close();
  });

  it('stores every update before any listener hears it, in order, once', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    const host = startHost();
    const hosted = await host.open(userId);
    db.appendDelayMs = 15;
    const heard: { update: Uint8Array; storedBefore: boolean }[] = [];
    host.subscribe(userId, (update) => heard.push({ update, storedBefore: holdsUpdate(db.appended, update) }));
    const client = new TestClient();
    Y.applyUpdate(client.doc, Y.encodeStateAsUpdate(hosted.doc));
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      sends.push(host.receive(userId, client.set(`thread-${i}|status`, 'done'), author(userId)));
      sends.push(hosted.write((doc) => doc.getMap(MAPS.notifications).set(`n${i}`, { kind: 'test', i })).then(() => {}));
    }
    await Promise.all(sends);
    db.appendDelayMs = 0;
    expect(heard).toHaveLength(40);
    expect(heard.every((h) => h.storedBefore)).toBe(true);
    expect(await tailRows(userId)).toBe(40);
    // Replaying the same update stores nothing new.
    await host.receive(userId, client.set('thread-0|status', 'done'), author(userId));
    const before = await tailRows(userId);
    await host.receive(userId, Y.encodeStateAsUpdate(client.doc), author(userId));
    expect(await tailRows(userId)).toBe(before);
    expect(docJson(await storedDoc(userId))).toEqual(docJson(hosted.doc));
  });

  it('hands a client update to the policy with its changed keys after storing it, and stores the compensation', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    const policy = recordingPolicy(async (hosted, changed) => {
      if (changed.get(MAPS.threads)?.has('forged')) {
        await hosted.write((doc) => doc.getMap(MAPS.threads).delete('forged'));
      }
    });
    const host = startHost({}, { policy });
    const hosted = await host.open(userId);
    const client = new TestClient();
    Y.applyUpdate(client.doc, Y.encodeStateAsUpdate(hosted.doc));
    client.doc.transact(() => {
      client.doc.getMap(MAPS.threads).set('forged', { subject: 'mine now' });
      client.doc.getMap(MAPS.fields).set('t1|status', { v: 'done', hlc: '1' });
    });
    const heard: string[] = [];
    const who = author(userId);
    host.subscribe(userId, (_u, origin) => heard.push(origin === 'server' ? 'server' : origin.connectionId));
    await host.receive(userId, Y.encodeStateAsUpdate(client.doc, Y.encodeStateVector(hosted.doc)), who);
    expect(policy.reviews).toHaveLength(1);
    expect([...(policy.reviews[0]?.changed.get(MAPS.threads) ?? [])]).toEqual(['forged']);
    expect([...(policy.reviews[0]?.changed.get(MAPS.fields) ?? [])]).toEqual(['t1|status']);
    // What the update wrote and what the keys held before, read while it was applied.
    expect(policy.reviews[0]?.context?.written?.get(MAPS.fields)?.get('t1|status')).toEqual([{ v: 'done', hlc: '1' }]);
    expect(policy.reviews[0]?.context?.previous?.get(MAPS.threads)?.get('forged')).toBeUndefined();
    expect(policy.reviews[0]?.context?.previous?.get(MAPS.threads)?.has('forged')).toBe(true);
    // An editable key's earlier value is Postgres's to know: not captured, not journaled.
    expect(policy.reviews[0]?.context?.previous?.has(MAPS.fields)).toBe(false);
    expect(heard).toEqual([who.connectionId, 'server']);
    expect(hosted.doc.getMap(MAPS.threads).has('forged')).toBe(false);
    expect((await storedDoc(userId)).getMap(MAPS.threads).has('forged')).toBe(false);
  });

  it('stores, reviews and corrects an update carrying content JSON cannot hold (bigint, binary, NaN, undefined)', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    const policy = recordingPolicy(async (hosted, changed) => {
      await hosted.write((doc) => changed.forEach((keys, map) => keys.forEach((key) => doc.getMap(map).delete(key))));
    });
    const host = startHost({}, { policy });
    const hosted = await host.open(userId);
    const client = new TestClient();
    Y.applyUpdate(client.doc, Y.encodeStateAsUpdate(hosted.doc));
    client.doc.transact(() => {
      client.doc.getMap(MAPS.threads).set('big', 10n);
      client.doc.getMap(MAPS.threads).set('nan', { subject: Number.NaN });
      client.doc.getMap(MAPS.fields).set('t1|status', { v: 1n, hlc: '1' });
      client.doc.getMap(MAPS.fields).set('t2|labels', { v: [undefined], hlc: '1' });
      client.doc.getMap(MAPS.fields).set('t3|read', new Uint8Array([1]));
    });
    const before = await tailRows(userId);
    await host.receive(userId, Y.encodeStateAsUpdate(client.doc, Y.encodeStateVector(hosted.doc)), author(userId));
    expect(policy.reviews).toHaveLength(1);
    expect([...(policy.reviews[0]?.changed.get(MAPS.fields) ?? [])].sort()).toEqual(['t1|status', 't2|labels', 't3|read']);
    // The update and its correction are both stored; what Postgres holds loads back to what is served.
    expect(await tailRows(userId)).toBe(before + 2);
    expect(hosted.doc.getMap(MAPS.fields).size).toBe(0);
    expect(hosted.doc.getMap(MAPS.threads).has('big')).toBe(false);
    expect(docJson(await storedDoc(userId))).toEqual(docJson(hosted.doc));
  });

  it('loads snapshot + tail to the live document, and compaction keeps the content while bounding the tail', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    const host = startHost({ compactUpdates: 10, compactBytes: 1_000_000 });
    const hosted = await host.open(userId);
    const client = new TestClient();
    Y.applyUpdate(client.doc, Y.encodeStateAsUpdate(hosted.doc));
    for (let i = 0; i < 120; i++) {
      if (i % 3 === 0) {
        await hosted.write((doc) => doc.getMap(MAPS.threads).delete(`t${i % 2}`));
      }
      await host.receive(userId, client.set(`t${i % 7}|labels`, [`l${i}`]), author(userId));
      await hosted.write((doc) => doc.getMap(MAPS.accounts).set('a', { email: 'a@x.test', status: 'syncing', done: i, total: 120 }));
      await host.residents.get(userId)?.idle();
      expect(await tailRows(userId)).toBeLessThanOrEqual(10);
    }
    const [row] = await db.query<{ snapshot_seq: number }>('select snapshot_seq from sync_docs where user_id = $1', [userId]);
    expect(row?.snapshot_seq).toBeGreaterThan(200);
    expect(docJson(await storedDoc(userId))).toEqual(docJson(hosted.doc));
    expect((hosted.doc.getMap(MAPS.accounts).get('a') as { done: number }).done).toBe(119);
    await host.close();
    const again = startHost();
    expect(docJson((await again.open(userId)).doc)).toEqual(docJson(hosted.doc));
    await again.close();
  });

  it('compacts once the tail passes its share of the snapshot, so stored bytes stay near the document’s size', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    const host = startHost({ compactUpdates: 100_000, compactBytes: 10_000_000, compactTailRatio: 0.5, compactMinBytes: 1_000, compactDelayMs: 1 });
    const hosted = await host.open(userId);
    const note = 'x'.repeat(400);
    await hosted.write((doc) => Array.from({ length: 50 }, (_, i) => doc.getMap(MAPS.records).set(`r${i}`, { note: `${i}${note}` })));
    await host.residents.get(userId)?.idle();
    const stored = async () =>
      (await db.query<{ n: number }>(
        `select coalesce(length(d.snapshot), 0) + coalesce((select sum(length(u.update)) from sync_doc_updates u where u.user_id = d.user_id), 0)::int8 as n
           from sync_docs d where d.user_id = $1`,
        [userId],
      ))[0]?.n ?? 0;
    const ratio = async () => (await stored()) / Y.encodeStateAsUpdate(hosted.doc).length;
    for (let i = 0; i < 200; i++) {
      await hosted.write((doc) => doc.getMap(MAPS.records).set(`r${i % 50}`, { note: `${i}${note}` }));
      // Folded off the write path, soon after: snapshot + at most half of it in the tail, plus the update that crossed the line.
      await waitUntil(async () => (await ratio()) <= 1.6, 5_000, `the tail folded after write ${i}`);
    }
    expect(await tailRows(userId)).toBeLessThan(200);
    expect(docJson(await storedDoc(userId))).toEqual(docJson(hosted.doc));
    await host.close();
  });

  it('keeps one writer id through a lease, and takes a new one with the next lease', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    const host = startHost();
    const hosted = await host.open(userId);
    const writerId = hosted.doc.clientID;
    const client = new TestClient();
    Y.applyUpdate(client.doc, Y.encodeStateAsUpdate(hosted.doc));
    for (let i = 0; i < 300; i++) {
      await hosted.write((doc) => doc.getMap(MAPS.threads).set(`t${i % 5}`, { subject: `s${i}` }));
      if (i % 50 === 0) {
        await host.receive(userId, client.set(`t${i}|read`, true), author(userId));
      }
    }
    expect(hosted.doc.clientID).toBe(writerId);
    expect(clientIds(await storedDoc(userId))).toEqual([writerId, client.doc.clientID].sort((a, b) => a - b));
    await host.close();

    const next = startHost();
    const reopened = await next.open(userId);
    await reopened.write((doc) => doc.getMap(MAPS.threads).set('t0', { subject: 'next lease' }));
    expect(reopened.doc.clientID).not.toBe(writerId);
    expect(clientIds(await storedDoc(userId))).toEqual([writerId, client.doc.clientID, reopened.doc.clientID].sort((a, b) => a - b));
    await next.close();
  });

  it('rebuilds under a new epoch: fresh content, empty tail, seq still growing, listeners told to reset', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    const build = testBuilder(2);
    const host = startHost({}, { build });
    const hosted = await host.open(userId);
    const oldEpoch = hosted.epoch;
    await hosted.write((doc) => doc.getMap(MAPS.threads).set('stale', { subject: 'gone after the rebuild' }));
    const resets: string[] = [];
    host.subscribe(userId, () => {}, (epoch) => resets.push(epoch));
    const [before] = await db.query<{ seq: number }>('select max(seq) as seq from sync_doc_updates where user_id = $1', [userId]);
    await host.rebuild(userId);
    const [row] = await db.query<{ epoch: string; snapshot_seq: number }>('select epoch, snapshot_seq from sync_docs where user_id = $1', [userId]);
    expect(row?.epoch).not.toBe(oldEpoch);
    expect(resets).toEqual([row?.epoch]);
    expect(hosted.epoch).toBe(row?.epoch);
    expect(hosted.doc.getMap(MAPS.meta).get('epoch')).toBe(row?.epoch);
    expect(hosted.doc.getMap(MAPS.threads).has('stale')).toBe(false);
    expect(build.calls).toBe(2);
    expect(await tailRows(userId)).toBe(0);
    expect(row?.snapshot_seq).toBe(before?.seq);
    await hosted.write((doc) => doc.getMap(MAPS.threads).set('after', { subject: 'new epoch' }));
    const state = await readSyncDoc(db, userId);
    expect(state?.tail.map((r) => r.seq)).toEqual([(before?.seq ?? 0) + 1]);
    expect(docJson(await storedDoc(userId))).toEqual(docJson(hosted.doc));
  });

  it('stores a direct write to the Y.Doc as a server write rather than losing it', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    const host = startHost();
    const hosted = await host.open(userId);
    hosted.doc.getMap(MAPS.people).set('p', { name: 'Direct' });
    await host.residents.get(userId)?.idle();
    expect((await storedDoc(userId)).getMap(MAPS.people).get('p')).toEqual({ name: 'Direct' });
  });

  it('evicts idle documents and the least recently used beyond the limit, but never a followed one', async () => {
    const users = await insertPeople(db, 4);
    const host = startHost({ maxResident: 2, idleMs: 60_000 });
    const [a, b, c, d] = users as [string, string, string, string];
    const unsubscribe = host.subscribe(a, () => {});
    await host.open(a);
    await host.open(b);
    await host.open(c);
    expect([...host.residents.keys()].sort()).toEqual([a, c].sort());
    await sweep(host, Date.now() + 120_000);
    expect([...host.residents.keys()]).toEqual([a]);
    unsubscribe();
    await host.open(d);
    await sweep(host, Date.now() + 120_000);
    expect(host.residents.size).toBe(0);
    // An evicted document loads again with its content.
    expect((await host.open(b)).doc.getMap(MAPS.threads).size).toBe(3);
  });

  it('fences a writer whose document was claimed by another: nothing more is stored from it', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    const host = startHost();
    const hosted = await host.open(userId);
    const resident = host.residents.get(userId);
    const writer = resident?.lease?.token as string;
    expect(await claimSyncDoc(db, userId, 'someone-else')).not.toBeNull();
    expect(await appendSyncDocUpdate(db, userId, writer, new Uint8Array([0, 0]))).toBeNull();
    expect(await compactSyncDoc(db, { userId, writer, snapshot: new Uint8Array([0, 0]), seq: 0 })).toBe(false);
    const rows = await tailRows(userId);
    await expect(resident?.write((doc) => doc.getMap(MAPS.threads).set('late', 1))).rejects.toMatchObject({ code: 'lease_lost' });
    expect(await tailRows(userId)).toBe(rows);
    expect(host.residents.get(userId)).not.toBe(resident);
    // Opened again, it is what Postgres holds.
    await host.open(userId);
    expect(hosted.doc.getMap(MAPS.threads).has('late')).toBe(false);
    expect(docJson(hosted.doc)).toEqual(docJson(await storedDoc(userId)));
  });

  it('orders a takeover against the old writer\'s appends: every append that got a seq is read by the new writer', async () => {
    const [userId] = (await insertPeople(db, 1)) as [string];
    await insertSyncDoc(t.db, { userId, epoch: 'e', snapshot: Y.encodeStateAsUpdate(new Y.Doc()), writer: 'w0' });
    for (let round = 1; round <= 40; round++) {
      const appending = (async () => {
        const seqs: (number | null)[] = [];
        for (let i = 0; i < 6; i++) {
          seqs.push(await appendSyncDocUpdate(t.db, userId, `w${round - 1}`, new Uint8Array([round, i])));
        }
        return seqs;
      })();
      const takeover = (async () => {
        await new Promise((resolve) => setTimeout(resolve, round % 4));
        await claimSyncDoc(t.db, userId, `w${round}`);
        return readSyncDoc(t.db, userId);
      })();
      const [seqs, state] = await Promise.all([appending, takeover]);
      const read = new Set(state?.tail.map((r) => r.seq));
      const stored = seqs.filter((s): s is number => s !== null);
      expect(stored.filter((s) => !read.has(s)), `round ${round}`).toEqual([]);
      // Once one append was refused, every later one is too.
      expect(seqs.slice(seqs.indexOf(null) === -1 ? seqs.length : seqs.indexOf(null)).every((s) => s === null)).toBe(true);
    }
  });
});
