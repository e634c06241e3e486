/**
 * @module db/bulk
 * Multi-row INSERT … VALUES for both drivers: one round trip for a whole
 * batch instead of one per row, chunked under Postgres's 65,535-parameter cap.
 * Plain appends of large rows go through binary COPY instead (`copyRows`).
 */
import { encodeCopyRows, type CopyType } from './copy-binary';
import type { Queryable, Tx } from './types';

/** A column and the type its values are sent as. */
export interface TypedColumn {
  name: string;
  type: CopyType;
}

/** Casts that let a text parameter of each type reach its column (insertRows' `name::cast` form). */
const PARAM_CASTS: Record<CopyType, string> = {
  uuid: '',
  text: '',
  'text[]': '::text[]',
  jsonb: '::text::jsonb',
  timestamptz: '::timestamptz',
  int4: '',
  int8: '::bigint',
  bool: '',
  bytea: '::bytea',
};

/** The same typed columns in the form `insertRows` takes. */
export function castColumns(columns: readonly TypedColumn[]): string[] {
  return columns.map((c) => `${c.name}${PARAM_CASTS[c.type]}`);
}

/**
 * Appends rows with one binary COPY: no ON CONFLICT, so only for rows that
 * must not exist yet (fresh ids); a conflict fails the statement.
 * @param rows one array of values per row, in the columns' order; jsonb as JSON text.
 */
export async function copyRows(tx: Tx, table: string, columns: readonly TypedColumn[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await tx.copyFrom(
    table,
    columns.map((c) => c.name),
    encodeCopyRows(
      columns.map((c) => c.type),
      rows,
    ),
  );
}

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
