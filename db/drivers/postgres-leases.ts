/**
 * @module db/drivers/postgres-leases
 * Leases as session-level advisory locks, all held on one connection of
 * their own. A connection reserved from the query pool per lease would take
 * the pool away from queries (ten mailboxes and no query could run), and
 * postgres.js 3.4.9 crashes the process on the next write to a reserved
 * connection whose backend died (porsager/postgres#1208); a pooled
 * connection of a separate client reconnects instead.
 *
 * A lock dies with the backend that holds it, so a lease is alive only while
 * the connection it was taken on is still the one in use and Postgres still
 * lists the lock for it.
 */
import postgres from 'postgres';
import type { Lease } from '../types';

export interface PostgresLeases {
  tryLease(name: string): Promise<Lease | null>;
  close(): Promise<void>;
}

const LOCK = `hashtext('shoal'), hashtext($1)`;
const HELD = `exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()
  and classid = hashtext('shoal')::oid and objid = hashtext($1)::oid and objsubid = 2 and granted) as held`;

/**
 * Opens the lease connection lazily, on the first lease.
 * @param url the same database as the query pool.
 */
export function postgresLeases(url: string): PostgresLeases {
  let sql: postgres.Sql | null = null;
  // Bumped whenever the lease connection closes: every lock taken before is gone with it.
  let generation = 0;
  // Advisory locks are re-entrant within a session, so this process's own holders are kept apart here.
  const held = new Set<string>();
  const connection = () =>
    (sql ??= postgres(url, {
      max: 1,
      // postgres.js recycles a connection after 30–60 minutes by default, which would drop every lock on it.
      max_lifetime: 0,
      idle_timeout: 0,
      onnotice: () => {},
      onclose: () => {
        generation += 1;
      },
      connection: { application_name: 'shoal-leases' },
    }));

  /**
   * One try of the lock, and one more when the first fails: a lease
   * connection whose backend was just terminated hands the termination to
   * the next statement sent on it (seen in CI right after a
   * pg_terminate_backend), and the retry goes out on its reconnection. A
   * failed statement took no lock: it did not run, or its backend died.
   */
  async function tryLock(name: string): Promise<boolean> {
    const attempt = async () => (await connection().unsafe<{ ok: boolean }[]>(`select pg_try_advisory_lock(${LOCK}) as ok`, [name]))[0]?.ok === true;
    try {
      return await attempt();
    } catch {
      return attempt();
    }
  }

  async function tryLease(name: string): Promise<Lease | null> {
    if (held.has(name)) {
      return null;
    }
    held.add(name);
    let taken = false;
    try {
      taken = await tryLock(name);
    } finally {
      if (!taken) {
        held.delete(name);
      }
    }
    if (!taken) {
      return null;
    }
    const takenIn = generation;
    let released = false;
    const current = () => !released && takenIn === generation;
    return {
      name,
      async alive() {
        if (!current()) {
          return false;
        }
        try {
          const [row] = await connection().unsafe<{ held: boolean }[]>(`select ${HELD}`, [name]);
          return row?.held === true && current();
        } catch {
          return false;
        }
      },
      async release() {
        if (released) {
          return;
        }
        const stillHeld = current();
        released = true;
        try {
          // After a close the lock is already gone, and unlocking on the new connection would do nothing.
          if (stillHeld) {
            await connection().unsafe(`select pg_advisory_unlock(${LOCK})`, [name]);
          }
        } catch {
          // An unlock fails only when the connection does, and a lock goes with its connection.
        } finally {
          held.delete(name);
        }
      },
    };
  }

  return {
    tryLease,
    async close() {
      held.clear();
      await sql?.end({ timeout: 5 });
    },
  };
}
