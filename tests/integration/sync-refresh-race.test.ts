/**
 * A projection refresh that read Postgres before an edit was decided must
 * not write the older value over it once the edit is acknowledged. On
 * Postgres the refresh's reads run beside the review's transaction (a pool),
 * so this happened on its own; here the refresh's read of the canonical
 * fields is held until the edit is acknowledged, on every driver, so the
 * interleaving is the same each run.
 */
import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../db/types';
import { createLocalHub } from '../../server/sync/host/bus';
import { SyncDocHost } from '../../server/sync/host/doc-host';
import { createMemoryLeaseTable } from '../../server/sync/host/leases';
import { createEditPolicy } from '../../server/sync/policy/edit-policy';
import { createProjection, Projection } from '../../server/sync/projection';
import type { HostedDoc } from '../../server/sync/types';
import { fieldKey, MAPS, type ThreadField } from '../../sync/doc/schema';
import { formatStamp } from '../../sync/hlc';
import { driverCases, type TestDb } from '../helpers/db';
import { insertTestMailbox, insertTestMessage } from '../helpers/mail-rows';
import { author, quietLog } from '../helpers/sync-host';

const CONFIG = { syncWindowDays: 90, syncMaxThreads: 5000 };

/** A Queryable whose reads of canonical fields run at once but answer only when released. */
function heldFieldReads(db: Queryable) {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let reached = () => {};
  const read = new Promise<void>((resolve) => (reached = resolve));
  const q: Queryable = {
    async query<Row extends object>(text: string, params?: readonly unknown[]) {
      const rows = await db.query<Row>(text, params);
      if (text.includes('from thread_fields')) {
        reached();
        await released;
      }
      return rows;
    },
  };
  return { q, read, release };
}

/** What a client sends after setting a field on its copy of the document. */
function clientEdit(server: Y.Doc, threadId: string, field: ThreadField, value: { v: unknown; hlc: string }): Uint8Array {
  const client = new Y.Doc({ gc: true });
  Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
  const before = Y.encodeStateVector(client);
  client.getMap(MAPS.fields).set(fieldKey(threadId, field), value);
  return Y.encodeStateAsUpdate(client, before);
}

describe.each(driverCases())('a refresh racing an acknowledged edit ($name)', ({ create }) => {
  let t: TestDb;
  let host: SyncDocHost;
  const ids = { org: randomUUID(), ana: randomUUID(), thread: '', fresh: '' };
  const stamp = (wallMs: number) => formatStamp({ wallMs, counter: 0, node: 'dev-ana' });

  beforeAll(async () => {
    t = await create();
    const db: Db = t.db;
    await db.query(`insert into organizations (id, name) values ($1, 'Org')`, [ids.org]);
    await db.query(`insert into users (id, org_id, email, name, password_hash, role) values ($1, $2, 'ana@corp.test', 'Ana', 'x', 'rep')`, [ids.ana, ids.org]);
    const box = await insertTestMailbox(db, { orgId: ids.org, ownerId: ids.ana, address: 'ana@corp.test' });
    const mail = (subject: string) => insertTestMessage(db, { orgId: ids.org, accountId: box, from: 'kim@customer.test', to: ['ana@corp.test'], subject });
    ids.thread = (await mail('Quote')).threadId;
    ids.fresh = (await mail('Renewal')).threadId;
    await db.query(`insert into thread_fields (thread_id, field, value, hlc) values ($1, 'status', '"pending"', $2)`, [ids.thread, stamp(Date.now() - 60_000)]);
    const projection = createProjection(db, CONFIG);
    const policy = createEditPolicy({
      db,
      log: quietLog,
      now: () => Date.now(),
      canonicalValue: (hosted, map, key) => projection.canonicalValue(hosted.userId, map as never, key, hosted.doc),
      // No fan-out: a stale write would be the last word, not corrected by the next refresh.
      onApplied: () => {},
    });
    const processId = randomUUID();
    host = new SyncDocHost({
      db,
      log: quietLog,
      bus: createLocalHub().connect(processId),
      leases: createMemoryLeaseTable().connect(processId),
      build: projection.build,
      refresh: projection.build,
      policy,
    });
  });

  afterAll(async () => {
    await host?.close();
    await t?.drop();
  });

  const field = (hosted: HostedDoc, threadId: string, name: ThreadField) => hosted.doc.getMap(MAPS.fields).get(fieldKey(threadId, name));

  it.each([
    { what: 'a field refresh (the fan-out)', run: (p: Projection, hosted: HostedDoc, threadId: string) => p.refreshFields([{ userId: ids.ana, hosted }], [threadId]) },
    { what: 'a scoped refresh', run: (p: Projection, hosted: HostedDoc, threadId: string) => p.refresh(ids.ana, { fieldThreadIds: [threadId] }, hosted) },
    { what: 'a full refresh', run: (p: Projection, hosted: HostedDoc) => p.refresh(ids.ana, { all: true }, hosted) },
  ])('keeps the acknowledged value when $what read the older one', async ({ run }) => {
    const hosted = await host.open(ids.ana);
    const before = field(hosted, ids.thread, 'status') as { v: unknown; hlc: string };
    expect(before).toMatchObject({ v: expect.any(String) });
    const held = heldFieldReads(t.db);
    const stale = new Projection(held.q, { windowDays: CONFIG.syncWindowDays, maxThreads: CONFIG.syncMaxThreads });
    const refreshing = run(stale, hosted, ids.thread);
    await held.read;

    const next = before.v === 'done' ? 'open' : 'done';
    const edit = { v: next, hlc: stamp(Date.now()) };
    await host.receive(ids.ana, clientEdit(hosted.doc, ids.thread, 'status', edit), author(ids.ana));
    const [row] = await t.db.query<{ value: unknown; hlc: string }>(`select value, hlc from thread_fields where thread_id = $1 and field = 'status'`, [ids.thread]);
    expect(row).toEqual({ value: next, hlc: edit.hlc });
    expect(field(hosted, ids.thread, 'status')).toEqual(edit);

    held.release();
    await refreshing;
    expect(field(hosted, ids.thread, 'status')).toEqual(edit);
  });

  it('keeps a first value of a field that had no row when the refresh read', async () => {
    const hosted = await host.open(ids.ana);
    expect(field(hosted, ids.fresh, 'assignee')).toBeUndefined();
    const held = heldFieldReads(t.db);
    const stale = new Projection(held.q, { windowDays: CONFIG.syncWindowDays, maxThreads: CONFIG.syncMaxThreads });
    const refreshing = stale.refreshFields([{ userId: ids.ana, hosted }], [ids.fresh]);
    await held.read;

    const edit = { v: ids.ana, hlc: stamp(Date.now()) };
    await host.receive(ids.ana, clientEdit(hosted.doc, ids.fresh, 'assignee', edit), author(ids.ana));
    expect(field(hosted, ids.fresh, 'assignee')).toEqual(edit);

    held.release();
    await refreshing;
    expect(field(hosted, ids.fresh, 'assignee')).toEqual(edit);
  });

  it('still takes a newer stored value, and drops the fields of a thread that left the document', async () => {
    const hosted = await host.open(ids.ana);
    await t.db.query(`update thread_fields set value = '"pending"', hlc = $2 where thread_id = $1 and field = 'status'`, [ids.thread, stamp(Date.now() + 1000)]);
    const projection = createProjection(t.db, CONFIG);
    await projection.refreshFields([{ userId: ids.ana, hosted }], [ids.thread]);
    expect(field(hosted, ids.thread, 'status')).toMatchObject({ v: 'pending' });

    await t.db.query('delete from messages where thread_id = $1', [ids.thread]);
    await projection.refresh(ids.ana, { all: true }, hosted);
    expect(hosted.doc.getMap(MAPS.threads).has(ids.thread)).toBe(false);
    expect(field(hosted, ids.thread, 'status')).toBeUndefined();
  });
});
