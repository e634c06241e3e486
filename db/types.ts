/**
 * @module db/types
 * The storage interface every query is written against. Two drivers
 * implement it (PGlite embedded, Postgres over the network); neither leaks
 * driver types past this boundary, so queries and tests are driver-blind.
 */

/** Anything that can run one parameterised statement: the pool or a transaction. */
export interface Queryable {
  /**
   * Runs one statement with `$1…$n` placeholders and returns its rows.
   * int8 comes back as a JS number, timestamptz as Date, bytea as Uint8Array, json as parsed values.
   */
  query<Row extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

export const DRIVERS = { pglite: 'pglite', postgres: 'postgres' } as const;
export type DriverName = (typeof DRIVERS)[keyof typeof DRIVERS];

/** A transaction, or the pool outside one. */
export interface Tx extends Queryable {
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Bulk-loads rows with `COPY table (columns) FROM STDIN (FORMAT binary)`.
   * @param data the whole binary COPY stream (signature, header, tuples, trailer) in chunks,
   *   as `db/copy-binary.ts` encodes it.
   * @throws when the server rejects the data; inside a transaction, the transaction is then aborted.
   */
  copyFrom(table: string, columns: readonly string[], data: readonly Uint8Array[]): Promise<void>;
}

/**
 * An exclusive, named lock held on its own connection: if the process dies,
 * the connection drops and Postgres frees the lock for another process.
 */
export interface Lease {
  readonly name: string;
  /** Whether the lock is still held (it dies with the connection it was taken on). */
  alive(): Promise<boolean>;
  release(): Promise<void>;
}

/** A database handle: a pool of connections (one for PGlite) plus transactions. */
export interface Db extends Tx {
  readonly driver: DriverName;
  /**
   * Runs `fn` inside one transaction; commits when it resolves, rolls back when it throws.
   * Nested calls are not supported: pass the `tx` down instead.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Tries to take the named lease without waiting.
   * @returns the lease, or null when another holder (any process) has it.
   */
  tryLease(name: string): Promise<Lease | null>;
  close(): Promise<void>;
}
