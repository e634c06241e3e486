/**
 * @module db/drivers/postgres
 * Networked Postgres through the `postgres` package, for production and for
 * several Shoal processes sharing one database.
 */
import postgres from 'postgres';
import type { Db, Lease, Queryable, Tx } from '../types';

const INT8_OID = 20;

/** Thrown when the server would acknowledge commits it could still lose. */
export class UnsafeDurabilityError extends Error {
  override readonly name = 'UnsafeDurabilityError';
}

/**
 * Connects to Postgres.
 * @param url a `postgres://` connection string.
 * @param options.max pool size.
 * @returns a ready {@link Db}.
 */
export async function openPostgres(url: string, options: { max?: number } = {}): Promise<Db> {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // Match PGlite: int8 as a JS number (counts and ids we store fit in 2^53).
    types: {
      int8: { to: INT8_OID, from: [INT8_OID], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
    },
  });
  const wrap = (target: postgres.Sql | postgres.TransactionSql): Tx => ({
    async query<Row extends object>(text: string, params: readonly unknown[] = []) {
      const rows = await target.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
      return rows as unknown as Row[];
    },
    async exec(script: string) {
      // Without parameters postgres.js uses the simple protocol, which accepts several statements.
      await target.unsafe(script);
    },
  });
  const root = wrap(sql);
  return {
    driver: 'postgres',
    query: root.query,
    exec: root.exec,
    transaction: async (fn) => (await sql.begin((tx) => fn(wrap(tx)))) as Awaited<ReturnType<typeof fn>>,
    tryLease: (name) => tryPostgresLease(sql, name),
    close: () => sql.end({ timeout: 5 }),
  };
}

async function tryPostgresLease(sql: postgres.Sql, name: string): Promise<Lease | null> {
  // A session-level advisory lock lives as long as its connection, so the lease reserves one.
  const conn = await sql.reserve();
  try {
    const [row] = await conn.unsafe<{ ok: boolean }[]>(`select pg_try_advisory_lock(hashtext('shoal'), hashtext($1)) as ok`, [name]);
    if (!row?.ok) {
      conn.release();
      return null;
    }
  } catch (error) {
    conn.release();
    throw error;
  }
  let released = false;
  return {
    name,
    async alive() {
      if (released) {
        return false;
      }
      try {
        await conn.unsafe('select 1');
        return true;
      } catch {
        return false;
      }
    },
    async release() {
      if (released) {
        return;
      }
      released = true;
      try {
        await conn.unsafe(`select pg_advisory_unlock(hashtext('shoal'), hashtext($1))`, [name]);
      } finally {
        conn.release();
      }
    },
  };
}

/**
 * Refuses a server that acknowledges commits before they are durable: an
 * acknowledged edit must survive a crash (PostgreSQL docs, "Asynchronous Commit").
 * @throws {UnsafeDurabilityError} when `fsync` or `synchronous_commit` is off.
 */
export async function assertDurable(db: Queryable): Promise<void> {
  const rows = await db.query<{ name: string; setting: string }>(
    `select name, setting from pg_settings where name in ('fsync', 'synchronous_commit')`,
  );
  const off = rows.filter((r) => r.setting === 'off').map((r) => r.name);
  if (off.length > 0) {
    throw new UnsafeDurabilityError(
      `Postgres has ${off.join(' and ')} off, so acknowledged writes could be lost in a crash; turn ${off.length > 1 ? 'them' : 'it'} on.`,
    );
  }
}
