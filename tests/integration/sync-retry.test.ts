/**
 * Stored but undecided edits are decided later, never dropped (issue 5): a
 * client's update is stored with what it changed, and the row goes only once
 * the edit policy's decision committed. The crash window is made
 * deterministic with faults injected into the test's dependencies:
 *
 * - a process stores an edit and dies while the policy is deciding it (the
 *   review never returns; the host closes without releasing anything): the
 *   next process to load the document decides it, before refreshing the
 *   document from Postgres (which would otherwise put the old value back);
 * - the decision's transaction fails once (a dropped connection): the same
 *   process retries on its maintenance sweep;
 * - a process dies after the decision committed but before forgetting it:
 *   the second review changes nothing (the write log knows the write);
 * - across processes (in-process hub and lease table, on a shared database):
 *   the holder stores an edit forwarded by another process, acknowledges it
 *   (the forwarding socket moves on) and dies while deciding it; the other
 *   process, whose socket follows the document, takes the lease when it
 *   expires and decides the edit.
 *
 * A forged nested Yjs value stored in the same update is refused on
 * recovery like it would have been live. Every driver.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { readSyncDoc } from '../../db/queries/sync-docs';
import type { Db } from '../../db/types';
import { createDocHost, SyncDocHost } from '../../server/sync/host';
import { createLocalHub } from '../../server/sync/host/bus';
import { createMemoryLeaseTable } from '../../server/sync/host/leases';
import { createEditPolicy } from '../../server/sync/policy/edit-policy';
import { createProjection } from '../../server/sync/projection';
import type { Author, EditPolicy } from '../../server/sync/types';
import { fieldKey, MAPS } from '../../sync/doc/schema';
import { formatStamp } from '../../sync/hlc';
import { driverCases, type TestDb } from '../helpers/db';
import { FAST, quietLog, waitUntil } from '../helpers/sync-host';
import { seedPolicyOrg, type PolicyOrg } from '../helpers/sync-policy-org';

interface StoredReview {
  seq: number;
  author_id: string;
  session_id: string;
  changes: unknown;
}

/** `db` with some of its members replaced (read when called, so a replacement may change meanwhile). */
function overriding(db: Db, replace: (prop: string | symbol) => unknown): Db {
  return new Proxy(db, {
    get(target, prop, receiver) {
      const replacement = replace(prop);
      if (replacement !== undefined) {
        return replacement;
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const dropped = () => Object.assign(new Error('terminating connection due to administrator command (injected)'), { code: '57P01' });

/** The policy's database, whose next transaction fails as a dropped connection would. */
function faultyDb(db: Db): { db: Db; failNextTransaction(): void; failures: number } {
  const state = { armed: false, failures: 0 };
  const failing = async () => {
    state.armed = false;
    state.failures += 1;
    throw dropped();
  };
  return {
    db: overriding(db, (prop) => (prop === 'transaction' && state.armed ? failing : undefined)),
    failNextTransaction: () => (state.armed = true),
    get failures() {
      return state.failures;
    },
  };
}

/** The host's database, whose appends of document updates wait while held, and can fail once. */
function heldAppends(db: Db): { db: Db; hold(): void; release(): void; failNext(): void } {
  let gate: Promise<void> | null = null;
  let open = () => {};
  let failing = false;
  const query = async (text: string, params?: readonly unknown[]) => {
    if (text.includes('insert into sync_doc_updates')) {
      await gate;
      if (failing) {
        failing = false;
        throw dropped();
      }
    }
    return db.query(text, params);
  };
  return {
    db: overriding(db, (prop) => (prop === 'query' ? query : undefined)),
    hold: () => (gate = new Promise<void>((resolve) => (open = resolve))),
    failNext: () => (failing = true),
    release: () => {
      gate = null;
      open();
    },
  };
}

/** A policy whose first review starts and never finishes: the process "dies" inside it. */
function dyingPolicy(inner: EditPolicy): EditPolicy & { entered: boolean } {
  const policy = {
    entered: false,
    review: (...args: Parameters<EditPolicy['review']>) => {
      if (!policy.entered) {
        policy.entered = true;
        return new Promise<void>(() => {});
      }
      return inner.review(...args);
    },
  };
  return policy;
}

describe.each(driverCases())('undecided edits are retried on $name', ({ create }) => {
  let t: TestDb;
  let org: PolicyOrg;
  const hosts: SyncDocHost[] = [];
  let clock = Date.now();
  const stamp = () => formatStamp({ wallMs: (clock = Math.max(clock + 1, Date.now())), counter: 0, node: 'retry-dev' });
  const author = (): Author => ({ userId: org.ana, sessionId: `s-${org.ana}`, connectionId: randomUUID() });

  const engineParts = (policyDb: Db, wrap: (p: EditPolicy) => EditPolicy, hostDb: Db = t.db) => {
    const projection = createProjection(t.db, { syncWindowDays: 90, syncMaxThreads: 5000 });
    const policy = wrap(
      createEditPolicy({ db: policyDb, log: quietLog, now: () => Date.now(), canonicalValue: (hosted, map, key) => projection.canonicalValue(hosted.userId, map as never, key, hosted.doc) }),
    );
    return { db: hostDb, log: quietLog, build: projection.build, refresh: projection.build, policy, options: FAST };
  };
  const startHost = async (policyDb: Db = t.db, wrap: (p: EditPolicy) => EditPolicy = (p) => p, hostDb: Db = t.db) => {
    const host = await createDocHost(engineParts(policyDb, wrap, hostDb));
    hosts.push(host);
    return host;
  };

  /** A client in sync with the host's copy makes an edit; @returns the update it sends. */
  const editOf = async (host: SyncDocHost, fn: (doc: Y.Doc) => void): Promise<Uint8Array> => {
    const server = (await host.open(org.ana)).doc;
    const client = new Y.Doc();
    Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
    client.transact(() => fn(client));
    return Y.encodeStateAsUpdate(client, Y.encodeStateVector(server));
  };

  const pending = () => t.db.query<StoredReview>('select seq, author_id, session_id, changes from sync_doc_reviews where user_id = $1 order by seq', [org.ana]);
  const stored = async (threadId: string, field: string) =>
    (await t.db.query<{ value: unknown; hlc: string }>('select value, hlc from thread_fields where thread_id = $1 and field = $2', [threadId, field]))[0];
  const logged = (key: string) => t.db.query<{ hlc: string; outcome: string }>('select hlc, outcome from sync_writes where user_id = $1 and key = $2', [org.ana, `${MAPS.fields}:${key}`]);
  const fieldIn = async (host: SyncDocHost, key: string) => (await host.open(org.ana)).doc.getMap(MAPS.fields).get(key);

  beforeAll(async () => {
    t = await create();
    org = await seedPolicyOrg(t.db);
  });

  afterAll(async () => {
    for (const host of hosts) {
      await host.close({ release: false });
    }
    await t?.drop();
  });

  let leftOver: StoredReview;
  const status = () => fieldKey(org.shared[0] as string, 'status');

  it('the next process decides an edit stored by one that died while deciding it', async () => {
    const forged = fieldKey(org.shared[1] as string, 'labels');
    let policy: ReturnType<typeof dyingPolicy> | null = null;
    const first = await startHost(t.db, (p) => (policy = dyingPolicy(p)));
    const value = { v: 'done', hlc: stamp() };
    const update = await editOf(first, (doc) => {
      doc.getMap(MAPS.fields).set(status(), value);
      doc.getMap(MAPS.fields).set(forged, new Y.Map());
    });
    void first.receive(org.ana, update, author()).catch(() => {});
    // The review begins while the update is being stored.
    await waitUntil(async () => policy?.entered === true && (await pending()).length === 1, 5_000, 'the review to begin and the update to be stored');
    // Stored (the author's other sockets may already show it), not decided.
    expect(await fieldIn(first, status())).toEqual(value);
    const rows = await pending();
    expect(rows).toHaveLength(1);
    expect(await stored(org.shared[0] as string, 'status')).toBeUndefined();
    leftOver = rows[0] as StoredReview;
    // The process dies: nothing is released or finished.
    await first.close({ release: false });

    const second = await startHost();
    expect(await fieldIn(second, status())).toEqual(value);
    expect(await stored(org.shared[0] as string, 'status')).toEqual({ value: 'done', hlc: value.hlc });
    expect(await logged(status())).toEqual([{ hlc: value.hlc, outcome: 'applied' }]);
    // The forged nested type was refused and removed, as it would have been live.
    expect(await fieldIn(second, forged)).toBeUndefined();
    expect(await pending()).toEqual([]);
    await second.close();
  });

  it('decides an edit while its update is still being stored, and stores the correction after the update', async () => {
    const gate = heldAppends(t.db);
    const host = await startHost(t.db, (p) => p, gate.db);
    const key = fieldKey(org.shared[1] as string, 'status');
    const forged = fieldKey(org.shared[1] as string, 'snoozeUntil');
    const value = { v: 'pending', hlc: stamp() };
    const update = await editOf(host, (doc) => {
      doc.getMap(MAPS.fields).set(key, value);
      doc.getMap(MAPS.fields).set(forged, new Y.Map());
    });
    const before = (await readSyncDoc(t.db, org.ana))?.tail.length ?? 0;
    gate.hold();
    let acknowledged = false;
    const receiving = host.receive(org.ana, update, author()).then(() => (acknowledged = true));
    await waitUntil(async () => (await logged(key)).length === 1, 5_000, 'the decision to commit');
    // Decided while the update waits to be stored: nothing acknowledged, nothing stored yet.
    expect(await stored(org.shared[1] as string, 'status')).toEqual({ value: 'pending', hlc: value.hlc });
    expect(await pending()).toEqual([]);
    expect(acknowledged).toBe(false);
    gate.release();
    await receiving;
    await waitUntil(async () => (await pending()).length === 0, 5_000, 'the stored changes to be forgotten');

    // The update, then its correction: a load that stops after any seq never waits for a missing dependency.
    const row = await readSyncDoc(t.db, org.ana);
    const tail = (row?.tail ?? []).slice(before);
    expect(tail.length).toBeGreaterThanOrEqual(2);
    const clientsOf = (bytes: Uint8Array) => new Set(Y.decodeUpdate(bytes).structs.map((struct) => struct.id.client));
    const [editor] = clientsOf(update);
    expect(clientsOf(tail[0]?.update as Uint8Array).has(editor as number)).toBe(true);
    expect(tail.slice(1).some((r) => !clientsOf(r.update).has(editor as number))).toBe(true);
    const replay = new Y.Doc();
    Y.applyUpdate(replay, row?.snapshot as Uint8Array);
    for (const r of row?.tail ?? []) {
      Y.applyUpdate(replay, r.update);
      expect(replay.store.pendingStructs).toBeNull();
      expect(replay.store.pendingDs).toBeNull();
    }
    expect(replay.getMap(MAPS.fields).get(key)).toEqual(value);
    expect(replay.getMap(MAPS.fields).has(forged)).toBe(false);
    expect((await host.open(org.ana)).doc.getMap(MAPS.fields).toJSON()).toEqual(replay.getMap(MAPS.fields).toJSON());
    await host.close();
  });

  it('loses nothing when the update fails to be stored after its decision committed', async () => {
    const gate = heldAppends(t.db);
    const host = await startHost(t.db, (p) => p, gate.db);
    const key = fieldKey(org.shared[2] as string, 'labels');
    const value = { v: ['stored-late'], hlc: stamp() };
    const update = await editOf(host, (doc) => doc.getMap(MAPS.fields).set(key, value));
    gate.hold();
    const receiving = host.receive(org.ana, update, author());
    await waitUntil(async () => (await logged(key)).length === 1, 5_000, 'the decision to commit');
    gate.failNext();
    gate.release();
    // The store fails; the host reloads the document and applies the update again, and the write log answers its review.
    await receiving;
    await waitUntil(async () => (await pending()).length === 0, 5_000, 'the stored changes to be forgotten');
    expect(await stored(org.shared[2] as string, 'labels')).toEqual({ value: ['stored-late'], hlc: value.hlc });
    expect(await logged(key)).toEqual([{ hlc: value.hlc, outcome: 'applied' }]);
    expect(await fieldIn(host, key)).toEqual(value);
    const replay = new Y.Doc();
    const row = await readSyncDoc(t.db, org.ana);
    Y.applyUpdate(replay, row?.snapshot as Uint8Array);
    (row?.tail ?? []).forEach((r) => Y.applyUpdate(replay, r.update));
    expect(replay.getMap(MAPS.fields).get(key)).toEqual(value);
    await host.close();
  });

  it('a second review of an edit already decided changes nothing', async () => {
    const before = await stored(org.shared[0] as string, 'status');
    // A process that died between the decision's commit and forgetting the update.
    await t.db.query('insert into sync_doc_reviews (user_id, seq, author_id, session_id, changes) values ($1, $2, $3, $4, $5::text::jsonb)', [
      org.ana,
      leftOver.seq,
      leftOver.author_id,
      leftOver.session_id,
      JSON.stringify(leftOver.changes),
    ]);
    const third = await startHost();
    const value = await fieldIn(third, status());
    expect(await pending()).toEqual([]);
    expect(await stored(org.shared[0] as string, 'status')).toEqual(before);
    expect(await logged(status())).toHaveLength(1);
    expect(value).toEqual({ v: before?.value, hlc: before?.hlc });
    await third.close();
  });

  it('the same process retries an edit whose decision failed', async () => {
    const faulty = faultyDb(t.db);
    const host = await startHost(faulty.db);
    const key = fieldKey(org.shared[2] as string, 'assignee');
    const value = { v: org.ben, hlc: stamp() };
    const update = await editOf(host, (doc) => doc.getMap(MAPS.fields).set(key, value));
    faulty.failNextTransaction();
    await expect(host.receive(org.ana, update, author())).rejects.toThrow(/injected/);
    expect(faulty.failures).toBe(1);
    expect(await pending()).toHaveLength(1);
    // Re-sending the update (the client reconnects) changes nothing in the document: only the stored row can bring the decision.
    await host.receive(org.ana, update, author());
    await waitUntil(async () => (await pending()).length === 0, 5_000, 'the retry on the sweep');
    expect(await stored(org.shared[2] as string, 'assignee')).toEqual({ value: org.ben, hlc: value.hlc });
    expect(await fieldIn(host, key)).toEqual(value);
    await host.close();
  });

  it('another process decides an edit it forwarded once the holder died deciding it', async () => {
    const hub = createLocalHub();
    const leases = createMemoryLeaseTable(FAST.lease);
    let policy: ReturnType<typeof dyingPolicy> | null = null;
    const holder = new SyncDocHost({ ...engineParts(t.db, (p) => (policy = dyingPolicy(p))), bus: hub.connect('holder'), leases: leases.connect('holder') });
    const other = new SyncDocHost({ ...engineParts(t.db, (p) => p), bus: hub.connect('other'), leases: leases.connect('other') });
    hosts.push(holder, other);
    await holder.open(org.ana);
    // A socket on the other process follows the document (a replica there).
    other.subscribe(org.ana, () => {});
    const key = fieldKey(org.own, 'labels');
    const value = { v: ['forwarded'], hlc: stamp() };
    const update = await editOf(other, (doc) => doc.getMap(MAPS.fields).set(key, value));
    // Acknowledged once the holder stored it; its review then never returns.
    await other.receive(org.ana, update, author());
    await waitUntil(() => policy?.entered === true, 5_000, 'the holder’s review to begin');
    expect(await pending()).toHaveLength(1);
    expect(await stored(org.own, 'labels')).toBeUndefined();
    await holder.close({ release: false });
    await waitUntil(async () => (await pending()).length === 0, 10_000, 'the takeover’s review');
    expect(await stored(org.own, 'labels')).toEqual({ value: ['forwarded'], hlc: value.hlc });
    await waitUntil(() => JSON.stringify(other.findWritable(org.ana)?.doc.getMap(MAPS.fields).get(key)) === JSON.stringify(value), 5_000, 'the decided value in the new holder’s document');
  });
});
