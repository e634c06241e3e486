/**
 * @module db/bulk
 * Multi-row INSERT … VALUES for both drivers: one round trip for a whole
 * batch instead of one per row, chunked under Postgres's 65,535-parameter cap.
 */
import type { Queryable } from './types';

const MAX_PARAMS = 60_000;

/**
 * Inserts rows in as few statements as the parameter cap allows.
 * @param table target table (trusted, never user input).
 * @param columns column names, in the order of each row's values; a `name::type` entry casts that value
 *   (`name::text::jsonb` for JSON given as a string).
 * @param rows one array of values per row.
 * @param suffix appended to each statement, e.g. `on conflict do nothing`.
 */
export async function insertRows(
  q: Queryable,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  suffix = '',
): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  const names = columns.map((c) => c.split('::')[0] as string);
  const casts = columns.map((c) => (c.includes('::') ? c.slice(c.indexOf('::')) : ''));
  const perChunk = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  for (let start = 0; start < rows.length; start += perChunk) {
    const chunk = rows.slice(start, start + perChunk);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => {
      const slots = row.map((value, i) => {
        params.push(value);
        return `$${params.length}${casts[i]}`;
      });
      return `(${slots.join(', ')})`;
    });
    await q.query(`insert into ${table} (${names.join(', ')}) values ${tuples.join(', ')} ${suffix}`, params);
  }
}
