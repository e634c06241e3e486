/**
 * @module db/queries/login-throttle
 */
import type { Queryable } from '../types';

export interface ThrottleRow {
  key: string;
  failures: number;
  lockedUntil: Date;
}

/** Reads the throttle state of a key (an email or an IP). */
export async function findThrottle(q: Queryable, key: string): Promise<ThrottleRow | null> {
  const rows = await q.query<ThrottleRow>(
    'select key, failures, locked_until as "lockedUntil" from login_throttle where key = $1',
    [key],
  );
  return rows[0] ?? null;
}

/**
 * Records one more failure atomically (two processes failing at once both count).
 * @param lockFor maps the new failure count to the lock duration in ms.
 * @returns the new state.
 */
export async function recordFailure(
  q: Queryable,
  key: string,
  now: Date,
  lockMsByFailures: readonly number[],
): Promise<ThrottleRow> {
  const rows = await q.query<ThrottleRow>(
    `insert into login_throttle as t (key, failures, locked_until, updated_at)
     values ($1, 1, $2::timestamptz + make_interval(secs => ($3::float8[])[1] / 1000), $2)
     on conflict (key) do update set
       failures = t.failures + 1,
       locked_until = $2::timestamptz + make_interval(secs =>
         ($3::float8[])[least(t.failures + 1, array_length($3::float8[], 1))] / 1000),
       updated_at = $2
     returning key, failures, locked_until as "lockedUntil"`,
    [key, now, lockMsByFailures],
  );
  return rows[0] as ThrottleRow;
}

/** Forgets a key's failures after a successful log-in. */
export async function clearThrottle(q: Queryable, key: string): Promise<void> {
  await q.query('delete from login_throttle where key = $1', [key]);
}

/** Drops entries idle since `before`, so the table does not grow forever. */
export async function pruneThrottle(q: Queryable, before: Date): Promise<number> {
  const rows = await q.query<{ key: string }>('delete from login_throttle where updated_at < $1 returning key', [
    before,
  ]);
  return rows.length;
}
