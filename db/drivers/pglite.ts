/**
 * @module db/drivers/pglite
 * Embedded Postgres (WASM) for the zero-setup default: one file-backed
 * database under the data directory, or in memory for tests.
 */
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Db, Lease, Tx } from '../types';

/**
 * Opens (creating if needed) an embedded database.
 * @param dataDir directory for the database files; `undefined` keeps it in memory.
 * @param loadDataDir a tarball from PGlite's `dumpDataDir()` to start from instead of an
 *   empty cluster. Tests use it so each file copies a migrated template rather than
 *   running initdb and every migration again (seconds per database on a small machine).
 *   Plain or gzip tarballs both load: PGlite detects gzip from the blob's type.
 * @returns a ready {@link Db}.
 */
export async function openPglite(dataDir?: string, loadDataDir?: Blob | File): Promise<Db> {
  const pg = await PGlite.create({ ...(dataDir ? { dataDir } : {}), ...(loadDataDir ? { loadDataDir } : {}) });
  return wrapPglite(pg);
}

/**
 * The {@link Db} over an open PGlite. Exported so tests can migrate a database and then
 * `dumpDataDir()` the same instance as a template; the app only goes through {@link openPglite}.
 */
export function wrapPglite(pg: PGlite): Db {
  const wrap = (target: PGlite | Transaction): Tx => ({
    async query<Row extends object>(text: string, params: readonly unknown[] = []) {
      const result = await target.query<Row>(text, params as unknown[]);
      return result.rows;
    },
    async exec(script: string) {
      await target.exec(script);
    },
    async copyFrom(table: string, columns: readonly string[], data: readonly Uint8Array[]) {
      // PGlite has no STDIN: COPY reads the query's blob as the file /dev/blob.
      // The chunks are plain ArrayBuffer views (never shared memory), which is all Blob asks.
      const blob = new Blob(data.map((chunk) => chunk as Uint8Array<ArrayBuffer>));
      await target.query(`copy ${table} (${columns.join(', ')}) from '/dev/blob' with (format binary)`, [], { blob });
    },
  });
  const root = wrap(pg);
  // One process owns an embedded database, so an in-process set is the whole lock table.
  const held = new Set<string>();
  const tryLease = async (name: string): Promise<Lease | null> => {
    if (held.has(name)) {
      return null;
    }
    held.add(name);
    let released = false;
    return {
      name,
      alive: async () => !released,
      async release() {
        released = true;
        held.delete(name);
      },
    };
  };
  return {
    driver: 'pglite',
    query: root.query,
    exec: root.exec,
    copyFrom: root.copyFrom,
    // PGlite is a single connection with an internal mutex, so transactions
    // are serialised; that is the embedded trade-off, not a bug.
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    tryLease,
    close: () => pg.close(),
  };
}
