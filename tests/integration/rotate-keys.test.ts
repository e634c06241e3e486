/**
 * `npm run keys:rotate` run as a real process on every database driver:
 * `--new-key` adds a key-encryption key to the keyring file (still 0600)
 * and re-wraps every mailbox's data key with it, the sealed credentials
 * themselves stay as they were and still open, a second run has nothing to
 * do, keys from MAIL_KEKS refuse `--new-key`, and no credential is printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openDb, type Db } from '../../db';
import { loadConfig } from '../../server/env';
import { createAccountSecrets, openAccountSecrets, type SealedAccountSecrets } from '../../server/secrets/account-secrets';
import { keyringPath, loadKeyring } from '../../server/secrets/keyring';
import { driverCases, type TestDb } from '../helpers/db';

const IMAP_SECRET = `imap-canary-${crypto.randomUUID()}`;
const SMTP_SECRET = `smtp-canary-${crypto.randomUUID()}`;

const kidOf = (sealed: string) => sealed.split(':')[1];

async function seedAccount(db: Db, sealed: SealedAccountSecrets, accountId: string): Promise<void> {
  const orgId = crypto.randomUUID();
  const userId = crypto.randomUUID();
  await db.query('insert into organizations (id, name) values ($1, $2)', [orgId, 'Rotators']);
  await db.query(`insert into users (id, org_id, email, name, password_hash, role) values ($1, $2, $3, 'Rita', 'x', 'admin')`, [
    userId,
    orgId,
    `rita.${accountId.slice(0, 8)}@rotate.test`,
  ]);
  await db.query(
    `insert into mail_accounts (id, org_id, owner_id, label, email, provider, imap_host, imap_port, imap_security, imap_user,
       smtp_host, smtp_port, smtp_security, smtp_user, auth_kind, wrapped_dek, imap_secret, smtp_secret)
     values ($1, $2, $3, 'Rita', 'rita@rotate.test', 'custom', 'imap.rotate.test', 993, 'tls', 'rita',
       'smtp.rotate.test', 465, 'tls', 'rita-out', 'password', $4, $5, $6)`,
    [accountId, orgId, userId, sealed.wrappedDek, sealed.imapSecret, sealed.smtpSecret],
  );
}

async function readSealed(db: Db, accountId: string): Promise<SealedAccountSecrets> {
  const [row] = await db.query<SealedAccountSecrets>(
    `select wrapped_dek as "wrappedDek", imap_secret as "imapSecret", smtp_secret as "smtpSecret" from mail_accounts where id = $1`,
    [accountId],
  );
  return row as SealedAccountSecrets;
}

describe.each(driverCases())('the keys:rotate command on $name', ({ name, create }) => {
  let dir: string;
  let dataDir: string;
  let t: TestDb | null = null;
  let env: Record<string, string>;
  const accountId = crypto.randomUUID();

  /** The database the command works on: file-backed PGlite in DATA_DIR, or the test's Postgres database. */
  async function openStore(): Promise<Db> {
    if (t) {
      return t.db;
    }
    const db = await openDb({ dataDir });
    await migrate(db);
    return db;
  }
  async function closeStore(db: Db): Promise<void> {
    // PGlite's files belong to one process at a time; the shared Postgres handle stays open.
    if (!t) {
      await db.close();
    }
  }

  const rotate = (args: string[], extra: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'scripts/rotate-keys.ts', ...args], {
      env: { PATH: process.env.PATH, ...env, ...extra },
      encoding: 'utf8',
      timeout: 60_000,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-rotate-'));
    dataDir = join(dir, 'data');
    env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    if (name === 'postgres') {
      t = await create();
      const [row] = await t.db.query<{ db: string }>('select current_database() as db');
      const url = new URL(process.env.TEST_DATABASE_URL as string);
      url.pathname = `/${row?.db}`;
      env.DATABASE_URL = url.toString();
    }
    const keyring = await loadKeyring(loadConfig({ DATA_DIR: dataDir }));
    const db = await openStore();
    await seedAccount(db, createAccountSecrets(keyring, accountId, { imap: IMAP_SECRET, smtp: SMTP_SECRET }), accountId);
    await closeStore(db);
  });

  afterAll(async () => {
    await t?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds a key, re-wraps every data key with it, and every credential still opens', async () => {
    let db = await openStore();
    const before = await readSealed(db, accountId);
    await closeStore(db);
    const oldKid = kidOf(before.wrappedDek);

    const run = rotate(['--new-key']);
    expect(run.status, run.stderr).toBe(0);
    const keyring = await loadKeyring(loadConfig({ DATA_DIR: dataDir }));
    const newKid = keyring.active.kid;
    expect(newKid).not.toBe(oldKid);
    expect(run.stdout).toContain(`Added key ${newKid} to ${keyringPath(dataDir)} and made it active.`);
    expect(run.stdout).toContain(`Re-wrapped 1 mailbox key(s) with ${newKid}; 0 already used it.`);
    expect(run.stdout).toContain(`Older keys ${oldKid} stay in the keyring`);
    expect(run.stdout + run.stderr).not.toMatch(/canary/);
    expect((await stat(keyringPath(dataDir))).mode & 0o777).toBe(0o600);

    db = await openStore();
    const after = await readSealed(db, accountId);
    await closeStore(db);
    expect(kidOf(after.wrappedDek)).toBe(newKid);
    // Only the data key is re-wrapped; the credentials sealed under it are untouched.
    expect(after.imapSecret).toBe(before.imapSecret);
    expect(after.smtpSecret).toBe(before.smtpSecret);
    expect(openAccountSecrets(keyring, accountId, after)).toEqual({ imap: IMAP_SECRET, smtp: SMTP_SECRET });
  });

  it('has nothing to do when run again', () => {
    const run = rotate([]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Re-wrapped 0 mailbox key\(s\) with \S+; 1 already used it\./);
  });

  it('refuses --new-key when the keys come from MAIL_KEKS, and unknown arguments', () => {
    const fromEnv = rotate(['--new-key'], { MAIL_KEKS: `env1:${Buffer.alloc(32, 7).toString('base64')}` });
    expect(fromEnv.status).toBe(1);
    expect(fromEnv.stderr).toContain('Keys come from MAIL_KEKS, so --new-key cannot add one.');
    const unknown = rotate(['--all']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('Unknown argument --all');
  });
});
