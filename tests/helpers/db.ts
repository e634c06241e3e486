/**
 * @module tests/helpers/db
 * The database matrix every storage test runs over: PGlite always, Postgres
 * when TEST_DATABASE_URL is set (required under CI). Each call gets its own
 * migrated database, so test files never see each other's rows; on PGlite it
 * is a copy of one cached template rather than a new initdb.
 */
import postgres from 'postgres';
import { migrate, openDb, type Db, type DriverName } from '../../db';
import { pgliteTemplate } from './pglite-template';
import { prerequisite } from './prereq';

export interface TestDb {
  db: Db;
  drop(): Promise<void>;
}

export interface DriverCase {
  name: DriverName;
  create(): Promise<TestDb>;
}

const testDatabaseUrl = process.env.TEST_DATABASE_URL;

/**
 * An in-memory PGlite loaded from the cached, migrated template (see ./pglite-template):
 * about 1 s instead of 2.5–4.5 s for initdb plus every migration.
 * @throws when the template was missing a migration: its cache key should have prevented that.
 */
export async function createPglite(): Promise<TestDb> {
  const db = await openDb({ inMemory: true, template: await pgliteTemplate() });
  // Cheap on a good template (a ledger read per migration), and it proves the template is current.
  const applied = await migrate(db);
  if (applied.length > 0) {
    await db.close();
    throw new Error(`The PGlite test template lacked migrations ${applied.join(', ')}; its cache key is wrong`);
  }
  return { db, drop: () => db.close() };
}

/**
 * Creates, migrates and hands out a fresh database on a Postgres server;
 * `drop()` removes it. Shared by the tests and the benchmarks.
 * @param serverUrl any database URL on the server (the new database is created beside it).
 */
export async function createPostgresDb(serverUrl: string, prefix = 'shoal_t', options: { prepare?: boolean } = {}): Promise<TestDb> {
  const base = new URL(serverUrl);
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = await openDb({ databaseUrl: url.toString(), ...options });
  await migrate(db);
  return {
    db,
    async drop() {
      await db.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

const createPostgres = () => createPostgresDb(testDatabaseUrl as string);

/** The drivers to run storage tests on, honouring the skip/fail rule for Postgres. */
export function driverCases(): DriverCase[] {
  const cases: DriverCase[] = [{ name: 'pglite', create: createPglite }];
  const hasPostgres = prerequisite('Postgres tier', testDatabaseUrl ? null : 'TEST_DATABASE_URL is not set');
  if (hasPostgres) {
    cases.push({ name: 'postgres', create: createPostgres });
  }
  return cases;
}
