/**
 * The browser side of sync, in Node: the real y-websocket provider over a
 * fake socket to a fake server, and in-memory stand-ins for IndexedDB, so
 * reloads, offline edits, epoch resets and log-out can be driven end to end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { fieldKey, MAPS } from '../../sync/doc/schema';
import { decodeStateVector } from 'yjs';
import type { SettledWrite } from '../../sync/client/outbox';
import { documentName } from '../../app/src/lib/sync/local-store';
import { SyncSession, type OnlineSource } from '../../app/src/lib/sync/sync-session';
import type { ConnectionStatus } from '../../app/src/lib/sync/status';
import { FakeSyncServer, threadSummary } from '../helpers/fake-sync-server';
import { FakeNetwork, MemoryDatabases, type NetworkOptions, until } from '../helpers/fake-sync-socket';

const ORG = '0b6c5a52-3c1c-4d56-9a4e-1a2b3c4d5e6f';
const ANN = '7d9f1c2e-1111-4aaa-8bbb-000000000001';
const BOB = '7d9f1c2e-1111-4aaa-8bbb-000000000002';
const T1 = '00000000-0000-4000-8000-000000000001';
const T2 = '00000000-0000-4000-8000-000000000002';

const open: SyncSession[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function world(options: NetworkOptions = {}) {
  const server = new FakeSyncServer(ORG);
  server.addThread(T1, threadSummary('Quote', '2026-01-01T10:00:00.000Z'));
  server.addThread(T2, threadSummary('Renewal', '2026-01-02T10:00:00.000Z'));
  const network = new FakeNetwork(server, ANN, options);
  const databases = new MemoryDatabases();
  let browserOnline = true;
  const onlineListeners = new Set<() => void>();
  const online: OnlineSource = {
    isOnline: () => browserOnline,
    subscribe: (fn) => {
      onlineListeners.add(fn);
      return () => onlineListeners.delete(fn);
    },
  };
  const setOnline = (value: boolean): void => {
    browserOnline = value;
    network.setOnline(value);
    onlineListeners.forEach((fn) => fn());
  };
  const start = async () => {
    const statuses: ConnectionStatus[] = [];
    const settled: SettledWrite[] = [];
    const session = await SyncSession.open({
      userId: ANN,
      orgId: ORG,
      url: 'ws://shoal.test/sync',
      WebSocketPolyfill: network.WebSocket,
      openStore: databases.openStore,
      openPersistence: databases.openPersistence,
      deleteDatabase: databases.deleteDatabase,
      listDatabases: databases.listDatabases,
      online,
      requestPersistence: async () => true,
    });
    session.subscribe({ status: (s) => statuses.push(s), settled: (w) => settled.push(...w) });
    open.push(session);
    return { session, statuses, settled };
  };
  return { server, network, databases, setOnline, start };
}

describe('the sync session', () => {
  it('opens from the server, learns and stores the epoch, and acknowledges writes', async () => {
    const { server, databases, start } = world();
    const { session, statuses, settled } = await start();
    await until(() => session.status === 'online', 'online');
    expect(session.client.threads().map((t) => t.id)).toEqual([T2, T1]);
    expect(session.epoch).toBe(server.epochOf(ANN));
    expect(databases.stores.get(ANN)?.meta.epoch).toBe(server.epochOf(ANN));
    expect(databases.docs.has(documentName(ANN, server.epochOf(ANN)))).toBe(true);
    session.setField(T1, 'status', 'done');
    expect(session.pendingCount).toBe(1);
    await until(() => session.pendingCount === 0, 'acknowledgement');
    expect(settled.map((w) => w.outcome)).toEqual(['applied']);
    expect(server.canonicalFor(ANN, MAPS.fields, fieldKey(T1, 'status'))).toMatchObject({ v: 'done' });
    expect(statuses.at(-1)).toBe('online');
  });

  it('keeps offline edits across a reload and sends them when back online', async () => {
    const w = world();
    const first = await w.start();
    await until(() => first.session.status === 'online', 'online');
    w.setOnline(false);
    await until(() => first.session.status === 'offline', 'offline');
    first.session.setField(T1, 'labels', ['eu']);
    first.session.setShareFlag('00000000-0000-4000-8000-0000000000aa', true);
    await first.session.close();

    // Reload while offline: the stored copy and the outbox are back, nothing reached the server.
    const second = await w.start();
    expect(second.session.client.field(T1, 'labels')).toEqual(['eu']);
    expect(second.session.pendingCount).toBe(2);
    expect(w.server.log).toEqual([]);
    w.setOnline(true);
    await until(() => second.session.pendingCount === 0, 'offline edits acknowledged');
    expect(second.settled.map((s) => s.outcome)).toEqual(['applied', 'applied']);
    expect(w.server.canonicalFor(ANN, MAPS.fields, fieldKey(T1, 'labels'))).toMatchObject({ v: ['eu'] });
  });

  it('reports an offline edit that lost to a teammate’s later one', async () => {
    const w = world();
    const { session, settled } = await w.start();
    await until(() => session.status === 'online', 'online');
    w.setOnline(false);
    session.setField(T1, 'status', 'pending');
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Bob, later and online, through his own document.
    const bob = new Y.Doc();
    Y.applyUpdate(bob, Y.encodeStateAsUpdate(w.server.docOf(BOB)));
    bob.getMap(MAPS.fields).set(fieldKey(T1, 'status'), { v: 'done', hlc: `${String(Date.now() + 60_000).padStart(15, '0')}:0000:bobLaptop` });
    w.server.receive(BOB, Y.encodeStateAsUpdate(bob, Y.encodeStateVector(w.server.docOf(BOB))), { deliver: () => {} });
    w.setOnline(true);
    await until(() => session.pendingCount === 0, 'settled');
    expect(settled.map((s) => s.outcome)).toEqual(['lost']);
    expect(session.client.field(T1, 'status')).toBe('done');
  });

  it('sends an offline edit up before applying the server’s concurrent value, so the later edit wins', async () => {
    const w = world();
    const { session, settled } = await w.start();
    await until(() => session.status === 'online', 'online');
    w.setOnline(false);
    session.setField(T1, 'status', 'pending');
    // An earlier edit of Bob's reaches Ann's server copy through a writer whose Yjs client id outranks hers.
    w.server.docOf(ANN).clientID = 2 ** 32 - 2;
    const bob = new Y.Doc();
    Y.applyUpdate(bob, Y.encodeStateAsUpdate(w.server.docOf(BOB)));
    bob.getMap(MAPS.fields).set(fieldKey(T1, 'status'), { v: 'done', hlc: `${String(Date.now() - 60_000).padStart(15, '0')}:0000:bobLaptop` });
    w.server.receive(BOB, Y.encodeStateAsUpdate(bob, Y.encodeStateVector(w.server.docOf(BOB))), { deliver: () => {} });
    w.setOnline(true);
    await until(() => session.pendingCount === 0, 'settled');
    expect(settled.map((s) => s.outcome)).toEqual(['applied']);
    expect(w.server.canonicalFor(ANN, MAPS.fields, fieldKey(T1, 'status'))).toMatchObject({ v: 'pending' });
    expect(session.client.field(T1, 'status')).toBe('pending');
  });

  it('resets on a new epoch: the old copy is deleted, pending edits are replayed, answered ones are not resent', async () => {
    const w = world();
    const { session, settled } = await w.start();
    await until(() => session.status === 'online', 'online');
    const oldEpoch = session.epoch as string;
    const oldClient = session.doc.clientID;
    session.setField(T1, 'status', 'done');
    await until(() => session.pendingCount === 0, 'first write acknowledged');
    // Applied by the server, but the connection drops before the acknowledgement.
    session.setField(T2, 'assignee', BOB);
    await until(() => w.server.log.some((r) => r.key === fieldKey(T2, 'assignee')), 'second write applied');
    w.setOnline(false);
    expect(session.pendingCount).toBe(1);
    session.setField(T1, 'labels', ['vip']);
    session.setField(T2, 'read', true);
    w.server.rebuild(ANN);
    const newEpoch = w.server.epochOf(ANN);
    const uploadsBefore = w.network.uploads.length;
    w.setOnline(true);
    await until(() => session.epoch === newEpoch && session.pendingCount === 0, 'reset and replay');
    await session.settledReset();

    expect(w.databases.docs.has(documentName(ANN, oldEpoch))).toBe(false);
    expect(w.databases.docs.has(documentName(ANN, newEpoch))).toBe(true);
    expect(w.databases.stores.get(ANN)?.meta.epoch).toBe(newEpoch);
    expect(settled.map((s) => `${s.entry.key}:${s.outcome}`)).toEqual([
      `${fieldKey(T1, 'status')}:applied`,
      `${fieldKey(T2, 'assignee')}:applied`,
      `${fieldKey(T1, 'labels')}:applied`,
      `${fieldKey(T2, 'read')}:applied`,
    ]);
    expect(session.client.field(T1, 'labels')).toEqual(['vip']);
    expect(session.client.field(T1, 'status')).toBe('done');
    // Nothing of the old copy reached the rebuilt document, and the settled write was not sent again.
    expect(decodeStateVector(Y.encodeStateVector(w.server.docOf(ANN))).has(oldClient)).toBe(false);
    const resent = w.network.uploads.slice(uploadsBefore).flatMap((u) => (u.update === null ? [] : [u.update]));
    const keys = resent.flatMap((update) => {
      const probe = new Y.Doc();
      Y.applyUpdate(probe, update);
      return [...probe.getMap(MAPS.fields).keys()];
    });
    expect(keys.sort()).toEqual([fieldKey(T1, 'labels'), fieldKey(T2, 'read')].sort());
  });

  it('sends the whole local state when the server never sends its state vector', async () => {
    const w = world({ serverStep1: 'never' });
    const { session } = await w.start();
    await until(() => session.status === 'online', 'online', 8000);
    session.setField(T2, 'assignee', BOB);
    await until(() => session.pendingCount === 0, 'acknowledged', 8000);
    expect(w.server.canonicalFor(ANN, MAPS.fields, fieldKey(T2, 'assignee'))).toMatchObject({ v: BOB });
  }, 15_000);

  it('stops for good on 4401 and wipes everything of the person on log-out', async () => {
    const w = world();
    const { session } = await w.start();
    const codes: number[] = [];
    session.subscribe({ closed: (code) => codes.push(code) });
    await until(() => session.status === 'online', 'online');
    session.setField(T1, 'read', true);
    [...w.network.sockets].forEach((s) => s.serverClose(4401));
    await until(() => codes.length === 1, 'closed');
    expect(codes).toEqual([4401]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(w.network.sockets.size).toBe(0);
    await session.wipe();
    expect(w.databases.docs.size).toBe(0);
    expect(w.databases.stores.size).toBe(0);
  });
});
