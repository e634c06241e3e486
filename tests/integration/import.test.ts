/**
 * Importing mbox files and .eml folders through the ingest pipeline, and the
 * `npm run shoal -- import` command run as a real process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openDb, type Db } from '../../db';
import { importMessages } from '../../server/ingest/import-messages';
import { readMbox } from '../../server/ingest/import-source';
import { loadConfig } from '../../server/env';
import { createAccountSecrets } from '../../server/secrets/account-secrets';
import { loadKeyring, type Keyring } from '../../server/secrets/keyring';
import { loadCorpus } from '../helpers/corpus';
import { driverCases, type TestDb } from '../helpers/db';

const BODY_WITH_FROM = 'Subject: quoting\r\nMessage-ID: <quoting@import.test>\r\nFrom: a@b.test\r\n\r\nHello\r\nFrom the desk of Ada\r\n>From a quoted line\r\n';

/** An mboxrd file: `From ` separators, and body lines starting with `>*From ` get one more `>`. */
function toMbox(raws: readonly Buffer[]): Buffer {
  const parts = raws.map((raw) => {
    const body = raw.toString('latin1').replace(/^(>*From )/gm, '>$1');
    return `From importer@shoal.test Mon Nov 23 09:00:00 2026\n${body}${body.endsWith('\n') ? '' : '\n'}\n`;
  });
  return Buffer.from(parts.join(''), 'latin1');
}

async function seedAccount(db: Db, keyring: Keyring): Promise<string> {
  const orgId = crypto.randomUUID();
  const userId = crypto.randomUUID();
  const accountId = crypto.randomUUID();
  await db.query('insert into organizations (id, name) values ($1, $2)', [orgId, 'Importers']);
  await db.query(
    `insert into users (id, org_id, email, name, password_hash, role) values ($1, $2, $3, 'Ida', 'x', 'admin')`,
    [userId, orgId, `ida.${accountId.slice(0, 8)}@import.test`],
  );
  const sealed = createAccountSecrets(keyring, accountId, { imap: 'pw', smtp: null });
  await db.query(
    `insert into mail_accounts (id, org_id, owner_id, label, email, provider, imap_host, imap_port, imap_security, imap_user,
       smtp_host, smtp_port, smtp_security, smtp_user, auth_kind, wrapped_dek, imap_secret, smtp_secret)
     values ($1, $2, $3, 'Ida', 'ida@import.test', 'custom', 'imap.import.test', 993, 'tls', 'ida',
       'smtp.import.test', 465, 'tls', 'ida', 'password', $4, $5, $6)`,
    [accountId, orgId, userId, sealed.wrappedDek, sealed.imapSecret, sealed.smtpSecret],
  );
  return accountId;
}

const corpus = loadCorpus({ groups: ['easy-ham-2'], limit: 60 });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-import-'));
  await writeFile(join(dir, 'export.mbox'), toMbox([...corpus.map((m) => m.raw), Buffer.from(BODY_WITH_FROM)]));
  await mkdir(join(dir, 'emls'));
  for (const [i, m] of corpus.slice(0, 12).entries()) {
    await writeFile(join(dir, 'emls', `${String(i).padStart(3, '0')}.eml`), m.raw);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mbox reading', () => {
  it('splits on From lines and undoes mboxrd quoting', async () => {
    const messages: Buffer[] = [];
    for await (const m of readMbox(join(dir, 'export.mbox'))) {
      messages.push(m);
    }
    expect(messages).toHaveLength(corpus.length + 1);
    const last = messages.at(-1)?.toString('latin1') ?? '';
    expect(last).toContain('\nFrom the desk of Ada');
    expect(last).toContain('\n>From a quoted line');
  });
});

describe.each(driverCases())('import on $name', ({ create }) => {
  let t: TestDb;
  let keyring: Keyring;
  let accountId: string;

  beforeAll(async () => {
    t = await create();
    keyring = await loadKeyring(
      loadConfig({ MAIL_KEKS: `k1:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`, MESSAGE_ID_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64') }),
    );
    accountId = await seedAccount(t.db, keyring);
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('imports an mbox once, however often it is run, with progress', async () => {
    const seen: number[] = [];
    const first = await importMessages(t.db, keyring, accountId, join(dir, 'export.mbox'), (p) => seen.push(p.done));
    expect(first).toMatchObject({ total: corpus.length + 1, done: corpus.length + 1, stored: corpus.length + 1, quarantined: 0 });
    expect(seen.at(-1)).toBe(corpus.length + 1);
    const again = await importMessages(t.db, keyring, accountId, join(dir, 'export.mbox'));
    expect(again.stored).toBe(corpus.length + 1);
    const [row] = await t.db.query<{ n: number }>('select count(*)::int as n from messages where account_id = $1', [accountId]);
    expect(row?.n).toBe(corpus.length + 1);
    const [quoted] = await t.db.query<{ text: string }>(
      `select text_body as text from messages where header_message_id = 'quoting@import.test'`,
    );
    expect(quoted?.text).toContain('From the desk of Ada');
  });

  it('imports a folder of .eml files, relinking messages already present', async () => {
    const result = await importMessages(t.db, keyring, accountId, join(dir, 'emls'));
    expect(result).toMatchObject({ total: 12, stored: 12 });
    const [row] = await t.db.query<{ n: number }>('select count(*)::int as n from messages where account_id = $1', [accountId]);
    expect(row?.n).toBe(corpus.length + 1);
  });
});

describe('the shoal import command', () => {
  it('imports through the CLI with a progress bar and a summary', async () => {
    const dataDir = join(dir, 'data');
    const config = loadConfig({ DATA_DIR: dataDir });
    const db = await openDb({ dataDir: config.dataDir });
    await migrate(db);
    const keyring = await loadKeyring(config);
    const accountId = await seedAccount(db, keyring);
    await db.close();
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/shoal.ts', 'import', join(dir, 'emls'), '--account', accountId], {
      env: { PATH: process.env.PATH, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\[#+\] 12\/12 \(100%\)/);
    expect(result.stdout).toContain('Imported 12 of 12 messages');
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/shoal.ts', 'import', join(dir, 'emls')], {
      env: { PATH: process.env.PATH, DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('usage: npm run shoal -- import');
  });
});
