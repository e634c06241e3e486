/**
 * The projection on the real document host, in two "processes": each one
 * builds the documents whose lease it holds with the projection, and a change
 * published in one process (as a command or ingest would) refreshes the
 * documents the other one holds, through the host's bus — the in-process hub
 * on every driver, and Redis when REDIS_URL is set. What was written is in
 * Postgres (snapshot + tail) and reaches subscribers.
 */
import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSyncDoc } from '../../db/queries/sync-docs';
import type { Db } from '../../db/types';
import { createDocHost } from '../../server/sync/host';
import { createLocalHub } from '../../server/sync/host/bus';
import { SyncDocHost } from '../../server/sync/host/doc-host';
import { applyState } from '../../server/sync/host/doc-store';
import { createMemoryLeaseTable } from '../../server/sync/host/leases';
import { createProjection, startChangeFeed, type ChangeFeed, type ChangeSink } from '../../server/sync/projection';
import { MAPS } from '../../sync/doc/schema';
import { driverCases, type TestDb } from '../helpers/db';
import { insertTestMailbox, insertTestMessage } from '../helpers/mail-rows';
import { prerequisite } from '../helpers/prereq';
import { dropRedisNamespace, quietLog, recordingPolicy, waitUntil } from '../helpers/sync-host';

const redisUrl = process.env.REDIS_URL;
const CONFIG = { syncWindowDays: 90, syncMaxThreads: 5000 };

interface Process {
  host: SyncDocHost;
  feed: ChangeFeed;
  changes: ChangeSink;
}

type Start = (db: Db) => Promise<Process>;

interface Setup {
  name: string;
  redis: boolean;
  starter: () => { start: Start; stop(): Promise<void> };
}

function feedOn(db: Db, host: SyncDocHost, projection: ReturnType<typeof createProjection>): Process {
  const { feed, changes } = startChangeFeed({ db, log: quietLog, projection, host });
  return { host, feed, changes };
}

const hubSetup: Setup = {
  name: 'in-process hub',
  redis: false,
  starter: () => {
    const hub = createLocalHub();
    // Default lease timings: this suite is about fan-out, not takeovers (the host's suites time those).
    const leases = createMemoryLeaseTable();
    return {
      async start(db) {
        const projection = createProjection(db, CONFIG);
        const processId = randomUUID();
        const host = new SyncDocHost({ db, log: quietLog, bus: hub.connect(processId), leases: leases.connect(processId), build: projection.build, refresh: projection.build, policy: recordingPolicy() });
        return feedOn(db, host, projection);
      },
      stop: async () => {},
    };
  },
};

const redisSetup: Setup = {
  name: 'Redis',
  redis: true,
  starter: () => {
    const namespace = `shoalproj${randomUUID().slice(0, 8)}`;
    return {
      async start(db) {
        const projection = createProjection(db, CONFIG);
        const host = await createDocHost({ db, log: quietLog, redisUrl, namespace, build: projection.build, refresh: projection.build, policy: recordingPolicy() });
        return feedOn(db, host, projection);
      },
      stop: () => dropRedisNamespace(redisUrl as string, namespace),
    };
  },
};

const setups = [hubSetup, ...(prerequisite('Redis tier', redisUrl ? null : 'REDIS_URL is not set') ? [redisSetup] : [])];
const cases = driverCases().flatMap((driver) => setups.map((setup) => ({ ...setup, driver: driver.name, create: driver.create, label: `${driver.name}, ${setup.name}` })));

async function storedDoc(db: Db, userId: string): Promise<Y.Doc> {
  const state = await readSyncDoc(db, userId);
  const doc = new Y.Doc({ gc: true });
  if (state) {
    applyState(doc, state);
  }
  return doc;
}

describe.each(cases)('projection on the document host ($label)', ({ create, starter }) => {
  let t: TestDb;
  let cluster: ReturnType<Setup['starter']>;
  let one: Process;
  let two: Process;
  const ids = { org: randomUUID(), owner: randomUUID(), peer: randomUUID(), box: '' };

  beforeAll(async () => {
    t = await create();
    cluster = starter();
    await t.db.query(`insert into organizations (id, name) values ($1, 'Org')`, [ids.org]);
    for (const [id, name] of [[ids.owner, 'Owner'], [ids.peer, 'Peer']] as const) {
      await t.db.query(`insert into users (id, org_id, email, name, password_hash, role) values ($1, $2, $3, $4, 'x', 'rep')`, [id, ids.org, `${id}@people.test`, name]);
    }
    ids.box = await insertTestMailbox(t.db, { orgId: ids.org, ownerId: ids.owner, address: 'owner@corp.test' });
    const contact = randomUUID();
    await t.db.query(`insert into records (id, org_id, type, owner_id, name) values ($1, $2, 'contact', $3, 'Kim')`, [contact, ids.org, ids.owner]);
    await t.db.query(`insert into record_emails (org_id, address, record_type, record_id, is_primary) values ($1, 'kim@customer.test', 'contact', $2, true)`, [ids.org, contact]);
    await t.db.query(`insert into email_sharing (user_id, org_id, mode) values ($1, $2, 'public')`, [ids.owner, ids.org]);
    one = await cluster.start(t.db);
    two = await cluster.start(t.db);
  });

  afterAll(async () => {
    for (const p of [one, two]) {
      await p?.feed.close();
      await p?.host.close();
    }
    await cluster?.stop();
    await t.drop();
  });

  it('builds each document with the projection, and a change in one process refreshes the other’s documents', async () => {
    const owner = await one.host.open(ids.owner);
    const peer = await two.host.open(ids.peer);
    expect(one.host.writableUserIds()).toContain(ids.owner);
    expect(two.host.writableUserIds()).toContain(ids.peer);
    expect(owner.doc.getMap(MAPS.meta).get('userId')).toBe(ids.owner);
    expect(peer.doc.getMap(MAPS.people).size).toBe(2);
    const heard: Uint8Array[] = [];
    const unsubscribe = two.host.subscribe(ids.peer, (update) => heard.push(update));

    const { threadId } = await insertTestMessage(t.db, { orgId: ids.org, accountId: ids.box, from: 'kim@customer.test', to: ['owner@corp.test'], subject: 'Renewal-quote-7781', text: 'renewal-snippet-7781' });
    one.changes.publish({ kind: 'messages', accountId: ids.box, threadIds: [threadId] });
    await waitUntil(() => owner.doc.getMap(MAPS.threads).has(threadId) && peer.doc.getMap(MAPS.threads).has(threadId), 10_000, 'the thread in both documents');
    await waitUntil(() => heard.length > 0, 5_000, 'the peer’s subscriber to hear the write');
    await Promise.all([one.feed.idle(), two.feed.idle()]);
    expect((await storedDoc(t.db, ids.peer)).getMap(MAPS.threads).has(threadId)).toBe(true);

    await t.db.query(`update email_sharing set mode = 'private' where user_id = $1`, [ids.owner]);
    two.changes.publish({ kind: 'sharing', ownerId: ids.owner });
    await waitUntil(() => !peer.doc.getMap(MAPS.threads).has(threadId), 10_000, 'the revoked thread to leave the peer’s document');
    expect(owner.doc.getMap(MAPS.threads).has(threadId)).toBe(true);
    // The document changes as the write runs; the write (and the refresh) ends once it is stored.
    await Promise.all([one.feed.idle(), two.feed.idle()]);
    const stored = await storedDoc(t.db, ids.peer);
    expect(stored.getMap(MAPS.threads).has(threadId)).toBe(false);
    expect(Buffer.from(Y.encodeStateAsUpdate(stored)).includes('Renewal-quote-7781')).toBe(false);
    expect(Buffer.from(Y.encodeStateAsUpdate(peer.doc)).includes('renewal-snippet-7781')).toBe(false);
    unsubscribe();
    expect(one.feed.stats.failures + two.feed.stats.failures).toBe(0);
  }, 60_000);
});
