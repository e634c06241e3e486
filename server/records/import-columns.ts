/**
 * @module server/records/import-columns
 * Which CSV column holds what, from the header row. Headers are compared
 * without case, spaces or punctuation, so "E-mail", "Email Address" and
 * "email_address" all mean the primary email.
 */

export const IMPORT_COLUMNS = ['name', 'firstName', 'lastName', 'email', 'secondaryEmails', 'company', 'country', 'owner'] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

const ALIASES: Record<ImportColumn, readonly string[]> = {
  name: ['name', 'fullname', 'contactname', 'leadname', 'personname', 'displayname'],
  firstName: ['firstname', 'givenname', 'first'],
  lastName: ['lastname', 'surname', 'familyname', 'last'],
  email: ['email', 'emailaddress', 'primaryemail', 'primaryemailaddress', 'workemail', 'mail', 'emailaddress1'],
  secondaryEmails: [
    'secondaryemails',
    'secondaryemail',
    'secondaryemailaddresses',
    'otheremails',
    'otheremail',
    'additionalemails',
    'additionalemail',
    'alternateemail',
    'alternateemails',
    'alternativeemail',
    'alternativeemails',
  ],
  company: ['company', 'companyname', 'organization', 'organisation', 'organizationname', 'account', 'accountname', 'employer'],
  country: ['country', 'countrycode', 'countryregion', 'countryname'],
  owner: ['owner', 'owneremail', 'recordowner', 'leadowner', 'contactowner', 'assignedto', 'assignee'],
};

const BY_KEY = new Map<string, ImportColumn>(
  IMPORT_COLUMNS.flatMap((column) => ALIASES[column].map((alias) => [alias, column] as const)),
);

function headerKey(cell: string): string {
  return cell.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]/g, '');
}

export interface ColumnMap {
  /** Column index of each recognized column (the first one wins when a column repeats). */
  index: Partial<Record<ImportColumn, number>>;
  /** Header cells that matched nothing. */
  ignored: string[];
}

export function mapColumns(header: readonly string[]): ColumnMap {
  const index: Partial<Record<ImportColumn, number>> = {};
  const ignored: string[] = [];
  header.forEach((cell, i) => {
    const column = BY_KEY.get(headerKey(cell));
    if (column === undefined) {
      if (cell.trim() !== '') {
        ignored.push(cell.trim());
      }
      return;
    }
    if (index[column] === undefined) {
      index[column] = i;
    }
  });
  return { index, ignored };
}

/** The trimmed cell of `column` in a row, '' when the column or the cell is missing. */
export function cellOf(map: ColumnMap, cells: readonly string[], column: ImportColumn): string {
  const i = map.index[column];
  return i === undefined ? '' : (cells[i] ?? '').trim();
}
