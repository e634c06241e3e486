/**
 * @module tests/helpers/pglite-template
 * A migrated PGlite data directory, dumped once and reused as the starting
 * point of every in-memory test database. initdb plus every migration costs
 * 2.5–4.5 s per database on a 2-core box; loading the dump costs about 1 s.
 * The dump is cached per process (a promise) and on disk under the OS temp
 * dir, named by a hash of the migrations, so a new or edited migration builds
 * a new template and never reuses a stale one.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { loadMigrations, migrate } from '../../db';
import type { Migration } from '../../db/migrate';
import { wrapPglite } from '../../db/drivers/pglite';

// A plain tar: loading skips gunzip, and PGlite reads the Blob's type to decide.
const TAR_TYPE = 'application/x-tar';
// Bump when the dump's shape changes for reasons neither the migrations nor PGlite's version show.
const FORMAT = 'pglite-template-v1';
const PGLITE_PACKAGE = new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url);

let cached: Promise<Blob> | undefined;

/**
 * The cache key for a migration list: any change to a version, name or body changes it,
 * and so does another PGlite version, whose data directory may not load in this one.
 * @returns a hex digest safe for a file name.
 */
export function templateKey(migrations: readonly Pick<Migration, 'version' | 'name' | 'checksum'>[], engine: string): string {
  const hash = createHash('sha256').update(`${FORMAT}\n${engine}`);
  for (const m of migrations) {
    hash.update(`\n${m.version}:${m.name}:${m.checksum}`);
  }
  return hash.digest('hex').slice(0, 32);
}

/** The migrated template for this process, from memory, the disk cache, or built afresh. */
export function pgliteTemplate(): Promise<Blob> {
  cached ??= loadOrBuild();
  return cached;
}

async function loadOrBuild(): Promise<Blob> {
  const migrations = await loadMigrations();
  const path = join(tmpdir(), `shoal-pglite-${templateKey(migrations, await pgliteVersion())}.tar`);
  const onDisk = await readFile(path).catch(() => null);
  if (onDisk) {
    return new Blob([onDisk], { type: TAR_TYPE });
  }
  const built = await buildTemplate(migrations);
  await writeAtomically(path, built);
  return built;
}

/** PGlite's version; `unknown` only widens the key's reach, which the migrate check still guards. */
async function pgliteVersion(): Promise<string> {
  const text = await readFile(PGLITE_PACKAGE, 'utf8').catch(() => '{}');
  const parsed = JSON.parse(text) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : 'unknown';
}

/** Runs initdb and every migration on a fresh in-memory PGlite and dumps it. */
export async function buildTemplate(migrations: Migration[]): Promise<Blob> {
  const pg = await PGlite.create();
  try {
    await migrate(wrapPglite(pg), migrations);
    const dump = await pg.dumpDataDir('none');
    return new Blob([await dump.arrayBuffer()], { type: TAR_TYPE });
  } finally {
    await pg.close();
  }
}

/**
 * Writes beside the target and renames, so a parallel worker sees either no file
 * or a whole one. A failed write only costs the next process a rebuild.
 */
async function writeAtomically(path: string, blob: Blob): Promise<void> {
  const partial = `${path}.${process.pid}.${randomUUID()}.partial`;
  try {
    await writeFile(partial, new Uint8Array(await blob.arrayBuffer()));
    await rename(partial, path);
  } catch {
    await rm(partial, { force: true }).catch(() => {});
  }
}
