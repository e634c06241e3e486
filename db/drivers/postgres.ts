/**
 * @module db/drivers/postgres
 * Networked Postgres through the `postgres` package, for production and for
 * several Shoal processes sharing one database.
 */
import net from 'node:net';
import type { Writable } from 'node:stream';
import postgres from 'postgres';
import type { Db, Queryable, Tx } from '../types';
import { postgresLeases } from './postgres-leases';

const INT8_OID = 20;

/** Thrown when the server would acknowledge commits it could still lose. */
export class UnsafeDurabilityError extends Error {
  override readonly name = 'UnsafeDurabilityError';
}

/**
 * Statements with at most this many parameters are prepared. Longer ones are
 * built for their row count (multi-row VALUES, IN lists), so their text
 * varies and a cached plan would rarely be used again.
 */
const PREPARE_MAX_PARAMS = 64;

export interface PostgresOptions {
  /** Pool size. */
  max?: number;
  /**
   * Prepared statements (default on). postgres.js prepares nothing given as
   * text, so each statement cost two round trips (describe, then execute)
   * and a fresh parse; prepared, it is one round trip, parsed once. Off for
   * poolers that cannot keep them (PgBouncer in transaction mode before 1.21).
   */
  prepare?: boolean;
}

/**
 * Connects to Postgres.
 * @param url a `postgres://` connection string.
 * @returns a ready {@link Db}.
 */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Db> {
  const prepare = options.prepare ?? true;
  // postgres.js documents the `socket` option (README, "Custom socket") but its types leave it out.
  const socket = { socket: noDelaySockets() };
  const sql = postgres(url, {
    ...socket,
    max: options.max ?? 10,
    onnotice: () => {},
    // Shoal's queries are short and many; JIT compiling a plan costs seconds
    // (the visibility filter's estimated cost trips it) and never pays back.
    // Prepared statements still plan every execution for its values, as
    // unprepared ones did: after five executions "auto" may switch to a
    // generic plan, which is worse for statements whose best plan depends on
    // their arrays' sizes. An edit's review asks for generic plans in its own
    // transaction (db/queries/plan-cache.ts), where they were measured.
    connection: { jit: 'off', plan_cache_mode: 'force_custom_plan' },
    // Match PGlite: int8 as a JS number (counts and ids we store fit in 2^53).
    types: {
      int8: { to: INT8_OID, from: [INT8_OID], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
    },
  });
  const wrap = (target: postgres.Sql | postgres.TransactionSql): Omit<Tx, 'copyFrom'> => ({
    async query<Row extends object>(text: string, params: readonly unknown[] = []) {
      const rows = await target.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: prepare && params.length <= PREPARE_MAX_PARAMS });
      return rows as unknown as Row[];
    },
    async exec(script: string) {
      // Without parameters postgres.js uses the simple protocol, which accepts several statements.
      await target.unsafe(script);
    },
  });
  const inTransaction = (tx: postgres.TransactionSql): Tx => ({
    ...wrap(tx),
    copyFrom: (table, columns, data) => copyIn(tx, table, columns, data),
  });
  const transaction: Db['transaction'] = async (fn) => (await sql.begin((tx) => fn(inTransaction(tx)))) as Awaited<ReturnType<typeof fn>>;
  const root = wrap(sql);
  const leases = postgresLeases(url);
  return {
    driver: 'postgres',
    query: root.query,
    exec: root.exec,
    // A pooled COPY needs its own transaction: the check after it must run on the same connection.
    copyFrom: (table, columns, data) => transaction((tx) => tx.copyFrom(table, columns, data)),
    transaction,
    tryLease: leases.tryLease,
    async close() {
      await Promise.all([leases.close(), sql.end({ timeout: 5 })]);
    },
  };
}

/**
 * Sockets with Nagle's algorithm off, as libpq and node-postgres open them.
 * postgres.js leaves it on, and a COPY's last message (CopyDone, 5 bytes,
 * written after the data) then waits for the server's delayed ACK: about
 * 40 ms per COPY on Linux. Hosts rotate per attempt, as postgres.js does.
 */
function noDelaySockets(): (o: { host: string[]; port: number[]; path: string | false }) => net.Socket {
  let attempt = 0;
  return (o) => {
    if (o.path) {
      return net.connect({ path: o.path });
    }
    const i = attempt++ % o.host.length;
    const host = o.host[i] as string;
    const port = o.port[i] as number;
    // postgres.js names the TLS server and its errors by these two fields.
    return Object.assign(net.connect({ host, port, noDelay: true }), { host, port });
  };
}

/**
 * `COPY … FROM STDIN (FORMAT binary)` inside a transaction. postgres.js
 * 3.4.9 never settles the stream of a COPY that the server rejects
 * (porsager/postgres#1173), so the outcome is read from a query queued
 * right behind it: it runs once the COPY has ended and fails if the COPY
 * aborted the transaction. The server's reason is then only in its log.
 */
async function copyIn(tx: postgres.TransactionSql, table: string, columns: readonly string[], data: readonly Uint8Array[]): Promise<void> {
  const stream: Writable = await tx.unsafe(`copy ${table} (${columns.join(', ')}) from stdin with (format binary)`).writable();
  // A server error mid-stream destroys the stream; the check below reports it.
  stream.on('error', () => undefined);
  const sent = new Promise<void>((resolve) => {
    // postgres.js writes CopyDone and frees the connection for the next query in _final;
    // a stream destroyed first (the connection dropped) never gets there.
    const final = stream._final?.bind(stream);
    stream._final = (callback) => {
      final?.(callback);
      resolve();
    };
    stream.once('close', resolve);
  });
  for (const chunk of data) {
    if (!stream.write(chunk)) {
      await drained(stream);
    }
  }
  stream.end();
  await sent;
  try {
    await tx.unsafe('select 1');
  } catch (error) {
    throw new Error(`COPY into ${table} failed; the Postgres server log has the reason`, { cause: error });
  }
}

/** Resolves when the stream wants more data, or can take none (closed after an error). */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done);
      resolve();
    };
    stream.on('drain', done).on('close', done);
  });
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
