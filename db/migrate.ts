/**
 * @module db/migrate
 * Numbered SQL files in db/migrations, applied in order, each inside one
 * transaction together with its row in `shoal_migrations`. An advisory lock
 * keeps two processes booting at once from applying the same file twice.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { Db, Queryable } from './types';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// Any fixed 64-bit number; it only has to differ from other advisory locks we take.
const MIGRATION_LOCK = 0x5_40a1_0001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** A migration already applied whose file has since changed, or a gap in numbering. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/**
 * Reads the migration files in version order.
 * @throws {MigrationError} on a file name that does not follow `NNNN_name.sql` or a duplicate version.
 */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) {
      throw new MigrationError(`Migration file ${file} must be named NNNN_snake_name.sql`);
    }
    const sql = await readFile(new URL(file, dir), 'utf8');
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) {
      throw new MigrationError(`Two migration files share version ${version}`);
    }
    migrations.push({ version, name: match[2] ?? file, sql, checksum: sha256(sql) });
  }
  return migrations;
}

/**
 * Applies every pending migration.
 * @returns the versions applied by this call.
 * @throws {MigrationError} when an applied migration's file was edited afterwards.
 */
export async function migrate(db: Db, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? (await loadMigrations());
  await ensureLedger(db);
  const applied: number[] = [];
  for (const migration of all) {
    const didApply = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const existing = await appliedChecksum(tx, migration.version);
      if (existing !== null) {
        if (existing !== migration.checksum) {
          throw new MigrationError(
            `Migration ${migration.version}_${migration.name} was changed after it was applied; add a new migration instead.`,
          );
        }
        return false;
      }
      await tx.exec(migration.sql);
      await tx.query('insert into shoal_migrations (version, name, checksum) values ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (didApply) {
      applied.push(migration.version);
    }
  }
  return applied;
}

/**
 * Tells whether every migration file is applied (for /readyz).
 * @returns the versions still pending.
 */
export async function pendingMigrations(db: Queryable, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? (await loadMigrations());
  const rows = await db
    .query<{ version: number }>('select version from shoal_migrations')
    .catch(() => [] as { version: number }[]);
  const done = new Set(rows.map((r) => r.version));
  return all.filter((m) => !done.has(m.version)).map((m) => m.version);
}

async function ensureLedger(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`create table if not exists shoal_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`);
  });
}

async function appliedChecksum(tx: Queryable, version: number): Promise<string | null> {
  const rows = await tx.query<{ checksum: string }>('select checksum from shoal_migrations where version = $1', [
    version,
  ]);
  return rows[0]?.checksum ?? null;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
