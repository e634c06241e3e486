/**
 * @module server/records/import-rows
 * One CSV row → a record draft and the problems found in the row alone
 * (name, addresses, country). Problems that need the database or the other
 * rows (owner, duplicates) are added by the import command.
 */
import { normalizeCountry } from '../../sync/countries';
import {
  RECORD_COMPANY_MAX,
  RECORD_NAME_MAX,
  SECONDARY_EMAILS_MAX,
  type ImportFailureDto,
} from '../../sync/records-api';
import { normalizeAddress } from '../ingest/addresses';
import type { CsvRow } from './csv';
import { cellOf, type ColumnMap } from './import-columns';

export interface RowDraft {
  row: number;
  name: string;
  company: string;
  country: string | null;
  /** Normalized, deduplicated; the first is the primary. */
  addresses: string[];
  /** Field of each address in the report: `email` or `secondaryEmails`. */
  fieldOf: Map<string, 'email' | 'secondaryEmails'>;
  /** The owner cell (an email or a name); '' means the importer. */
  owner: string;
  failures: ImportFailureDto[];
}

/** Shortens a cell for a message, so a pasted novel does not become the report. */
export function quote(value: string): string {
  return `“${value.length > 60 ? `${value.slice(0, 57)}…` : value}”`;
}

function readName(map: ColumnMap, cells: readonly string[]): string {
  const full = cellOf(map, cells, 'name');
  if (full !== '') {
    return full;
  }
  return [cellOf(map, cells, 'firstName'), cellOf(map, cells, 'lastName')].filter(Boolean).join(' ');
}

export function readRow(map: ColumnMap, { row, cells }: CsvRow): RowDraft {
  const failures: ImportFailureDto[] = [];
  const fail = (field: ImportFailureDto['field'], code: ImportFailureDto['code'], message: string) =>
    failures.push({ row, field, code, message });

  const name = readName(map, cells);
  if (name === '') {
    fail('name', 'missing_name', 'The name is empty');
  } else if (name.length > RECORD_NAME_MAX) {
    fail('name', 'too_long', `The name is longer than ${RECORD_NAME_MAX} characters`);
  }
  const company = cellOf(map, cells, 'company');
  if (company.length > RECORD_COMPANY_MAX) {
    fail('company', 'too_long', `The company is longer than ${RECORD_COMPANY_MAX} characters`);
  }
  const countryCell = cellOf(map, cells, 'country');
  const country = countryCell === '' ? null : normalizeCountry(countryCell);
  if (countryCell !== '' && country === null) {
    fail('country', 'bad_country', `${quote(countryCell)} is not a country code or name`);
  }

  const fieldOf = new Map<string, 'email' | 'secondaryEmails'>();
  const primaryCell = cellOf(map, cells, 'email');
  if (primaryCell !== '') {
    const address = normalizeAddress(primaryCell);
    if (address) {
      fieldOf.set(address, 'email');
    } else {
      fail('email', 'bad_address', `${quote(primaryCell)} is not an email address`);
    }
  }
  const secondaryCells = cellOf(map, cells, 'secondaryEmails')
    .split(/[;,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const value of secondaryCells) {
    const address = normalizeAddress(value);
    if (!address) {
      fail('secondaryEmails', 'bad_address', `${quote(value)} is not an email address`);
    } else if (!fieldOf.has(address)) {
      fieldOf.set(address, 'secondaryEmails');
    }
  }
  if (fieldOf.size > SECONDARY_EMAILS_MAX + 1) {
    fail('secondaryEmails', 'too_many_addresses', `A record can have at most ${SECONDARY_EMAILS_MAX} secondary addresses`);
  }
  return {
    row,
    name,
    company,
    country,
    addresses: [...fieldOf.keys()],
    fieldOf,
    owner: cellOf(map, cells, 'owner'),
    failures,
  };
}
