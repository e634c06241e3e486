/**
 * The `/sync` WebSocket through a real listening server and y-websocket's
 * WebsocketProvider, over the in-memory host and the real document host: the
 * upgrade's Origin and session checks, the document always being the
 * session's person's, first sync and diff-only reconnects, update routing
 * through the DocHost, a replaced document, and 4401 within 1 s of a session
 * ending.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { fieldKey, MAPS, type ThreadDoc } from '../../sync/doc/schema';
import { threadSummary } from '../helpers/fake-sync-server';
import { addPerson, PASSWORD, signUpAdmin, TEST_ORIGIN } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { waitFor } from '../helpers/mail-account';
import type { RecordingDocHost } from '../helpers/memory-doc-host';
import { connectSyncClient, hostKinds, startSyncServer, tryUpgrade, type SyncClient, type SyncServer } from '../helpers/sync-client';

const SESSION_END_MS = 1_000;

function thread(subject: string): ThreadDoc {
  return threadSummary(subject, '2026-11-23T09:00:00.000Z', { snippet: 'Hello', from: { address: 'buyer@client.test', name: 'Buyer' } });
}

const cases = driverCases().flatMap((driver) => hostKinds().map((kind) => ({ name: `${driver.name}, ${kind.name}`, driver, kind })));

describe.each(cases)('sync transport on $name', ({ driver, kind }) => {
  let testDb: TestDb;
  let host: RecordingDocHost;
  let server: SyncServer;
  let admin: { cookie: string; userId: string; email: string };
  let rep: { cookie: string; userId: string; email: string };
  const clients: SyncClient[] = [];

  const connect = (cookie: string | null, room?: string, deflate = true) => {
    const c = connectSyncClient(server.syncUrl, { cookie, deflate, ...(room ? { room } : {}) });
    clients.push(c);
    return c;
  };
  const logIn = async (email: string) => {
    const res = await server.api.post('/api/auth/login', { email, password: PASSWORD });
    expect(res.status).toBe(200);
    return res.cookie as string;
  };
  /** Waits for a 4401 and returns how long it took. */
  const closedWithin = async (c: SyncClient, since: number) => {
    await waitFor('close 4401', () => c.closeCodes, (codes) => codes.includes(4401), 5_000, 5);
    return performance.now() - since;
  };

  beforeAll(async () => {
    testDb = await driver.create();
    host = await kind.create(testDb.db);
    server = await startSyncServer(testDb.db, host);
    admin = await signUpAdmin(server.api);
    rep = await addPerson(server.api, admin.cookie, 'rep', 'Rita Rep');
    await host.seed(admin.userId, (doc) => doc.getMap(MAPS.threads).set('thread-admin', thread('Admin only')));
    await host.seed(rep.userId, (doc) => doc.getMap(MAPS.threads).set('thread-rep', thread('Rep only')));
  });

  afterEach(() => {
    clients.splice(0).forEach((c) => c.destroy());
  });

  afterAll(async () => {
    await server.stop();
    await host.close();
    await testDb.drop();
  });

  it('refuses the upgrade without a valid session (401) or from a foreign Origin (403), before any socket exists', async () => {
    const url = `${server.syncUrl}/inbox`;
    expect(await tryUpgrade(url, { origin: TEST_ORIGIN })).toBe(401);
    expect(await tryUpgrade(url, { origin: TEST_ORIGIN, cookie: 'shoal_session=not-a-token' })).toBe(401);
    expect(await tryUpgrade(url, { origin: TEST_ORIGIN, cookie: 'shoal_session=aaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbb' })).toBe(401);
    expect(await tryUpgrade(url, { origin: 'http://evil.test', cookie: admin.cookie })).toBe(403);
    expect(await tryUpgrade(url, { cookie: admin.cookie })).toBe(403);
    expect(await tryUpgrade(url, { origin: TEST_ORIGIN, cookie: admin.cookie })).toBe(101);
    expect(await tryUpgrade(server.syncUrl, { origin: TEST_ORIGIN, cookie: admin.cookie })).toBe(101);
    expect((await server.api.get('/sync', { cookie: admin.cookie })).status).toBe(426);
    expect(server.logs.join('')).not.toContain(admin.cookie.split('=')[1]);
  });

  it("serves the session's person's document whatever room the URL names", async () => {
    const c = connect(rep.cookie, admin.userId);
    await c.synced();
    const threads = c.doc.getMap(MAPS.threads);
    expect([...threads.keys()]).toEqual(['thread-rep']);
    c.doc.getMap(MAPS.fields).set(fieldKey('thread-rep', 'status'), { v: 'done', hlc: '000001764000000:0000:c1' });
    const got = await waitFor('the edit at the host', () => host.received.filter((r) => r.author.userId === rep.userId), (r) => r.length > 0);
    expect(got.every((r) => r.userId === rep.userId)).toBe(true);
    expect(host.received.some((r) => r.userId === admin.userId)).toBe(false);
  });

  it('sends a client update through the DocHost to the person’s other sockets, not back to its author', async () => {
    const one = connect(admin.cookie);
    const two = connect(await logIn(admin.email));
    await Promise.all([one.synced(), two.synced()]);
    expect(two.doc.getMap(MAPS.threads).get('thread-admin')).toEqual(thread('Admin only'));
    const key = fieldKey('thread-admin', 'labels');
    const pushedToOne = one.updateFrames.length;
    one.doc.getMap(MAPS.fields).set(key, { v: ['hot'], hlc: '000001764000000:0000:c2' });
    await waitFor('the edit on the other socket', () => two.doc.getMap(MAPS.fields).get(key), (v) => v !== undefined);
    const received = host.received.at(-1);
    expect(received?.author).toMatchObject({ userId: admin.userId });
    // A server write reaches both; by then an echo of the author's own edit would have arrived too.
    await host.seed(admin.userId, (doc) => doc.getMap(MAPS.threads).set('thread-admin-2', thread('Second')));
    await waitFor('the server write on both', () => [one, two].every((c) => c.doc.getMap(MAPS.threads).has('thread-admin-2')), (ok) => ok);
    expect(one.updateFrames.length).toBe(pushedToOne + 1);
  });

  it('answers a reconnecting client with only the diff for its state vector, and takes its offline edits', async () => {
    await host.seed(admin.userId, (doc) => {
      for (let i = 0; i < 500; i++) {
        doc.getMap(MAPS.threads).set(`bulk-${i}`, thread(`Quote request ${i} for the spring order`));
      }
    });
    const c = connect(admin.cookie);
    await c.synced();
    const full = c.syncStep2Bytes[0] ?? 0;
    const hosted = await host.open(admin.userId);
    expect(full).toBeGreaterThanOrEqual(Y.encodeStateAsUpdate(hosted.doc).length - 8);

    c.provider.disconnect();
    await host.seed(admin.userId, (doc) => doc.getMap(MAPS.threads).set('bulk-0', thread('Changed while away')));
    const offlineKey = fieldKey('bulk-1', 'status');
    c.doc.getMap(MAPS.fields).set(offlineKey, { v: 'pending', hlc: '000001764000000:0000:c3' });
    c.provider.connect();
    await c.synced();
    const diff = c.syncStep2Bytes[1] ?? Infinity;
    console.log(`[sync-transport] first sync ${full} B, reconnect diff ${diff} B`);
    expect(diff).toBeLessThan(full / 50);
    expect((c.doc.getMap(MAPS.threads).get('bulk-0') as ThreadDoc).s).toBe('Changed while away');
    await waitFor('the offline edit at the host', () => hosted.doc.getMap(MAPS.fields).get(offlineKey), (v) => v !== undefined);
  });

  it('deflates the first sync for a client that offers permessage-deflate, and no other frame', async () => {
    await host.seed(admin.userId, (doc) => {
      for (let i = 0; i < 500; i++) {
        doc.getMap(MAPS.threads).set(`wire-${i}`, thread(`Quote request ${i} for the autumn order`));
      }
    });
    const deflating = connect(admin.cookie);
    const plain = connect(admin.cookie, undefined, false);
    await Promise.all([deflating.synced(), plain.synced()]);
    expect(deflating.extensions()).toContain('permessage-deflate');
    expect(plain.extensions()).toBe('');
    const full = deflating.syncStep2Bytes[0] ?? 0;
    expect(plain.syncStep2Bytes[0]).toBe(full);
    expect(plain.wireBytes()).toBeGreaterThan(full);
    console.log(`[sync-transport] first sync ${full} B: ${deflating.wireBytes()} B on the wire deflated, ${plain.wireBytes()} B plain`);
    expect(deflating.wireBytes()).toBeLessThan(full / 3);

    // A live frame goes as it is, however large and compressible: deflating every fan-out would cost more CPU than it saves.
    const before = deflating.wireBytes();
    const long = 'Long quote '.repeat(2_000);
    await host.seed(admin.userId, (doc) => doc.getMap(MAPS.threads).set('wire-long', thread(long)));
    await waitFor('the live frame', () => deflating.doc.getMap(MAPS.threads).has('wire-long'), (ok) => ok);
    expect(deflating.wireBytes() - before).toBeGreaterThan(long.length);
  });

  it('moves the sockets of a replaced document to the new one: 4000, reconnect, new epoch served', async () => {
    const person = await addPerson(server.api, admin.cookie, 'rep', 'Rene Rebuilt');
    const c = connect(person.cookie);
    await c.synced();
    const before = (await host.open(person.userId)).epoch;
    await host.rebuild(person.userId);
    await waitFor('close 4000', () => c.closeCodes, (codes) => codes.includes(4000), 5_000, 5);
    const after = await host.open(person.userId);
    expect(after.epoch).not.toBe(before);
    // A device that reset (a fresh copy) gets exactly the new document; the old socket came back.
    const fresh = connect(person.cookie);
    await fresh.synced();
    expect(fresh.doc.getMap(MAPS.meta).get('epoch')).toBe(after.epoch);
    await waitFor('the old client back', () => c.provider.synced, (synced) => synced, 5_000);
    await after.write((doc) => doc.getMap(MAPS.threads).set('after-rebuild', thread('New epoch')));
    await waitFor('a write after the rebuild', () => [c, fresh].every((x) => x.doc.getMap(MAPS.threads).has('after-rebuild')), (ok) => ok, 5_000);
  });

  it('closes malformed and text frames (1007, 1003) without passing them on', async () => {
    for (const [payload, code] of [
      [new Uint8Array([0, 2, 200]), 1007],
      ['hello', 1003],
    ] as const) {
      const before = host.received.length;
      const ws = new WebSocket(`${server.syncUrl}/x`, { headers: { origin: TEST_ORIGIN, cookie: admin.cookie } });
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(payload);
      const closed = await new Promise<number>((resolve) => ws.once('close', resolve));
      expect(closed).toBe(code);
      expect(host.received.length).toBe(before);
    }
  });

  it('closes a socket with 4401 within 1 s of its log-out; the same person’s other session stays', async () => {
    const cookie = await logIn(rep.email);
    const leaving = connect(cookie);
    const staying = connect(rep.cookie);
    await Promise.all([leaving.synced(), staying.synced()]);
    const t0 = performance.now();
    expect((await server.api.post('/api/auth/logout', undefined, { cookie })).status).toBe(204);
    expect(await closedWithin(leaving, t0)).toBeLessThan(SESSION_END_MS);
    expect(staying.provider.wsconnected).toBe(true);
    // 44xx is final for the provider, and a new attempt is refused anyway.
    expect(leaving.provider.shouldConnect).toBe(false);
    expect(await tryUpgrade(server.syncUrl, { origin: TEST_ORIGIN, cookie })).toBe(401);
  });

  it('closes every socket of a person with 4401 within 1 s of "log out of all devices"', async () => {
    const other = await logIn(rep.email);
    const sockets = [connect(rep.cookie), connect(other)];
    await Promise.all(sockets.map((c) => c.synced()));
    const t0 = performance.now();
    expect((await server.api.post('/api/auth/logout-all', undefined, { cookie: other })).status).toBe(204);
    for (const c of sockets) {
      expect(await closedWithin(c, t0)).toBeLessThan(SESSION_END_MS);
    }
    await waitFor('registry empty', () => server.transport.registry.countForUser(rep.userId), (n) => n === 0, 2_000);
    await waitFor('no subscription left', () => host.subscriptions(rep.userId), (n) => n === 0, 2_000);
  });

  it('closes a deactivated person’s sockets with 4401 within 1 s', async () => {
    const person = await addPerson(server.api, admin.cookie, 'rep', 'Dora Departing');
    const sockets = [connect(person.cookie), connect(await logIn(person.email))];
    await Promise.all(sockets.map((c) => c.synced()));
    const t0 = performance.now();
    expect((await server.api.post(`/api/people/${person.userId}/deactivate`, undefined, { cookie: admin.cookie })).status).toBe(200);
    for (const c of sockets) {
      expect(await closedWithin(c, t0)).toBeLessThan(SESSION_END_MS);
    }
    expect(await tryUpgrade(server.syncUrl, { origin: TEST_ORIGIN, cookie: person.cookie })).toBe(401);
  });
});
