/**
 * What a new listener of the sync session gets at once: the watchers' own
 * latest lists (no second read and sort of every thread at open), kept
 * current by every change. And the session on the real IndexedDB stack
 * (in memory): the document persistence it opens by default keeps the copy
 * and offline edits across a reload, and log-out deletes it.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import type { ThreadView } from '../../sync/client/read';
import type { PersonDoc } from '../../sync/doc/schema';
import { documentName } from '../../app/src/lib/sync/local-store';
import { SyncSession, type OnlineSource, type SyncSessionOptions } from '../../app/src/lib/sync/sync-session';
import { FakeSyncServer, threadSummary } from '../helpers/fake-sync-server';
import { FakeNetwork, MemoryDatabases, until } from '../helpers/fake-sync-socket';

const ORG = '0b6c5a52-3c1c-4d56-9a4e-1a2b3c4d5e6f';
const ANN = '7d9f1c2e-1111-4aaa-8bbb-000000000001';
const T1 = '00000000-0000-4000-8000-000000000001';
const T2 = '00000000-0000-4000-8000-000000000002';

const open: SyncSession[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function world() {
  const server = new FakeSyncServer(ORG);
  server.addThread(T1, threadSummary('Quote', '2026-01-01T10:00:00.000Z'));
  server.addThread(T2, threadSummary('Renewal', '2026-01-02T10:00:00.000Z'));
  const network = new FakeNetwork(server, ANN);
  let browserOnline = true;
  const listeners = new Set<() => void>();
  const online: OnlineSource = {
    isOnline: () => browserOnline,
    subscribe: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const setOnline = (value: boolean): void => {
    browserOnline = value;
    network.setOnline(value);
    listeners.forEach((fn) => fn());
  };
  const start = async (extra: Partial<SyncSessionOptions> = {}): Promise<SyncSession> => {
    const session = await SyncSession.open({ userId: ANN, orgId: ORG, url: 'ws://shoal.test/sync', WebSocketPolyfill: network.WebSocket, online, requestPersistence: async () => true, ...extra });
    open.push(session);
    return session;
  };
  return { server, setOnline, start };
}

/** How many threads the stored copy of a document holds now (read through y-indexeddb itself). */
async function storedThreads(name: string): Promise<number> {
  const doc = new Y.Doc();
  const persistence = new IndexeddbPersistence(name, doc);
  await persistence.whenSynced;
  await persistence.destroy();
  return doc.getMap('threads').size;
}

async function untilStored(name: string, threads: number): Promise<void> {
  let stored = 0;
  const start = Date.now();
  while (stored < threads) {
    if (Date.now() - start > 5000) {
      throw new Error(`the stored copy holds ${stored} threads, not ${threads}`);
    }
    stored = await storedThreads(name);
  }
}

function memory(): Partial<SyncSessionOptions> {
  const databases = new MemoryDatabases();
  return { openStore: databases.openStore, openPersistence: databases.openPersistence, deleteDatabase: databases.deleteDatabase, listDatabases: databases.listDatabases };
}

function record(session: SyncSession) {
  const seen = { threads: [] as (readonly ThreadView[])[], people: [] as ReadonlyMap<string, PersonDoc>[] };
  session.subscribe({ threads: ({ threads }) => seen.threads.push(threads), people: (people) => seen.people.push(people) });
  return seen;
}

describe('a sync session listener', () => {
  it('gets the list the session already holds, the same for every listener', async () => {
    const w = world();
    const session = await w.start(memory());
    await until(() => session.status === 'online', 'online');
    const first = record(session);
    const second = record(session);
    expect(first.threads[0]?.map((t) => t.id)).toEqual([T2, T1]);
    expect(second.threads[0]).toBe(first.threads[0]);
    expect(second.people[0]).toBe(first.people[0]);
  });

  it('gets the list as the last change left it', async () => {
    const w = world();
    const session = await w.start(memory());
    await until(() => session.status === 'online', 'online');
    const early = record(session);
    session.setField(T1, 'status', 'done');
    const late = record(session);
    expect(late.threads[0]).toBe(early.threads.at(-1));
    expect(late.threads[0]?.find((t) => t.id === T1)?.fields.status).toBe('done');
  });
});

describe('a sync session on IndexedDB', () => {
  it('reloads the stored copy and an offline edit, and deletes them on log-out', async () => {
    const w = world();
    const first = await w.start();
    await until(() => first.status === 'online', 'online');
    // The first copy is stored only once its database is open; a session closed before keeps none (the server resends it).
    await untilStored(documentName(ANN, first.epoch ?? ''), 2);
    w.setOnline(false);
    await until(() => first.status === 'offline', 'offline');
    first.setField(T1, 'labels', ['eu']);
    await first.close();

    const second = await w.start();
    const seen = record(second);
    expect(seen.threads[0]?.map((t) => t.id)).toEqual([T2, T1]);
    expect(second.client.field(T1, 'labels')).toEqual(['eu']);
    expect(second.pendingCount).toBe(1);
    w.setOnline(true);
    await until(() => second.pendingCount === 0, 'the offline edit acknowledged');
    await second.wipe();

    w.setOnline(false);
    const third = await w.start();
    expect(third.epoch).toBeNull();
    expect(third.client.threads()).toEqual([]);
    expect(third.pendingCount).toBe(0);
  });
});
