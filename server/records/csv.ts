/**
 * @module server/records/csv
 * A small RFC 4180 reader for spreadsheet exports: quoted fields with
 * embedded separators, quotes ("") and line breaks; CRLF, LF or CR line
 * ends; a leading byte-order mark; and the separator (comma, semicolon or
 * tab) taken from the header line, because spreadsheets in many locales
 * export with semicolons. It is forgiving where real files are sloppy (a
 * stray quote inside an unquoted field, text after a closing quote, rows of
 * uneven length) and strict only where the data would be ambiguous: a quote
 * that is never closed.
 */

export const CSV_SEPARATORS = [',', ';', '\t'] as const;
export type CsvSeparator = (typeof CSV_SEPARATORS)[number];

/** A record of the file. `row` counts records like a spreadsheet does (the header is row 1), blank ones included. */
export interface CsvRow {
  row: number;
  cells: string[];
}

export class CsvError extends Error {
  override readonly name = 'CsvError';
  /** The spreadsheet row where the problem starts. */
  constructor(
    message: string,
    readonly row: number,
  ) {
    super(message);
  }
}

/** The separator that occurs most often, outside quotes, on the first line; a comma when none does. */
export function detectSeparator(text: string): CsvSeparator {
  const counts = new Map<CsvSeparator, number>(CSV_SEPARATORS.map((s) => [s, 0]));
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
    } else if (!quoted && (ch === '\n' || ch === '\r')) {
      break;
    } else if (!quoted && counts.has(ch as CsvSeparator)) {
      counts.set(ch as CsvSeparator, (counts.get(ch as CsvSeparator) ?? 0) + 1);
    }
  }
  let best: CsvSeparator = ',';
  for (const [separator, count] of counts) {
    if (count > (counts.get(best) ?? 0)) {
      best = separator;
    }
  }
  return best;
}

function isBlank(cells: readonly string[]): boolean {
  return cells.every((c) => c.trim() === '');
}

/**
 * Parses CSV text into rows of cells; blank rows are left out (their numbers are kept).
 * @param separator defaults to {@link detectSeparator}.
 * @throws {CsvError} for a quoted field that is never closed.
 */
export function parseCsv(input: string, separator: CsvSeparator = detectSeparator(input.replace(/^\uFEFF/, ''))): CsvRow[] {
  const text = input.replace(/^\uFEFF/, '');
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let row = 1;
  let i = 0;
  const endRow = () => {
    cells.push(cell);
    if (!isBlank(cells)) {
      rows.push({ row, cells });
    }
    cells = [];
    cell = '';
    row += 1;
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"' && cell === '') {
      const close = readQuoted(text, i + 1);
      if (close === null) {
        throw new CsvError(`Row ${row}: a quoted field is never closed`, row);
      }
      cell = close.value;
      i = close.next;
      continue;
    }
    if (ch === separator) {
      cells.push(cell);
      cell = '';
      i += 1;
    } else if (ch === '\r' || ch === '\n') {
      endRow();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      cell += ch;
      i += 1;
    }
  }
  if (cell !== '' || cells.length > 0) {
    endRow();
  }
  return rows;
}

/** Reads a quoted field's content from just after its opening quote, to just after its closing quote. */
function readQuoted(text: string, start: number): { value: string; next: number } | null {
  let value = '';
  let i = start;
  while (i < text.length) {
    const quote = text.indexOf('"', i);
    if (quote < 0) {
      return null;
    }
    value += text.slice(i, quote);
    if (text[quote + 1] === '"') {
      value += '"';
      i = quote + 2;
      continue;
    }
    return { value, next: quote + 1 };
  }
  return null;
}
