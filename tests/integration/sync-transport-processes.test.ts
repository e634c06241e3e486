/**
 * Two Shoal "processes" (each its own document host, bus connection, leases
 * and `/sync` server) on one database, linked by the in-process hub and, with
 * REDIS_URL, by Redis: a log-out or deactivation on one closes the sockets on
 * the other within 1 s, and presence crosses between them with the same
 * stamping and visibility as within one.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SyncDocHost } from '../../server/sync/host';
import { MAPS, type ThreadDoc } from '../../sync/doc/schema';
import { threadSummary } from '../helpers/fake-sync-server';
import type { PresenceState } from '../../sync/presence';
import { addPerson, signUpAdmin } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { waitFor } from '../helpers/mail-account';
import { prerequisite } from '../helpers/prereq';
import { dropRedisNamespace } from '../helpers/sync-host';
import { connectSyncClient, processHosts, startSyncServer, type SyncClient, type SyncServer } from '../helpers/sync-client';

const redisUrl = process.env.REDIS_URL;
const links = [{ name: 'in-process hub', redis: false }, ...(prerequisite('Redis tier', redisUrl ? null : 'REDIS_URL is not set') ? [{ name: 'Redis', redis: true }] : [])];
const cases = driverCases().flatMap((driver) => links.map((link) => ({ name: `${driver.name}, ${link.name}`, driver, link })));

const summary: ThreadDoc = threadSummary('Spring order', '2026-11-23T09:00:00.000Z', { snippet: 'Hi', unreadCount: 0, from: null, lane: 'deals' });

interface Person {
  cookie: string;
  userId: string;
}

describe.each(cases)('sync transport across processes on $name', ({ driver, link }) => {
  let testDb: TestDb;
  let hosts: SyncDocHost[];
  let servers: SyncServer[];
  let ada: Person;
  let rita: Person;
  let carl: Person;
  const namespace = `shoal-t-${randomUUID().slice(0, 8)}`;
  const clients: SyncClient[] = [];

  const connect = async (server: SyncServer, person: Person) => {
    const c = connectSyncClient(server.syncUrl, { cookie: person.cookie });
    clients.push(c);
    await c.synced();
    return c;
  };
  const othersOf = (watcher: SyncClient) =>
    [...watcher.provider.awareness.getStates()].filter(([id]) => id !== watcher.doc.clientID).map(([, state]) => state as PresenceState);

  beforeAll(async () => {
    testDb = await driver.create();
    hosts = await processHosts(testDb.db, 2, link.redis ? { url: redisUrl as string, namespace } : undefined);
    servers = await Promise.all(hosts.map((host) => startSyncServer(testDb.db, host, {}, host.bus)));
    const api = servers[0]?.api;
    if (!api) {
      throw new Error('no server');
    }
    ada = await signUpAdmin(api);
    rita = await addPerson(api, ada.cookie, 'rep', 'Rita Rep');
    carl = await addPerson(api, ada.cookie, 'rep', 'Carl Cannot');
    for (const person of [ada, rita]) {
      await (await hosts[0]?.open(person.userId))?.write((doc) => doc.getMap(MAPS.threads).set('t-shared', summary));
    }
  });

  afterEach(() => {
    clients.splice(0).forEach((c) => c.destroy());
  });

  afterAll(async () => {
    for (const server of servers ?? []) {
      await server.stop();
    }
    for (const host of hosts ?? []) {
      await host.close();
    }
    await testDb.drop();
    if (link.redis) {
      await dropRedisNamespace(redisUrl as string, namespace);
    }
  });

  it('closes sockets on the other process with 4401 within 1 s of a log-out, "log out everywhere" and a deactivation', async () => {
    const [one, two] = servers as [SyncServer, SyncServer];
    for (const end of ['logout', 'logout-all', 'deactivate'] as const) {
      const person = await addPerson(one.api, ada.cookie, 'rep', `Person ${end}`);
      const c = await connect(two, person);
      const t0 = performance.now();
      const res =
        end === 'deactivate'
          ? await one.api.post(`/api/people/${person.userId}/deactivate`, undefined, { cookie: ada.cookie })
          : await one.api.post(`/api/auth/${end}`, undefined, { cookie: person.cookie });
      expect(res.status).toBeLessThan(300);
      await waitFor(`4401 after ${end}`, () => c.closeCodes, (codes) => codes.includes(4401), 5_000, 5);
      expect(performance.now() - t0).toBeLessThan(1_000);
    }
  });

  it('relays presence between processes, stamped and only to people who see the thread', async () => {
    const [one, two] = servers as [SyncServer, SyncServer];
    const a = await connect(one, ada);
    const [r, c] = [await connect(two, rita), await connect(two, carl)];
    a.provider.awareness.setLocalState({ threadId: 't-shared', activity: 'replying', user: { userId: carl.userId, name: 'Forged' } });
    const seen = await waitFor('presence on the other process', () => othersOf(r).find((s) => s.threadId === 't-shared'), (s) => s !== undefined, 5_000, 10);
    expect(seen).toEqual({ user: { userId: ada.userId, name: 'Ada Admin' }, threadId: 't-shared', activity: 'replying' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(othersOf(c)).toEqual([]);
    a.destroy();
    await waitFor('removal on the other process', () => othersOf(r), (states) => states.length === 0, 5_000, 10);
  });
});
