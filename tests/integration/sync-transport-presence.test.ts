/**
 * Presence over `/sync` with real WebsocketProviders: the identity is the
 * session's whatever the client claims, a state reaches only people of the
 * organization whose document holds the thread, and leaving (or moving to a
 * thread a watcher cannot see) removes it from that watcher.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAPS, type ThreadDoc } from '../../sync/doc/schema';
import { threadSummary } from '../helpers/fake-sync-server';
import type { PresenceState } from '../../sync/presence';
import { addPerson, signUpAdmin } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { waitFor } from '../helpers/mail-account';
import type { RecordingDocHost } from '../helpers/memory-doc-host';
import { connectSyncClient, hostKinds, startSyncServer, type SyncClient, type SyncServer } from '../helpers/sync-client';

/** Long enough for a relay that should not happen to have happened. */
const QUIET_MS = 300;

const summary: ThreadDoc = threadSummary('Spring order', '2026-11-23T09:00:00.000Z', { snippet: 'Hi', unreadCount: 0, from: null, lane: 'deals' });

interface Person {
  cookie: string;
  userId: string;
}

const cases = driverCases().flatMap((driver) => hostKinds().map((kind) => ({ name: `${driver.name}, ${kind.name}`, driver, kind })));

describe.each(cases)('sync presence on $name', ({ driver, kind }) => {
  let testDb: TestDb;
  let host: RecordingDocHost;
  let server: SyncServer;
  let ada: Person;
  let rita: Person;
  let carl: Person;
  let olga: Person;
  const clients: SyncClient[] = [];

  const connect = async (person: Person) => {
    const c = connectSyncClient(server.syncUrl, { cookie: person.cookie });
    clients.push(c);
    await c.synced();
    return c;
  };
  /** The states `watcher` shows of other clients (relayed under server-allocated ids). */
  const othersOf = (watcher: SyncClient) =>
    [...watcher.provider.awareness.getStates()].filter(([id]) => id !== watcher.doc.clientID).map(([, state]) => state as PresenceState);
  const stateOf = (watcher: SyncClient, person: Person) => othersOf(watcher).find((state) => state.user?.userId === person.userId);
  const quiet = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS));

  beforeAll(async () => {
    testDb = await driver.create();
    host = await kind.create(testDb.db);
    server = await startSyncServer(testDb.db, host, { SIGNUP: 'open' });
    ada = await signUpAdmin(server.api);
    rita = await addPerson(server.api, ada.cookie, 'rep', 'Rita Rep');
    carl = await addPerson(server.api, ada.cookie, 'rep', 'Carl Cannot');
    // Another organization whose document happens to hold the same thread id.
    olga = await signUpAdmin(server.api);
    for (const person of [ada, rita, olga]) {
      await host.seed(person.userId, (doc) => doc.getMap(MAPS.threads).set('t-shared', summary));
    }
    await host.seed(ada.userId, (doc) => doc.getMap(MAPS.threads).set('t-ada', summary));
  });

  afterEach(() => {
    clients.splice(0).forEach((c) => c.destroy());
  });

  afterAll(async () => {
    await server.stop();
    await host.close();
    await testDb.drop();
  });

  it('stamps the identity from the session and relays only to people of the organization who see the thread', async () => {
    const [a, r, c, o] = [await connect(ada), await connect(rita), await connect(carl), await connect(olga)];
    a.provider.awareness.setLocalState({ threadId: 't-shared', activity: 'replying', user: { userId: olga.userId, name: 'The Boss' }, admin: true });

    const seen = await waitFor('presence at Rita', () => stateOf(r, ada), (s) => s !== undefined, 5_000, 10);
    expect(seen).toEqual({ user: { userId: ada.userId, name: 'Ada Admin' }, threadId: 't-shared', activity: 'replying' });
    await quiet();
    expect(othersOf(r)).toEqual([seen]);
    expect(othersOf(c)).toEqual([]);
    expect(othersOf(o)).toEqual([]);
  });

  it('drops a thread its claimant cannot see, so presence cannot probe for threads', async () => {
    const [a, c] = [await connect(ada), await connect(carl)];
    c.provider.awareness.setLocalState({ threadId: 't-ada', activity: 'viewing' });
    const seen = await waitFor('Carl online at Ada', () => stateOf(a, carl), (s) => s !== undefined, 5_000, 10);
    expect(seen).toEqual({ user: { userId: carl.userId, name: 'Carl Cannot' } });
  });

  it('removes a state from a watcher when its person moves to a thread the watcher cannot see, and when the socket closes', async () => {
    const [a, r] = [await connect(ada), await connect(rita)];
    a.provider.awareness.setLocalState({ threadId: 't-shared', activity: 'viewing' });
    await waitFor('presence at Rita', () => stateOf(r, ada), (s) => s?.threadId === 't-shared', 5_000, 10);

    a.provider.awareness.setLocalState({ threadId: 't-ada', activity: 'viewing' });
    await waitFor('removal at Rita', () => stateOf(r, ada), (s) => s === undefined, 5_000, 10);

    a.provider.awareness.setLocalState({ threadId: 't-shared', activity: 'replying' });
    await waitFor('presence back at Rita', () => stateOf(r, ada), (s) => s?.activity === 'replying', 5_000, 10);
    a.destroy();
    await waitFor('removal after close', () => stateOf(r, ada), (s) => s === undefined, 5_000, 10);
  });

  it('sends a newcomer the states it may see', async () => {
    const a = await connect(ada);
    a.provider.awareness.setLocalState({ threadId: 't-shared', activity: 'viewing' });
    await quiet();
    const [r, c] = [await connect(rita), await connect(carl)];
    await waitFor('presence at the newcomer', () => stateOf(r, ada), (s) => s?.threadId === 't-shared', 5_000, 10);
    await quiet();
    expect(stateOf(c, ada)).toBeUndefined();
  });
});
