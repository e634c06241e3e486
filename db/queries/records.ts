/**
 * @module db/queries/records
 * CRM records: leads, contacts, accounts and deals in one table. Every read
 * that returns records for a viewer filters with `recordAccessSql`, the one
 * definition of record access; nothing here decides access on its own.
 */
import type { RecordSort, SortDirection } from '../../sync/records-api';
import type { DealStage, RecordType } from '../../sync/sharing';
import type { Queryable } from '../types';
import { recordAccessSql } from './visibility';

export interface RecordRow {
  id: string;
  orgId: string;
  type: RecordType;
  ownerId: string;
  ownerName: string;
  name: string;
  company: string;
  country: string | null;
  stage: DealStage | null;
  accountId: string | null;
  source: 'manual' | 'import' | 'conversion' | 'rule';
  createdBy: string | null;
  createdByName: string | null;
  primaryEmail: string | null;
  secondaryCount: number;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `r.id, r.org_id as "orgId", r.type, r.owner_id as "ownerId", ou.name as "ownerName", r.name, r.company,
  r.country, r.stage, r.account_id as "accountId", r.source, r.created_by as "createdBy", cu.name as "createdByName",
  (select e.address from record_emails e where e.record_id = r.id and e.is_primary) as "primaryEmail",
  (select count(*)::int from record_emails e where e.record_id = r.id and not e.is_primary) as "secondaryCount",
  r.created_at as "createdAt", r.updated_at as "updatedAt"`;

const FROM = `records r join users ou on ou.id = r.owner_id left join users cu on cu.id = r.created_by`;

/**
 * One record of the viewer's organization that the viewer can access.
 * @returns null when it does not exist or the viewer cannot access it (callers answer 404 either way).
 */
export async function findAccessibleRecord(
  q: Queryable,
  viewerId: string,
  orgId: string,
  id: string,
): Promise<RecordRow | null> {
  const rows = await q.query<RecordRow>(
    `select ${COLUMNS} from ${FROM} where r.org_id = $2 and r.id = $3 and ${recordAccessSql('$1', 'r')}`,
    [viewerId, orgId, id],
  );
  return rows[0] ?? null;
}

/**
 * One record of the organization, whoever asks: only for answering the
 * person who just edited it (see getEditedRecordDetail), never for reads.
 */
export async function findRecordOfOrg(q: Queryable, orgId: string, id: string): Promise<RecordRow | null> {
  const rows = await q.query<RecordRow>(`select ${COLUMNS} from ${FROM} where r.org_id = $1 and r.id = $2`, [orgId, id]);
  return rows[0] ?? null;
}

/** Which of `ids` are records of `type` in the organization that the viewer can access. */
export async function accessibleRecordIds(
  q: Queryable,
  viewerId: string,
  orgId: string,
  type: RecordType,
  ids: readonly string[],
): Promise<Set<string>> {
  if (ids.length === 0) {
    return new Set();
  }
  const rows = await q.query<{ id: string }>(
    `select r.id from records r where r.org_id = $2 and r.type = $3 and r.id = any($4::uuid[])
       and ${recordAccessSql('$1', 'r')}`,
    [viewerId, orgId, type, ids],
  );
  return new Set(rows.map((r) => r.id));
}

export interface RecordFilters {
  type?: RecordType | undefined;
  ownerId?: string | undefined;
  /** Matched case-insensitively against name, company and addresses. */
  text?: string | undefined;
  country?: string | undefined;
  stage?: DealStage | undefined;
  sort: RecordSort;
  dir: SortDirection;
  offset: number;
  limit: number;
}

const SORT_KEYS: Record<RecordSort, string> = {
  name: 'lower(r.name)',
  company: 'lower(r.company)',
  country: 'r.country',
  owner: 'lower(ou.name)',
  created: 'r.created_at',
  updated: 'r.updated_at',
};

function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A page of the records the viewer can access, in a stable order (the sort
 * key, then name and id), and how many match in all.
 */
export async function listRecords(
  q: Queryable,
  viewerId: string,
  orgId: string,
  filters: RecordFilters,
): Promise<{ rows: RecordRow[]; total: number }> {
  const params: unknown[] = [viewerId, orgId];
  const where = [`r.org_id = $2`, recordAccessSql('$1', 'r')];
  const add = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filters.type) {
    where.push(`r.type = ${add(filters.type)}`);
  }
  if (filters.ownerId) {
    where.push(`r.owner_id = ${add(filters.ownerId)}`);
  }
  if (filters.country) {
    where.push(`r.country = ${add(filters.country)}`);
  }
  if (filters.stage) {
    where.push(`r.stage = ${add(filters.stage)}`);
  }
  if (filters.text) {
    const p = add(likePattern(filters.text));
    where.push(`(lower(r.name) like ${p} escape '\\' or lower(r.company) like ${p} escape '\\'
      or exists (select 1 from record_emails e where e.record_id = r.id and e.address like ${p} escape '\\'))`);
  }
  const whereSql = where.join(' and ');
  const dir = filters.dir === 'desc' ? 'desc' : 'asc';
  const order = `${SORT_KEYS[filters.sort]} ${dir} nulls last, lower(r.name), r.id`;
  const counted = await q.query<{ total: number }>(`select count(*)::int as total from ${FROM} where ${whereSql}`, params);
  const limit = add(filters.limit);
  const offset = add(filters.offset);
  const rows = await q.query<RecordRow>(
    `select ${COLUMNS} from ${FROM} where ${whereSql} order by ${order} limit ${limit} offset ${offset}`,
    params,
  );
  return { rows, total: counted[0]?.total ?? 0 };
}

export interface NewRecord {
  id: string;
  orgId: string;
  type: RecordType;
  ownerId: string;
  name: string;
  company: string;
  country: string | null;
  stage: DealStage | null;
  accountId: string | null;
  source: RecordRow['source'];
  createdBy: string;
}

export const RECORD_INSERT_COLUMNS = [
  'id',
  'org_id',
  'type',
  'owner_id',
  'name',
  'company',
  'country',
  'stage',
  'account_id',
  'source',
  'created_by',
] as const;

/** The values of a new record in the order of {@link RECORD_INSERT_COLUMNS}. */
export function recordValues(r: NewRecord): unknown[] {
  return [r.id, r.orgId, r.type, r.ownerId, r.name, r.company, r.country, r.stage, r.accountId, r.source, r.createdBy];
}

export async function insertRecord(q: Queryable, record: NewRecord): Promise<void> {
  const slots = RECORD_INSERT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
  await q.query(`insert into records (${RECORD_INSERT_COLUMNS.join(', ')}) values (${slots})`, recordValues(record));
}

export interface RecordPatch {
  name?: string;
  company?: string;
  country?: string | null;
  ownerId?: string;
  stage?: DealStage;
  accountId?: string | null;
}

const PATCH_COLUMNS: Record<keyof RecordPatch, string> = {
  name: 'name',
  company: 'company',
  country: 'country',
  ownerId: 'owner_id',
  stage: 'stage',
  accountId: 'account_id',
};

/** Applies a partial update and always moves `updated_at` (addresses and links count as changes too). */
export async function updateRecord(q: Queryable, orgId: string, id: string, patch: RecordPatch): Promise<void> {
  const params: unknown[] = [orgId, id];
  const sets = ['updated_at = now()'];
  for (const key of Object.keys(PATCH_COLUMNS) as (keyof RecordPatch)[]) {
    if (patch[key] !== undefined) {
      params.push(patch[key]);
      sets.push(`${PATCH_COLUMNS[key]} = $${params.length}`);
    }
  }
  await q.query(`update records set ${sets.join(', ')} where org_id = $1 and id = $2`, params);
}

/** Deletes a record; its addresses, shares, flags and deal links go with it, and mail unlinks (links are a view). */
export async function deleteRecord(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const rows = await q.query<{ id: string }>('delete from records where org_id = $1 and id = $2 returning id', [orgId, id]);
  return rows.length > 0;
}

/** Whether `viewerId` is above `personId` in the reporting line (directly or not). */
export async function isAbove(q: Queryable, viewerId: string, personId: string): Promise<boolean> {
  const rows = await q.query<{ above: boolean }>(
    `with recursive up(id, depth) as (
       select u.manager_id, 1 from users u where u.id = $2 and u.manager_id is not null
       union all
       select u.manager_id, up.depth + 1 from users u join up on u.id = up.id
       where u.manager_id is not null and up.depth < 1000
     ) select exists (select 1 from up where up.id = $1) as above`,
    [viewerId, personId],
  );
  return rows[0]?.above ?? false;
}
