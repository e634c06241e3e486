/**
 * Test databases on PGlite start from a cached, migrated template
 * (tests/helpers/pglite-template). These check that such a database is the
 * one a fresh initdb plus every migration would give, so the shortcut hides nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, openDb, type Db } from '../../db';
import { createPglite, type TestDb } from '../helpers/db';

// Tables, columns, indexes, constraints, functions and triggers: what migrations create.
const SCHEMA_SQL = `
  select 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') as item
    from information_schema.columns where table_schema = 'public'
  union all select 'index ' || indexdef from pg_indexes where schemaname = 'public'
  union all select 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid)
    from pg_constraint where connamespace = 'public'::regnamespace
  union all select 'function ' || p.oid::regprocedure || ' ' || md5(p.prosrc)
    from pg_proc p where p.pronamespace = 'public'::regnamespace
  union all select 'trigger ' || pg_get_triggerdef(oid) from pg_trigger where not tgisinternal
  order by 1`;

const schemaOf = async (db: Db) => (await db.query<{ item: string }>(SCHEMA_SQL)).map((r) => r.item);

describe('PGlite test template', () => {
  let fresh: Db;
  let freshApplied: number[];
  let fromTemplate: TestDb;

  beforeAll(async () => {
    fresh = await openDb({ inMemory: true });
    freshApplied = await migrate(fresh);
    fromTemplate = await createPglite();
  });
  afterAll(async () => {
    await fresh?.close();
    await fromTemplate?.drop();
  });

  it('a fresh database applies every migration once; the template database needs none', async () => {
    const versions = (await loadMigrations()).map((m) => m.version);
    expect(freshApplied).toEqual(versions);
    expect(await migrate(fresh)).toEqual([]);
    expect(await migrate(fromTemplate.db)).toEqual([]);
  });

  it('has the same schema as a freshly migrated database', async () => {
    const expected = await schemaOf(fresh);
    expect(expected.length).toBeGreaterThan(50);
    expect(await schemaOf(fromTemplate.db)).toEqual(expected);
  });

  it('holds no rows from other tests: each database loads its own copy', async () => {
    const other = await createPglite();
    try {
      await other.db.exec(`create table template_probe (id int)`);
      expect(await fromTemplate.db.query(`select 1 from information_schema.tables where table_name = 'template_probe'`)).toEqual([]);
    } finally {
      await other.drop();
    }
  });
});
