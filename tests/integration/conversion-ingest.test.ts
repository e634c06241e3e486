/**
 * The ingest hooks: conversion rules fire on real mail stored by the CLI
 * import and by a live IMAP sync (throwaway Dovecot), history does not
 * convert, and a broken rule never stops mail from being stored.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db';
import { importMessages } from '../../server/ingest/import-messages';
import { SyncManager } from '../../server/ingest/sync-manager';
import type { ConversionRuleDto } from '../../sync/conversion-api';
import { client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { eml, seedMailbox } from '../helpers/conversion-mail';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { connectLoopbackAccount, waitFor } from '../helpers/mail-account';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

const LONG_AGO = new Date('2019-03-04T10:00:00Z');

/** A rule whose owner strategy names a group id Postgres cannot even parse: it fails every time it is tried. */
async function insertBrokenRule(db: Db, orgId: string): Promise<string> {
  const id = crypto.randomUUID();
  await db.query(
    `insert into conversion_rules (id, org_id, name, position, record_type, criteria, owner_strategy)
     values ($1, $2, 'Broken', -1, 'lead', '{"senderDomains": ["newco.test"]}',
       '{"kind": "round_robin", "pool": {"kind": "group", "groupId": "not-a-uuid"}}')`,
    [id, orgId],
  );
  return id;
}

async function fired(db: Db, id: string): Promise<number> {
  const [row] = await db.query<{ n: number }>('select fired_count as n from conversion_rules where id = $1', [id]);
  return row?.n ?? -1;
}

async function recordSource(db: Db, orgId: string, address: string): Promise<string | null> {
  const [row] = await db.query<{ source: string }>(
    'select r.source from record_emails e join records r on r.id = e.record_id where e.org_id = $1 and e.address = $2',
    [orgId, address],
  );
  return row?.source ?? null;
}

async function createRule(api: Client, cookie: string, ownerId: string): Promise<ConversionRuleDto> {
  const res = await api.post<ConversionRuleDto>(
    '/api/admin/conversion-rules',
    { name: 'New Co', recordType: 'lead', criteria: { senderDomains: ['newco.test'] }, ownerStrategy: { kind: 'person', userId: ownerId } },
    { cookie },
  );
  expect(res.status).toBe(201);
  return res.body;
}

describe.each(driverCases())('conversion rules in the import command on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db);
    dir = await mkdtemp(join(tmpdir(), 'shoal-conv-import-'));
  });
  afterAll(async () => {
    await t?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('fires for new senders in imported mail, not for history, and survives a broken rule', async () => {
    const api = client(h.app);
    const admin = await signUpAdmin(api);
    const box = await seedMailbox(t.db, h.deps.keyring, admin.orgId, admin.userId, 'imports@shoal-sales.test');
    const rule = await createRule(api, admin.cookie, admin.userId);
    const broken = await insertBrokenRule(t.db, admin.orgId);
    const mails = [
      eml({ from: 'nina@newco.test', fromName: 'Nina New', to: [box.email], subject: 'Hello' }),
      eml({ from: 'nina@newco.test', to: [box.email], subject: 'Again' }),
      eml({ from: 'archive@newco.test', to: [box.email], date: LONG_AGO }),
      eml({ from: 'someone@elsewhere.test', to: [box.email] }),
    ];
    for (const [i, raw] of mails.entries()) {
      await writeFile(join(dir, `${i}.eml`), raw);
    }
    const result = await importMessages(t.db, h.deps.keyring, box.accountId, dir);
    expect(result).toMatchObject({ total: 4, stored: 4, quarantined: 0 });
    expect(await recordSource(t.db, admin.orgId, 'nina@newco.test')).toBe('rule');
    expect(await recordSource(t.db, admin.orgId, 'archive@newco.test')).toBeNull();
    expect(await recordSource(t.db, admin.orgId, 'someone@elsewhere.test')).toBeNull();
    expect(await fired(t.db, rule.id)).toBe(1);
    expect(await fired(t.db, broken)).toBe(0);

    // Importing the same folder again stores nothing new and creates nothing twice.
    await importMessages(t.db, h.deps.keyring, box.accountId, dir);
    expect(await fired(t.db, rule.id)).toBe(1);
  });
});

describe.runIf(dovecotAvailable()).each(driverCases())('conversion rules in mailbox sync on $name', ({ create }) => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let manager: SyncManager;

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
  }, 120_000);
  afterAll(async () => {
    await manager?.stopAll();
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('converts a new sender arriving by IMAP, after the backfill of older mail converted nobody', async () => {
    await dovecot.prefill('alice', 'INBOX', [Buffer.from(eml({ from: 'old.friend@newco.test', to: ['alice@acme.test'], date: LONG_AGO }))]);
    const api = client(h.app);
    const admin = await signUpAdmin(api, 'alice@acme.test');
    const rule = await createRule(api, admin.cookie, admin.userId);
    const broken = await insertBrokenRule(t.db, admin.orgId);
    const accountId = await connectLoopbackAccount(api, admin.cookie, { imapPort: dovecot.port, smtpPort: sink.port });
    manager = new SyncManager(
      { db: t.db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date(), allowPrivateHosts: true },
      { folderIntervalMs: 400, watchdogMs: 20_000, idleDelayMs: 100, leaseRetryMs: 300 },
    );
    await manager.ensure(accountId);
    const messages = async () =>
      Number((await t.db.query<{ n: number }>('select count(*)::int as n from messages where account_id = $1', [accountId]))[0]?.n ?? 0);
    await waitFor('initial sync', messages, (n) => n === 1, 60_000);
    expect(await recordSource(t.db, admin.orgId, 'old.friend@newco.test')).toBeNull();

    await dovecot.save('alice', 'INBOX', eml({ from: 'nina@newco.test', fromName: 'Nina New', to: ['alice@acme.test'], subject: 'Interested' }));
    await waitFor('the rule to fire', () => recordSource(t.db, admin.orgId, 'nina@newco.test'), (s) => s === 'rule', 60_000);
    expect(await fired(t.db, rule.id)).toBe(1);
    expect(await fired(t.db, broken)).toBe(0);
    expect(h.logs.some((line) => line.includes('conversion rule failed'))).toBe(true);
  });
});
