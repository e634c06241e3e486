/**
 * @module db/queries/organizations
 */
import type { RecordAccess } from '../../sync/sharing';
import type { Queryable } from '../types';

export interface OrganizationRow {
  id: string;
  name: string;
  recordAccess: RecordAccess;
  createdAt: Date;
}

const COLUMNS = 'id, name, record_access as "recordAccess", created_at as "createdAt"';

/** Inserts an organization. */
export async function insertOrganization(q: Queryable, org: { id: string; name: string }): Promise<OrganizationRow> {
  const rows = await q.query<OrganizationRow>(
    `insert into organizations (id, name) values ($1, $2) returning ${COLUMNS}`,
    [org.id, org.name],
  );
  return rows[0] as OrganizationRow;
}

/** Finds an organization by id. */
export async function findOrganization(q: Queryable, id: string): Promise<OrganizationRow | null> {
  const rows = await q.query<OrganizationRow>(`select ${COLUMNS} from organizations where id = $1`, [id]);
  return rows[0] ?? null;
}

/** Counts organizations (the first sign-up creates one; later ones may be closed). */
export async function countOrganizations(q: Queryable): Promise<number> {
  const rows = await q.query<{ n: number }>('select count(*)::int as n from organizations');
  return rows[0]?.n ?? 0;
}

/**
 * Serialises concurrent first sign-ups: two requests racing for "the first
 * organization" queue on this lock inside their transactions.
 */
export async function lockOrganizationCreation(q: Queryable): Promise<void> {
  await q.query('select pg_advisory_xact_lock($1)', [0x5_40a1_0002]);
}

/** Sets who can access the organization's records. @returns the organization, or null when it does not exist. */
export async function updateRecordAccess(
  q: Queryable,
  id: string,
  recordAccess: RecordAccess,
): Promise<OrganizationRow | null> {
  const rows = await q.query<OrganizationRow>(
    `update organizations set record_access = $2 where id = $1 returning ${COLUMNS}`,
    [id, recordAccess],
  );
  return rows[0] ?? null;
}
