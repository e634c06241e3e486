/**
 * One contract for the storage interface, run on every driver. Test names
 * cite the rule they check ([DB1]…), after tldraw's storage contract suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, pendingMigrations } from '../../db';
import { copyRows, insertRows, type TypedColumn } from '../../db/bulk';
import { isUniqueViolation } from '../../db/errors';
import { replaceGroupMembers, insertGroup, findGroup } from '../../db/queries/groups';
import { findThrottle, recordFailure } from '../../db/queries/login-throttle';
import { insertOrganization } from '../../db/queries/organizations';
import { findSession, insertSession } from '../../db/queries/sessions';
import { findUserByEmail, insertUser, listUsers } from '../../db/queries/users';
import { createPostgresDb, driverCases, type DriverCase, type TestDb } from '../helpers/db';

/** Postgres again without prepared statements (DATABASE_PREPARED_STATEMENTS=false, behind a pooler). */
const unprepared = (cases: readonly DriverCase[]): { name: string; create(): Promise<TestDb> }[] =>
  cases.some((c) => c.name === 'postgres') ? [{ name: 'postgres, unprepared', create: () => createPostgresDb(process.env.TEST_DATABASE_URL as string, 'shoal_t', { prepare: false }) }] : [];

const cases = driverCases();

describe.each([...cases, ...unprepared(cases)])('db contract on $name', ({ create }) => {
  let t: TestDb;
  let orgId: string;

  beforeAll(async () => {
    t = await create();
    orgId = crypto.randomUUID();
    await insertOrganization(t.db, { id: orgId, name: 'Contract Co' });
  });
  afterAll(async () => {
    await t?.drop();
  });

  const newUser = (email: string) => ({
    id: crypto.randomUUID(),
    orgId,
    email,
    name: 'Nia',
    passwordHash: 'x',
    role: 'rep' as const,
    managerId: null,
  });

  it('[DB1] applies every migration once and records it; a second run applies nothing', async () => {
    expect(await pendingMigrations(t.db)).toEqual([]);
    expect(await migrate(t.db)).toEqual([]);
    const rows = await t.db.query<{ version: number }>('select version from shoal_migrations order by version');
    expect(rows.map((r) => r.version)).toEqual((await loadMigrations()).map((m) => m.version));
  });

  it('[DB2] refuses to run when an applied migration file was edited', async () => {
    const edited = (await loadMigrations()).map((m) => ({ ...m, checksum: `${m.checksum}x` }));
    await expect(migrate(t.db, edited)).rejects.toThrow(/changed after it was applied/);
  });

  it('[DB3] a failing migration rolls back entirely and is not recorded', async () => {
    const bad = { version: 9999, name: 'broken', checksum: 'c', sql: 'create table half_done (id int); select nope_fn();' };
    await expect(migrate(t.db, [...(await loadMigrations()), bad])).rejects.toThrow();
    expect(await t.db.query(`select 1 from information_schema.tables where table_name = 'half_done'`)).toEqual([]);
    expect(await pendingMigrations(t.db, [bad])).toEqual([9999]);
  });

  it('[DB4] a transaction commits on success and rolls back on throw', async () => {
    const kept = newUser('kept@contract.test');
    const dropped = newUser('dropped@contract.test');
    await t.db.transaction((tx) => insertUser(tx, kept));
    await expect(
      t.db.transaction(async (tx) => {
        await insertUser(tx, dropped);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await findUserByEmail(t.db, kept.email)).not.toBeNull();
    expect(await findUserByEmail(t.db, dropped.email)).toBeNull();
  });

  it('[DB5] a duplicate email is a unique violation recognised on every driver', async () => {
    await insertUser(t.db, newUser('dup@contract.test'));
    const error = await insertUser(t.db, newUser('dup@contract.test')).catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    expect(isUniqueViolation(new Error('other'))).toBe(false);
  });

  it('[DB6] types come back the same on every driver: Date, Uint8Array, number, string[]', async () => {
    const user = await insertUser(t.db, newUser('types@contract.test'));
    const secretHash = new Uint8Array([0, 1, 2, 250, 255]);
    const now = new Date('2026-11-23T10:00:00.123Z');
    await insertSession(t.db, { id: 'typesession', secretHash, userId: user.id, lastVerifiedAt: now, expiresAt: now });
    const session = await findSession(t.db, 'typesession');
    expect(session?.expiresAt).toBeInstanceOf(Date);
    expect(session?.expiresAt.toISOString()).toBe(now.toISOString());
    expect(Array.from(session?.secretHash ?? [])).toEqual([0, 1, 2, 250, 255]);
    const [count] = await t.db.query<{ n: number }>('select count(*) as n from users');
    expect(typeof count?.n).toBe('number');
    const people = await listUsers(t.db, orgId);
    expect(Array.isArray(people[0]?.groupIds)).toBe(true);
  });

  it('[DB7] group members are replaced exactly, duplicates and all', async () => {
    const a = await insertUser(t.db, newUser('a@contract.test'));
    const b = await insertUser(t.db, newUser('b@contract.test'));
    const groupId = crypto.randomUUID();
    await insertGroup(t.db, { id: groupId, orgId, name: 'Closers' });
    await replaceGroupMembers(t.db, groupId, [a.id, b.id]);
    await replaceGroupMembers(t.db, groupId, [b.id]);
    expect((await findGroup(t.db, orgId, groupId))?.memberIds).toEqual([b.id]);
    await replaceGroupMembers(t.db, groupId, []);
    expect((await findGroup(t.db, orgId, groupId))?.memberIds).toEqual([]);
  });

  it('[DB8] concurrent failures are all counted and the lock follows the schedule', async () => {
    const now = new Date('2026-11-23T10:00:00Z');
    const schedule = [1000, 2000, 4000];
    await Promise.all(Array.from({ length: 5 }, () => recordFailure(t.db, 'account:race', now, schedule)));
    const state = await findThrottle(t.db, 'account:race');
    expect(state?.failures).toBe(5);
    expect(state ? state.lockedUntil.getTime() - now.getTime() : -1).toBe(4000);
  });

  it('[DB9] a query error inside a transaction leaves the handle usable', async () => {
    await expect(t.db.transaction((tx) => tx.query('select * from no_such_table'))).rejects.toThrow();
    expect(await t.db.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('[DB10] a lease is exclusive until released, then free again', async () => {
    const first = await t.db.tryLease('mail-account:contract');
    expect(first).not.toBeNull();
    expect(await first?.alive()).toBe(true);
    expect(await t.db.tryLease('mail-account:contract')).toBeNull();
    const other = await t.db.tryLease('mail-account:other');
    expect(other).not.toBeNull();
    await first?.release();
    expect(await first?.alive()).toBe(false);
    const again = await t.db.tryLease('mail-account:contract');
    expect(again).not.toBeNull();
    await again?.release();
    await other?.release();
  });

  it('[DB11] JSON written as text::jsonb reads back as the same value, single and bulk', async () => {
    // A plain table: a temporary one would live on a single pooled connection only.
    await t.db.exec('create table json_probe (id int, doc jsonb)');
    const doc = { to: [{ address: 'a@b.test', name: 'A' }], n: 1 };
    await t.db.query('insert into json_probe values ($1, $2::text::jsonb)', [1, JSON.stringify(doc)]);
    await insertRows(t.db, 'json_probe', ['id', 'doc::text::jsonb'], [[2, JSON.stringify(doc)], [3, JSON.stringify([])]]);
    const rows = await t.db.query<{ id: number; doc: unknown; kind: string }>(
      'select id, doc, jsonb_typeof(doc) as kind from json_probe order by id',
    );
    expect(rows.map((r) => r.kind)).toEqual(['object', 'object', 'array']);
    expect(rows[0]?.doc).toEqual(doc);
    expect(rows[1]?.doc).toEqual(doc);
    await t.db.exec('drop table json_probe');
  });

  it('[DB12] binary COPY stores every encoded type as INSERT would; a rejected COPY rolls back without hanging', async () => {
    await t.db.exec(
      `create table copy_probe (id uuid primary key, name text, tags text[], doc jsonb, at timestamptz,
         n int, big bigint, ok boolean, bytes bytea)`,
    );
    const columns: TypedColumn[] = [
      { name: 'id', type: 'uuid' },
      { name: 'name', type: 'text' },
      { name: 'tags', type: 'text[]' },
      { name: 'doc', type: 'jsonb' },
      { name: 'at', type: 'timestamptz' },
      { name: 'n', type: 'int4' },
      { name: 'big', type: 'int8' },
      { name: 'ok', type: 'bool' },
      { name: 'bytes', type: 'bytea' },
    ];
    const large = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 7) % 256);
    const ids = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const rows = [
      [ids[0], 'Zoë 😀 "quoted"\ttab', ['a', 'b,c', ''], JSON.stringify({ to: [{ address: 'a@b.test' }] }), new Date('1999-12-31T23:59:59.123Z'), -5, 2 ** 40, true, large],
      [ids[1], '', [], JSON.stringify([]), new Date('2026-11-23T10:00:00.001Z'), 0, 0, false, new Uint8Array([0, 255])],
      [ids[2], null, [], JSON.stringify('text'), null, null, null, null, null],
    ];
    await t.db.transaction((tx) => copyRows(tx, 'copy_probe', columns, rows));
    const back = await t.db.query<{ id: string; name: string | null; tags: string[]; doc: unknown; at: Date | null; n: number | null; big: number | null; ok: boolean | null; bytes: Uint8Array | null }>(
      'select id, name, tags, doc, at, n, big, ok, bytes from copy_probe order by at nulls last',
    );
    expect(back.map((r) => r.id)).toEqual(ids);
    expect(back[0]).toMatchObject({ name: 'Zoë 😀 "quoted"\ttab', tags: ['a', 'b,c', ''], doc: { to: [{ address: 'a@b.test' }] }, n: -5, big: 2 ** 40, ok: true });
    expect(back[0]?.at?.toISOString()).toBe('1999-12-31T23:59:59.123Z');
    expect(Buffer.from(back[0]?.bytes ?? []).equals(Buffer.from(large))).toBe(true);
    expect(back[1]).toMatchObject({ name: '', tags: [], doc: [], n: 0, big: 0, ok: false });
    expect(Array.from(back[1]?.bytes ?? [])).toEqual([0, 255]);
    expect(back[2]).toMatchObject({ name: null, tags: [], doc: 'text', at: null, n: null, big: null, ok: null, bytes: null });

    // A duplicate key fails the COPY: the transaction rolls back, and both the pool and a transaction still work.
    const fresh = crypto.randomUUID();
    await expect(
      t.db.transaction(async (tx) => {
        await copyRows(tx, 'copy_probe', columns.slice(0, 2), [[fresh, 'kept?'], [ids[0], 'duplicate']]);
      }),
    ).rejects.toThrow();
    await expect(t.db.copyFrom('copy_probe', ['id'], [new Uint8Array([1, 2, 3])])).rejects.toThrow();
    expect(await t.db.query('select 1 from copy_probe where id = $1', [fresh])).toEqual([]);
    await copyRows(t.db, 'copy_probe', columns.slice(0, 2), [[fresh, 'pooled']]);
    expect(await t.db.query('select name from copy_probe where id = $1', [fresh])).toEqual([{ name: 'pooled' }]);
    await expect(copyRows(t.db, 'copy_probe', columns.slice(0, 1), [['not-a-uuid']])).rejects.toThrow(TypeError);
    await t.db.exec('drop table copy_probe');
  });

  it('[DB13] prepared statements still plan each execution for its values (Postgres; PGlite prepares nothing)', async () => {
    const mode = async (q: Pick<TestDb['db'], 'query'>) => (await q.query<{ mode: string }>(`select current_setting('plan_cache_mode') as mode`))[0]?.mode;
    const expected = t.db.driver === 'postgres' ? 'force_custom_plan' : 'auto';
    expect([await mode(t.db), await t.db.transaction((tx) => mode(tx))]).toEqual([expected, expected]);
  });
});
