/**
 * @module server/commands/import-records
 * CSV import of leads or contacts. Every row is checked on its own (name,
 * addresses, country), against the people of the organization (owner) and
 * against existing leads/contacts and earlier rows (duplicates); the good
 * rows go in together in one transaction and the rest come back as a
 * per-row report, so one bad row never costs the whole file.
 */
import { insertRows } from '../../db/bulk';
import { isUniqueViolation } from '../../db/errors';
import { findAddressHolders, RECORD_EMAIL_COLUMNS } from '../../db/queries/record-emails';
import { activePeopleMatching } from '../../db/queries/record-links';
import { RECORD_INSERT_COLUMNS, recordValues } from '../../db/queries/records';
import type { Tx } from '../../db/types';
import { ERROR_CODES } from '../../sync/api';
import { IMPORT_MAX_ROWS, type ImportFailureDto, type ImportReportDto, type ImportType } from '../../sync/records-api';
import type { Auth, Deps } from '../context';
import { publishing } from '../sync/projection/changes';
import { HttpError } from '../errors';
import { CsvError, parseCsv, type CsvRow } from '../records/csv';
import { mapColumns, type ColumnMap } from '../records/import-columns';
import { quote, readRow, type RowDraft } from '../records/import-rows';

/** A racing writer can take an address between our check and our insert; we check again this many times. */
const ATTEMPTS = 3;

function readFile(text: string): { map: ColumnMap; rows: CsvRow[] } {
  let parsed: CsvRow[];
  try {
    parsed = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvError) {
      throw new HttpError(400, ERROR_CODES.invalidCsv, error.message);
    }
    throw error;
  }
  const [header, ...rows] = parsed;
  if (!header) {
    throw new HttpError(400, ERROR_CODES.invalidCsv, 'The file is empty: it needs a header row and one row per record');
  }
  const map = mapColumns(header.cells);
  if (map.index.name === undefined && map.index.firstName === undefined && map.index.lastName === undefined) {
    throw new HttpError(
      400,
      ERROR_CODES.invalidCsv,
      'The header row needs a name column (Name, Full name, or First name and Last name)',
    );
  }
  if (rows.length > IMPORT_MAX_ROWS) {
    throw new HttpError(400, ERROR_CODES.invalidCsv, `A file can have at most ${IMPORT_MAX_ROWS} rows; split it and import the parts`);
  }
  return { map, rows };
}

async function resolveOwners(tx: Tx, auth: Auth, drafts: readonly RowDraft[]): Promise<Map<RowDraft, string>> {
  const refs = [...new Set(drafts.map((d) => d.owner).filter(Boolean))];
  const people = await activePeopleMatching(tx, auth.user.orgId, refs);
  const owners = new Map<RowDraft, string>();
  for (const draft of drafts) {
    if (draft.owner === '') {
      owners.set(draft, auth.user.id);
      continue;
    }
    const ref = draft.owner.toLowerCase();
    const byEmail = people.filter((p) => p.email === ref);
    const matches = byEmail.length > 0 ? byEmail : people.filter((p) => p.name.toLowerCase() === ref);
    const [only, another] = matches;
    if (only && !another) {
      owners.set(draft, only.id);
    } else {
      const why = another ? 'matches more than one person; use their email' : 'is not an active person of your organization';
      draft.failures.push({ row: draft.row, field: 'owner', code: 'unknown_owner', message: `Owner ${quote(draft.owner)} ${why}` });
    }
  }
  return owners;
}

async function markDuplicates(tx: Tx, auth: Auth, drafts: readonly RowDraft[]): Promise<void> {
  const all = drafts.flatMap((d) => d.addresses);
  const holders = await findAddressHolders(tx, auth.user.id, auth.user.orgId, [...new Set(all)]);
  const heldBy = new Map(holders.map((h) => [h.address, h]));
  const firstRow = new Map<string, number>();
  for (const draft of drafts) {
    for (const address of draft.addresses) {
      const field = draft.fieldOf.get(address) ?? 'email';
      const holder = heldBy.get(address);
      const earlier = firstRow.get(address);
      let message: string | null = null;
      if (holder) {
        message = holder.accessible
          ? `${address} already belongs to ${holder.type} ${holder.name}`
          : `${address} already belongs to a ${holder.type} owned by ${holder.ownerName}`;
      } else if (earlier !== undefined) {
        message = `${address} is also on row ${earlier}`;
      } else {
        firstRow.set(address, draft.row);
      }
      if (message) {
        draft.failures.push({ row: draft.row, field, code: 'duplicate', message });
      }
    }
  }
}

async function importOnce(deps: Deps, auth: Auth, type: ImportType, map: ColumnMap, rows: readonly CsvRow[]): Promise<ImportReportDto> {
  return deps.db.transaction(async (tx) => {
    const drafts = rows.map((row) => readRow(map, row));
    const owners = await resolveOwners(tx, auth, drafts);
    await markDuplicates(tx, auth, drafts);
    const good = drafts.filter((d) => d.failures.length === 0);
    const { orgId } = auth.user;
    const records = good.map((draft) => ({ draft, id: crypto.randomUUID() }));
    await insertRows(
      tx,
      'records',
      RECORD_INSERT_COLUMNS,
      records.map(({ draft, id }) =>
        recordValues({
          id,
          orgId,
          type,
          ownerId: owners.get(draft) ?? auth.user.id,
          name: draft.name,
          company: draft.company,
          country: draft.country,
          stage: null,
          accountId: null,
          source: 'import',
          createdBy: auth.user.id,
        }),
      ),
    );
    const emailRows = records.flatMap(({ draft, id }) => draft.addresses.map((address, i) => [orgId, address, type, id, i === 0]));
    await insertRows(tx, 'record_emails', RECORD_EMAIL_COLUMNS, emailRows);
    const failed: ImportFailureDto[] = drafts.flatMap((d) => d.failures);
    return {
      type,
      rows: drafts.length,
      imported: good.length,
      failedRows: drafts.length - good.length,
      failed,
      ignoredColumns: map.ignored,
    };
  });
}

/**
 * Imports leads or contacts from CSV text.
 * @throws {HttpError} 400 `invalid_csv` for a file that cannot be read as a table with a name column.
 */
export async function importRecords(deps: Deps, auth: Auth, type: ImportType, text: string): Promise<ImportReportDto> {
  const { map, rows } = readFile(text);
  for (let attempt = 1; ; attempt += 1) {
    try {
      // Many records at once: one organization-wide refresh instead of one per record.
      return await importOnce(deps, auth, type, map, rows).then(publishing(deps.changes, { kind: 'record-access', orgId: auth.user.orgId }));
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= ATTEMPTS) {
        throw error;
      }
    }
  }
}
