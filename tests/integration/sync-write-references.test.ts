/**
 * The references of the review's write tables (migration 0010) on every
 * driver: thread_fields, thread_user_fields and sync_writes check the thread
 * and person they name once per statement instead of once per row, and keep
 * what their foreign keys did: a missing row fails the whole statement with
 * SQLSTATE 23503, a delete cascades (or clears the actor), and on Postgres a
 * concurrent delete waits for the writer's commit, so it never leaves a row
 * behind.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertSyncWrites } from '../../db/queries/sync-writes';
import { writePersonalFields, writeSharedFields, type FieldWrite } from '../../db/queries/thread-fields';
import type { Queryable } from '../../db/types';
import { driverCases, type TestDb } from '../helpers/db';
import { insertPeople, waitUntil } from '../helpers/sync-host';

const HLC = '0001700000000000-0000-aaaaaaaa';

async function insertThreads(q: Queryable, userId: string, n: number): Promise<string[]> {
  const [person] = await q.query<{ orgId: string }>('select org_id as "orgId" from users where id = $1', [userId]);
  const ids = Array.from({ length: n }, () => randomUUID());
  for (const id of ids) {
    await q.query('insert into threads (id, org_id, subject) values ($1, $2, $3)', [id, person?.orgId, 'References']);
  }
  return ids;
}

const status = (threadId: string): FieldWrite => ({ threadId, field: 'status', value: 'done', hlc: HLC });
const read = (threadId: string): FieldWrite => ({ threadId, field: 'read', value: true, hlc: HLC });
const logged = (key: string) => ({ key, hlc: HLC, value: null, outcome: 'applied' as const, reason: null });

async function count(q: Queryable, sql: string, params: unknown[]): Promise<number> {
  const [row] = await q.query<{ n: number }>(`select count(*)::int as n from ${sql}`, params);
  return row?.n ?? -1;
}

function sqlState(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

async function refusal(write: Promise<unknown>): Promise<unknown> {
  try {
    await write;
  } catch (error) {
    return sqlState(error);
  }
  return 'written';
}

describe.each(driverCases())('sync write references on $name', ({ create }) => {
  let t: TestDb;
  let people: string[];
  let threads: string[];

  beforeAll(async () => {
    t = await create();
    people = await insertPeople(t.db, 2);
    threads = await insertThreads(t.db, people[0] as string, 3);
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('refuses a whole statement naming a missing thread or person with 23503, writing none of it', async () => {
    const [me] = people as [string];
    const missing = randomUUID();
    const good = threads.map(status);
    expect(await refusal(writeSharedFields(t.db, me, [...good, status(missing)]))).toBe('23503');
    expect(await refusal(writeSharedFields(t.db, missing, good))).toBe('23503');
    expect(await refusal(writePersonalFields(t.db, me, [...threads.map(read), read(missing)]))).toBe('23503');
    expect(await refusal(writePersonalFields(t.db, missing, threads.map(read)))).toBe('23503');
    expect(await refusal(insertSyncWrites(t.db, missing, [logged('fields:a'), logged('fields:b')]))).toBe('23503');
    expect(await count(t.db, 'thread_fields where thread_id = any($1::uuid[])', [threads])).toBe(0);
    expect(await count(t.db, 'thread_user_fields where thread_id = any($1::uuid[])', [threads])).toBe(0);
    expect(await count(t.db, 'sync_writes where user_id = $1', [missing])).toBe(0);

    expect((await writeSharedFields(t.db, me, good)).size).toBe(3);
    expect((await writePersonalFields(t.db, me, threads.map(read))).size).toBe(3);
    await insertSyncWrites(t.db, me, [logged('fields:a'), logged('fields:b')]);
    expect(await count(t.db, 'sync_writes where user_id = $1', [me])).toBe(2);
  });

  it('checks an overwrite\'s new actor too', async () => {
    const [me] = people as [string];
    const [thread] = await insertThreads(t.db, me, 1) as [string];
    await writeSharedFields(t.db, me, [status(thread)]);
    const later = { ...status(thread), hlc: '0001700000000001-0000-aaaaaaaa' };
    expect(await refusal(writeSharedFields(t.db, randomUUID(), [later]))).toBe('23503');
    expect(await t.db.query('select hlc from thread_fields where thread_id = $1', [thread])).toEqual([{ hlc: HLC }]);
  });

  it('deletes a thread\'s fields with the thread, and a person\'s own fields and write log with the person, clearing their name as an actor', async () => {
    const [owner, actor] = await insertPeople(t.db, 2) as [string, string];
    const [kept, gone] = await insertThreads(t.db, owner, 2) as [string, string];
    await writeSharedFields(t.db, actor, [status(kept), status(gone)]);
    await writePersonalFields(t.db, actor, [read(kept), read(gone)]);
    await writePersonalFields(t.db, owner, [read(kept)]);
    await insertSyncWrites(t.db, actor, [logged('fields:x')]);

    await t.db.query('delete from threads where id = $1', [gone]);
    expect(await count(t.db, 'thread_fields where thread_id = $1', [gone])).toBe(0);
    expect(await count(t.db, 'thread_user_fields where thread_id = $1', [gone])).toBe(0);
    expect(await count(t.db, 'thread_fields where thread_id = $1 and actor_id = $2', [kept, actor])).toBe(1);

    await t.db.query('delete from users where id = $1', [actor]);
    expect(await t.db.query('select actor_id as "actorId", value from thread_fields where thread_id = $1', [kept])).toEqual([{ actorId: null, value: 'done' }]);
    expect(await count(t.db, 'thread_user_fields where user_id = $1', [actor])).toBe(0);
    expect(await count(t.db, 'thread_user_fields where user_id = $1', [owner])).toBe(1);
    expect(await count(t.db, 'sync_writes where user_id = $1', [actor])).toBe(0);
  });
});

// PGlite has one connection: nothing runs concurrently there.
describe.each(driverCases().filter((c) => c.name === 'postgres'))('sync write references under concurrency on $name', ({ create }) => {
  let t: TestDb;
  let me: string;

  beforeAll(async () => {
    t = await create();
    [me] = (await insertPeople(t.db, 1)) as [string];
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('makes a concurrent delete of the thread wait for the writer\'s commit, then cascade over what it wrote', async () => {
    const [thread] = await insertThreads(t.db, me, 1) as [string];
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let written = () => {};
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const writer = t.db.transaction(async (tx) => {
      await writeSharedFields(tx, me, [status(thread)]);
      written();
      await held;
    });
    await wrote;
    const deletion = t.db.query('delete from threads where id = $1', [thread]);
    const waiting = () => count(t.db, "pg_stat_activity where wait_event_type = 'Lock' and query like 'delete from threads%'", []).then((n) => n === 1);
    await waitUntil(waiting, 5_000, 'the delete waiting for the writer');
    release();
    await writer;
    await deletion;
    expect(await count(t.db, 'thread_fields where thread_id = $1', [thread])).toBe(0);
  });
});
