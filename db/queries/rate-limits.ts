/**
 * @module db/queries/rate-limits
 * Fixed-window counters in the database, so a limit holds across processes.
 */
import type { Queryable } from '../types';

/**
 * Counts one use of `key` in the current window.
 * @returns how many uses the window holds now and when it started.
 */
export async function countUse(q: Queryable, key: string, now: Date, windowMs: number): Promise<{ count: number; windowStart: Date }> {
  const rows = await q.query<{ count: number; windowStart: Date }>(
    `insert into rate_limits as r (key, window_start, count) values ($1, $2, 1)
     on conflict (key) do update set
       window_start = case when r.window_start <= $2::timestamptz - make_interval(secs => $3::float8 / 1000) then $2 else r.window_start end,
       count = case when r.window_start <= $2::timestamptz - make_interval(secs => $3::float8 / 1000) then 1 else r.count + 1 end
     returning count, window_start as "windowStart"`,
    [key, now, windowMs],
  );
  return rows[0] as { count: number; windowStart: Date };
}
