/**
 * @module db
 * Opens the database Shoal runs on: Postgres when a URL is given, otherwise
 * embedded PGlite under the data directory. Knows nothing of HTTP or Yjs.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openPglite } from './drivers/pglite';
import { assertDurable, openPostgres } from './drivers/postgres';
import type { Db } from './types';

export type { Db, DriverName, Queryable, Tx } from './types';
export { DRIVERS } from './types';
export { migrate, pendingMigrations, loadMigrations, MigrationError } from './migrate';
export { UnsafeDurabilityError } from './drivers/postgres';

export interface OpenDbOptions {
  /** Postgres connection string; when absent the embedded driver is used. */
  databaseUrl?: string | undefined;
  /** Postgres prepared statements (default on). */
  prepare?: boolean;
  /** Directory for embedded data; the database lives in `<dataDir>/pglite`. */
  dataDir?: string | undefined;
  /** Keep the embedded database in memory (tests). */
  inMemory?: boolean;
  /**
   * With `inMemory`: start from this PGlite `dumpDataDir()` tarball instead of an empty
   * cluster. Tests pass a cached, already-migrated template to skip initdb and migrations.
   */
  template?: Blob | undefined;
}

/**
 * Opens the configured database and, on Postgres, checks that commits are durable.
 * @throws {UnsafeDurabilityError} when Postgres runs with `fsync` or `synchronous_commit` off.
 */
export async function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.databaseUrl) {
    const db = await openPostgres(options.databaseUrl, { prepare: options.prepare ?? true });
    try {
      await assertDurable(db);
    } catch (error) {
      await db.close();
      throw error;
    }
    return db;
  }
  if (options.inMemory) {
    return openPglite(undefined, options.template);
  }
  if (!options.dataDir) {
    throw new Error('openDb needs a databaseUrl, a dataDir or inMemory: true');
  }
  const dir = join(options.dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  return openPglite(dir);
}
