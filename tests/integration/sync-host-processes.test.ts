/**
 * Two document hosts as two processes sharing one database: over Redis
 * (separate connections and Postgres pools, as two Shoal processes) and over
 * the in-process hub with an in-memory lease table (the same logic without
 * Redis, on every driver). An edit received by the process without the lease
 * is stored once by the holder and relayed to both; the holder's death moves
 * the lease within its TTL and the other continues from Postgres with no
 * edit lost or stored twice; a process that cannot renew stops writing.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { readSyncDoc } from '../../db/queries/sync-docs';
import type { Db } from '../../db/types';
import { createDocHost } from '../../server/sync/host';
import { createLocalHub, publishChanges, subscribeChanges } from '../../server/sync/host/bus';
import { SyncDocHost } from '../../server/sync/host/doc-host';
import { applyState } from '../../server/sync/host/doc-store';
import { createMemoryLeaseTable } from '../../server/sync/host/leases';
import type { Author } from '../../server/sync/types';
import { MAPS } from '../../sync/doc/schema';
import { createPostgresDb, driverCases, type TestDb } from '../helpers/db';
import { prerequisite } from '../helpers/prereq';
import { author, docJson, dropRedisNamespace, FAST, insertPeople, quietLog, recordingPolicy, secondPool, TestClient, testBuilder, waitUntil } from '../helpers/sync-host';

const redisUrl = process.env.REDIS_URL;
const databaseUrl = process.env.TEST_DATABASE_URL;
const TTL = FAST.lease?.ttlMs ?? 1_000;
const RENEW = FAST.lease?.renewMs ?? 250;

interface Cluster {
  /** Starts a "process" on its own pool when `own` is true (Postgres), else on the shared Db. */
  start(own: boolean): Promise<{ host: SyncDocHost; policy: ReturnType<typeof recordingPolicy> }>;
  /** Takes a lease away from its holder behind its back. */
  steal(userId: string): Promise<void>;
  /** Cuts a process's bus connection (messages meanwhile are lost); false when the transport has none. */
  cut(processId: string): Promise<boolean>;
  db: Db;
  stop(): Promise<void>;
}

type Setup = { name: string; make: () => Promise<Cluster>; redis: boolean };

function memoryCluster(create: () => Promise<TestDb>, pooled: boolean): () => Promise<Cluster> {
  return async () => {
    const t = await create();
    const hub = createLocalHub();
    const leases = createMemoryLeaseTable(FAST.lease);
    const pools: Db[] = [];
    const hosts: SyncDocHost[] = [];
    let stolen = new Set<string>();
    return {
      db: t.db,
      async start(own) {
        const db = own && pooled && databaseUrl ? await secondPool(t.db, databaseUrl) : t.db;
        if (db !== t.db) {
          pools.push(db);
        }
        const processId = randomUUID();
        const policy = recordingPolicy();
        const connected = leases.connect(processId);
        const guarded = { ...connected, renew: async (l: Parameters<typeof connected.renew>[0]) => [...l.filter((x) => stolen.has(x.userId)), ...(await connected.renew(l.filter((x) => !stolen.has(x.userId))))] };
        const host = new SyncDocHost({ db, log: quietLog, bus: hub.connect(processId), leases: guarded, build: testBuilder(), policy, options: { ...FAST, compactUpdates: 100_000 } });
        hosts.push(host);
        return { host, policy };
      },
      async steal(userId) {
        stolen = new Set([...stolen, userId]);
      },
      cut: async () => false,
      async stop() {
        await Promise.allSettled(hosts.map((h) => h.close()));
        await Promise.allSettled(pools.map((p) => p.close()));
        await t.drop();
      },
    };
  };
}

function redisCluster(): Promise<Cluster> {
  return (async () => {
    const t = await createPostgresDb(databaseUrl as string);
    const namespace = `shoaltest${randomUUID().slice(0, 8)}`;
    const pools: Db[] = [];
    const hosts: SyncDocHost[] = [];
    return {
      db: t.db,
      async start() {
        const db = await secondPool(t.db, databaseUrl as string);
        pools.push(db);
        const policy = recordingPolicy();
        const host = await createDocHost({ db, log: quietLog, redisUrl, namespace, build: testBuilder(), policy, options: { ...FAST, compactUpdates: 100_000 } });
        hosts.push(host);
        return { host, policy };
      },
      async steal(userId) {
        const redis = new Redis(redisUrl as string);
        await redis.set(`${namespace}:lease:doc:${userId}`, 'thief|token', 'PX', 60_000);
        redis.disconnect();
      },
      async cut(processId) {
        const redis = new Redis(redisUrl as string);
        const list = (await redis.client('LIST')) as string;
        const id = list.split('\n').find((line) => line.includes(`name=shoal-bus-sub-${processId}`))?.match(/id=(\d+)/)?.[1];
        if (id) {
          await redis.client('KILL', 'ID', id);
        }
        redis.disconnect();
        return id !== undefined;
      },
      async stop() {
        await Promise.allSettled(hosts.map((h) => h.close()));
        await Promise.allSettled(pools.map((p) => p.close()));
        await dropRedisNamespace(redisUrl as string, namespace);
        await t.drop();
      },
    };
  })();
}

function setups(): Setup[] {
  const list: Setup[] = driverCases().map((c) => ({ name: `the in-process hub on ${c.name}`, make: memoryCluster(c.create, c.name === 'postgres'), redis: false }));
  const hasRedis = prerequisite('Redis tier', redisUrl ? null : 'REDIS_URL is not set');
  const hasPostgres = !!databaseUrl;
  if (hasRedis && hasPostgres) {
    list.push({ name: 'Redis and two Postgres pools', make: redisCluster, redis: true });
  }
  return list;
}

/** Every (client, clock) an update row carries, to prove that no edit was stored twice. */
function structIds(update: Uint8Array): string[] {
  return Y.decodeUpdate(update).structs.flatMap((s) => Array.from({ length: s.length }, (_, i) => `${s.id.client}:${s.id.clock + i}`));
}

async function storedDoc(db: Db, userId: string): Promise<Y.Doc> {
  const doc = new Y.Doc();
  const state = await readSyncDoc(db, userId);
  if (state) {
    applyState(doc, state);
  }
  return doc;
}

describe.each(setups())('two sync processes over $name', ({ make, redis }) => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await make();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('stores an edit received by the process without the lease once, at the holder, and relays it to both', async () => {
    const [userId] = (await insertPeople(cluster.db, 1)) as [string];
    const a = await cluster.start(true);
    const b = await cluster.start(true);
    const hostedA = await a.host.open(userId);
    expect(a.host.findWritable(userId)).not.toBeNull();
    const heardA: Author[] = [];
    const heardB: Author[] = [];
    a.host.subscribe(userId, (_u, origin) => origin !== 'server' && heardA.push(origin));
    b.host.subscribe(userId, (_u, origin) => origin !== 'server' && heardB.push(origin));
    const hostedB = await b.host.open(userId);
    expect(b.host.findWritable(userId)).toBeNull();
    expect(docJson(hostedB.doc)).toEqual(docJson(hostedA.doc));
    expect(a.host.stats()).toEqual({ writers: 1, replicas: 0, followed: 1 });
    expect(b.host.stats()).toEqual({ writers: 0, replicas: 1, followed: 1 });
    expect(a.host.writableUserIds()).toEqual([userId]);

    const client = new TestClient();
    client.receive(Y.encodeStateAsUpdate(hostedB.doc));
    const who = author(userId);
    const rowsBefore = (await readSyncDoc(cluster.db, userId))?.tail.length ?? 0;
    await b.host.receive(userId, client.set('t1|status', 'pending'), who);
    expect((await readSyncDoc(cluster.db, userId))?.tail.length).toBe(rowsBefore + 1);
    expect(heardA).toEqual([who]);
    await waitUntil(() => heardB.length === 1, 3_000, 'the relay to the other process');
    expect(heardB).toEqual([who]);
    expect(hostedB.doc.getMap(MAPS.fields).get('t1|status')).toMatchObject({ v: 'pending' });
    expect(a.policy.reviews.map((r) => [...(r.changed.get(MAPS.fields) ?? [])])).toEqual([['t1|status']]);
    expect(b.policy.reviews).toEqual([]);

    // A server write at the holder reaches the other process's subscribers too.
    await hostedA.write((doc) => doc.getMap(MAPS.notifications).set('n1', { kind: 'hello' }));
    await waitUntil(() => hostedB.doc.getMap(MAPS.notifications).has('n1'), 3_000, 'the server write relayed');
    // Writing through the other process's handle is refused: it does not hold the lease.
    await expect(hostedB.write((doc) => doc.getMap(MAPS.threads).set('x', 1))).rejects.toMatchObject({ code: 'not_holder' });
  });

  it('carries domain events to every process, the sender included', async () => {
    const a = await cluster.start(false);
    const b = await cluster.start(false);
    const seen: string[] = [];
    subscribeChanges(a.host.bus, (p) => seen.push(`a:${(p as { kind: string }).kind}`));
    subscribeChanges(b.host.bus, (p) => seen.push(`b:${(p as { kind: string }).kind}`));
    await publishChanges(a.host.bus, { kind: 'thread-fields', threadIds: ['t1'] });
    await waitUntil(() => seen.length === 2, 3_000, 'both processes hearing the change');
    expect(seen.sort()).toEqual(['a:thread-fields', 'b:thread-fields']);
  });

  it('moves the lease within its TTL when the holder dies, and loses or repeats no edit', async () => {
    const [userId] = (await insertPeople(cluster.db, 1)) as [string];
    const a = await cluster.start(true);
    const b = await cluster.start(true);
    const hostedA = await a.host.open(userId);
    b.host.subscribe(userId, () => {});
    const hostedB = await b.host.open(userId);
    const first = new TestClient();
    const second = new TestClient();
    first.receive(Y.encodeStateAsUpdate(hostedA.doc));
    second.receive(Y.encodeStateAsUpdate(hostedA.doc));
    const N = 30;
    let died = 0;
    let firstOn = a.host;
    // One socket on each process, each sending its edits in order, as the transport does.
    const sendFirst = (async () => {
      for (let i = 0; i < N; i++) {
        if (i === 10) {
          await a.host.close({ release: false });
          died = Date.now();
          // The socket on the dead process reconnects to the other one and re-sends its whole state.
          firstOn = b.host;
          await firstOn.receive(userId, Y.encodeStateAsUpdate(first.doc), author(userId));
        }
        await firstOn.receive(userId, first.set(`first-${i}|read`, true), author(userId));
      }
    })();
    const sendSecond = (async () => {
      for (let i = 0; i < N; i++) {
        await b.host.receive(userId, second.set(`second-${i}|read`, true), author(userId));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await Promise.all([sendFirst, sendSecond]);
    expect(b.host.findWritable(userId)).not.toBeNull();
    const takeover = b.host.residents.get(userId);
    expect(takeover?.isWriter()).toBe(true);
    expect(Date.now() - died).toBeLessThan(TTL + 8 * RENEW + 5_000);

    const stored = await storedDoc(cluster.db, userId);
    const fields = stored.getMap(MAPS.fields);
    for (let i = 0; i < N; i++) {
      expect(fields.get(`first-${i}|read`), `first-${i}`).toMatchObject({ v: true });
      expect(fields.get(`second-${i}|read`), `second-${i}`).toMatchObject({ v: true });
    }
    const rows = (await readSyncDoc(cluster.db, userId))?.tail ?? [];
    const ids = rows.flatMap((r) => structIds(r.update));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith(`${first.doc.clientID}:`))).toHaveLength(N);
    expect(ids.filter((id) => id.startsWith(`${second.doc.clientID}:`))).toHaveLength(N);
    await waitUntil(() => docJson(hostedB.doc).fields !== undefined && Object.keys(hostedB.doc.getMap(MAPS.fields).toJSON()).length === 2 * N, 3_000, 'the survivor holding every edit');
    expect(docJson(hostedB.doc)).toEqual(docJson(stored));
  });

  it('takes over within the TTL with no edit in flight, from a replica that follows the document', async () => {
    const [userId] = (await insertPeople(cluster.db, 1)) as [string];
    const a = await cluster.start(true);
    const b = await cluster.start(true);
    await (await a.host.open(userId)).write((doc) => doc.getMap(MAPS.threads).set('before', { subject: 'by A' }));
    const resets: string[] = [];
    b.host.subscribe(userId, () => {}, (epoch) => resets.push(epoch));
    const hostedB = await b.host.open(userId);
    await waitUntil(() => hostedB.doc.getMap(MAPS.threads).has('before'), 3_000, 'the replica catching up');
    await a.host.close({ release: false });
    const took = await waitUntil(() => b.host.findWritable(userId) !== null, TTL + 10 * RENEW, 'the takeover');
    expect(took).toBeLessThanOrEqual(TTL + 10 * RENEW);
    await hostedB.write((doc) => doc.getMap(MAPS.threads).set('after', { subject: 'by B' }));
    const stored = await storedDoc(cluster.db, userId);
    expect(stored.getMap(MAPS.threads).get('before')).toEqual({ subject: 'by A' });
    expect(stored.getMap(MAPS.threads).get('after')).toEqual({ subject: 'by B' });
    expect(resets).toEqual([]);
  });

  it('drops a document at once when its lease cannot be renewed, and stops writing it', async () => {
    const [userId] = (await insertPeople(cluster.db, 1)) as [string];
    const a = await cluster.start(true);
    await a.host.open(userId);
    const resident = a.host.residents.get(userId);
    expect(resident?.isWriter()).toBe(true);
    await cluster.steal(userId);
    await waitUntil(() => a.host.findWritable(userId) === null, 4 * RENEW, 'the drop');
    const rows = (await readSyncDoc(cluster.db, userId))?.tail.length;
    await expect(resident?.write((doc) => doc.getMap(MAPS.threads).set('zombie', 1))).rejects.toMatchObject({ code: 'lease_lost' });
    expect((await readSyncDoc(cluster.db, userId))?.tail.length).toBe(rows);
  });

  it('rebuilds at the holder when the other process asks, and both tell their listeners to reset', async () => {
    const [userId] = (await insertPeople(cluster.db, 1)) as [string];
    const a = await cluster.start(true);
    const b = await cluster.start(true);
    const hostedA = await a.host.open(userId);
    const resetsA: string[] = [];
    const resetsB: string[] = [];
    a.host.subscribe(userId, () => {}, (e) => resetsA.push(e));
    b.host.subscribe(userId, () => {}, (e) => resetsB.push(e));
    const hostedB = await b.host.open(userId);
    const before = hostedA.epoch;
    await b.host.rebuild(userId);
    expect(hostedA.epoch).not.toBe(before);
    expect(resetsA).toEqual([hostedA.epoch]);
    await waitUntil(() => resetsB.length === 1, 3_000, 'the reset reaching the other process');
    expect(resetsB).toEqual([hostedA.epoch]);
    expect(hostedB.epoch).toBe(hostedA.epoch);
    expect(docJson(hostedB.doc)).toEqual(docJson(hostedA.doc));
  });

  // Only Redis can drop one process's connection; the in-process hub has none to cut.
  if (redis) {
    it('brings a replica that missed relayed updates (its connection dropped) up to date from Postgres', async () => {
      const [userId] = (await insertPeople(cluster.db, 1)) as [string];
      const a = await cluster.start(true);
      const b = await cluster.start(true);
      const hostedA = await a.host.open(userId);
      b.host.subscribe(userId, () => {});
      const hostedB = await b.host.open(userId);
      expect(await cluster.cut(b.host.processId)).toBe(true);
      await hostedA.write((doc) => doc.getMap(MAPS.threads).set('while-cut', { subject: 'missed' }));
      await waitUntil(() => hostedB.doc.getMap(MAPS.threads).has('while-cut'), 5_000, 'the replica repairing the gap');
      expect(docJson(hostedB.doc)).toEqual(docJson(await storedDoc(cluster.db, userId)));
    });
  }
});
