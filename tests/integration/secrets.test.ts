/**
 * Mailbox credentials at rest on every database driver: the database (and a
 * pg_dump of it) never holds the plaintext, and KEK rotation re-wraps every
 * account's data key in batches without losing a credential.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../db';
import { createAccountSecrets, openAccountSecrets, rewrapAllAccounts, type SealedAccountSecrets } from '../../server/secrets/account-secrets';
import { addKek, loadKeyring, type Keyring, type KeyringConfig } from '../../server/secrets/keyring';
import { driverCases, type TestDb } from '../helpers/db';
import { prerequisite } from '../helpers/prereq';

const PG_DUMP = '/usr/bin/pg_dump';

interface Owner {
  orgId: string;
  userId: string;
}

async function insertOwner(q: Queryable): Promise<Owner> {
  const orgId = randomUUID();
  const userId = randomUUID();
  await q.query('insert into organizations (id, name) values ($1, $2)', [orgId, 'Secrets Co']);
  await q.query(
    `insert into users (id, org_id, email, name, password_hash, role) values ($1, $2, $3, 'Sam', 'not-a-real-hash', 'admin')`,
    [userId, orgId, `sam-${userId}@example.com`],
  );
  return { orgId, userId };
}

async function insertAccount(q: Queryable, owner: Owner, id: string, sealed: SealedAccountSecrets): Promise<void> {
  await q.query(
    `insert into mail_accounts (id, org_id, owner_id, label, email, provider, imap_host, imap_port, imap_security,
       imap_user, smtp_host, smtp_port, smtp_security, smtp_user, auth_kind, wrapped_dek, imap_secret, smtp_secret)
     values ($1, $2, $3, 'Work', $4, 'generic', 'imap.example.com', 993, 'tls',
       $4, 'smtp.example.com', 465, 'tls', $4, 'password', $5, $6, $7)`,
    [id, owner.orgId, owner.userId, `box-${id}@example.com`, sealed.wrappedDek, sealed.imapSecret, sealed.smtpSecret],
  );
}

async function readSealed(q: Queryable, id: string): Promise<SealedAccountSecrets> {
  const rows = await q.query<SealedAccountSecrets>(
    `select wrapped_dek as "wrappedDek", imap_secret as "imapSecret", smtp_secret as "smtpSecret" from mail_accounts where id = $1`,
    [id],
  );
  return rows[0] as SealedAccountSecrets;
}

const kidOf = (sealed: string): string => sealed.split(':')[1] as string;

describe.each(driverCases())('mailbox secrets at rest on $name', ({ name, create }) => {
  const canary = `hunter2-plaintext-canary-${randomUUID()}`;
  const smtpCanary = `hunter2-plaintext-canary-${randomUUID()}`;
  const accountId = randomUUID();
  let t: TestDb;
  let dataDir: string;
  let config: KeyringConfig;
  let keyring: Keyring;
  let owner: Owner;

  beforeAll(async () => {
    t = await create();
    dataDir = mkdtempSync(join(tmpdir(), 'shoal-secrets-'));
    config = { mailKeks: null, mailKekActive: null, messageIdKey: null, dataDir };
    keyring = await loadKeyring(config);
    owner = await insertOwner(t.db);
    await insertAccount(t.db, owner, accountId, createAccountSecrets(keyring, accountId, { imap: canary, smtp: smtpCanary }));
  });
  afterAll(async () => {
    await t?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores no plaintext credential anywhere in the row', async () => {
    const rows = await t.db.query<{ row: string }>('select row_to_json(a)::text as row from mail_accounts a');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.row).toContain(accountId);
    expect(rows[0]?.row).not.toContain(canary);
    expect(rows[0]?.row).not.toContain(smtpCanary);
    expect(rows[0]?.row).not.toContain('hunter2');
    expect(openAccountSecrets(keyring, accountId, await readSealed(t.db, accountId))).toEqual({ imap: canary, smtp: smtpCanary });
  });

  // Postgres only: PGlite has no server to dump.
  if (name === 'postgres') {
    const pgDumpReady = prerequisite('pg_dump', existsSync(PG_DUMP) ? null : `${PG_DUMP} not found`);
    it.runIf(pgDumpReady)('leaves no plaintext credential in a pg_dump of the database', async () => {
      const [{ db } = { db: '' }] = await t.db.query<{ db: string }>('select current_database() as db');
      const url = new URL(process.env.TEST_DATABASE_URL as string);
      url.pathname = `/${db}`;
      const { stdout } = await promisify(execFile)(PG_DUMP, ['--no-owner', url.toString()], { maxBuffer: 64 * 1024 * 1024 });
      expect(stdout).toContain(accountId);
      expect(stdout).not.toContain(canary);
      expect(stdout).not.toContain(smtpCanary);
    });
  }

  it('re-wraps every data key with a new KEK, across batches, and every credential still opens', async () => {
    const others = Array.from({ length: 230 }, () => randomUUID());
    await t.db.transaction(async (tx) => {
      for (const id of others) {
        await insertAccount(tx, owner, id, createAccountSecrets(keyring, id, { imap: `${id}-imap`, smtp: null }));
      }
    });
    const before = await readSealed(t.db, accountId);
    expect(kidOf(before.wrappedDek)).toBe('k1');

    expect(await addKek(dataDir)).toBe('k2');
    const rotated = await loadKeyring(config);
    expect(await rewrapAllAccounts(t.db, rotated)).toEqual({ rewrapped: others.length + 1, alreadyCurrent: 0 });

    const after = await readSealed(t.db, accountId);
    expect(kidOf(after.wrappedDek)).toBe('k2');
    expect(after.imapSecret).toBe(before.imapSecret);
    expect(openAccountSecrets(rotated, accountId, after)).toEqual({ imap: canary, smtp: smtpCanary });
    const onlyNew: Keyring = { ...rotated, keks: new Map([['k2', rotated.active.key]]) };
    for (const id of [others[0], others[99], others[100], others.at(-1)] as string[]) {
      expect(openAccountSecrets(onlyNew, id, await readSealed(t.db, id))).toEqual({ imap: `${id}-imap`, smtp: `${id}-imap` });
    }
    const kids = await t.db.query<{ kid: string; n: number }>(
      `select split_part(wrapped_dek, ':', 2) as kid, count(*)::int as n from mail_accounts group by 1`,
    );
    expect(kids).toEqual([{ kid: 'k2', n: others.length + 1 }]);

    expect(await rewrapAllAccounts(t.db, rotated)).toEqual({ rewrapped: 0, alreadyCurrent: others.length + 1 });
  });
});
