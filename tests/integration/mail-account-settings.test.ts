/**
 * Changing a connected mailbox over HTTP (`PATCH /api/mail/accounts/:id`)
 * against a real Dovecot and SMTP sink, on every database driver: owner
 * only, validation naming the field, a stored secret never sent to a new
 * server, changed servers probed first with every refusal reported (code,
 * message and hint apart), secrets re-sealed under the account's own data
 * key, the probe allowance, the worker restarted, and the health line's
 * "last checked" moving on every check while "since" stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_LIMIT } from '../../server/commands/mail-accounts';
import type { MailSync } from '../../server/ingest/sync-manager';
import { SyncManager } from '../../server/ingest/sync-manager';
import { openAccountSecrets } from '../../server/secrets/account-secrets';
import type { ConnectionTestDto, MailAccountDto, MailAccountUpdateInput } from '../../sync/api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { connectLoopbackAccount, waitFor } from '../helpers/mail-account';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

type ErrorBody = { error: { code: string; message: string; field?: string; details?: Record<string, string> } };

const FAST = { folderIntervalMs: 300, watchdogMs: 20_000, idleDelayMs: 100, leaseRetryMs: 300, reconnectBaseMs: 200, reconnectMaxMs: 1_000 };

describe.runIf(dovecotAvailable()).each(driverCases())('changing a mailbox’s settings on $name', ({ create }) => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let api: Client;
  let manager: SyncManager;
  const restarts: string[] = [];
  let admin: Awaited<ReturnType<typeof signUpAdmin>>;
  let owner: Awaited<ReturnType<typeof addPerson>>;
  let accountId: string;

  const patch = <T = MailAccountDto & ErrorBody>(body: MailAccountUpdateInput | Record<string, unknown>, cookie = owner.cookie) =>
    api.patch<T>(`/api/mail/accounts/${accountId}`, body, { cookie });
  const row = async () =>
    (
      await t.db.query<{ wrappedDek: string; imapSecret: string; smtpSecret: string | null; smtpPort: number; row: string }>(
        `select wrapped_dek as "wrappedDek", imap_secret as "imapSecret", smtp_secret as "smtpSecret", smtp_port as "smtpPort",
           row_to_json(a)::text as row from mail_accounts a where id = $1`,
        [accountId],
      )
    )[0];
  const account = async () => (await api.get<MailAccountDto>(`/api/mail/accounts/${accountId}`, { cookie: owner.cookie })).body;
  const secrets = async () => {
    const r = await row();
    return openAccountSecrets(h.deps.keyring, accountId, { wrappedDek: r?.wrappedDek ?? '', imapSecret: r?.imapSecret ?? '', smtpSecret: r?.smtpSecret ?? null });
  };

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink({ users: [{ user: 'alice', pass: 'alice-pw' }, { user: 'alice-out', pass: 'out-pw' }] });
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
    api = client(h.app);
    manager = new SyncManager({ db: t.db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date(), allowPrivateHosts: true }, FAST);
    // The real manager, with its restarts recorded.
    const sync: MailSync = {
      ensure: (id) => {
        restarts.push(`ensure:${id}`);
        return manager.ensure(id);
      },
      stop: (id) => {
        restarts.push(`stop:${id}`);
        return manager.stop(id);
      },
    };
    h.deps.mailSync = sync;
    admin = await signUpAdmin(api, 'ada@acme.test');
    owner = await addPerson(api, admin.cookie, 'rep', 'Alice Rep');
    accountId = await connectLoopbackAccount(api, owner.cookie, { imapPort: dovecot.port, smtpPort: sink.port, storeSent: true });
  }, 60_000);

  afterAll(async () => {
    await manager?.stopAll();
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('changes the label, store-sent and From addresses without a probe or a restart of incoming sync settings', async () => {
    await waitFor('first sync', async () => (await account()).status, (s) => s === 'idle');
    restarts.length = 0;
    const res = await patch({ label: 'Sales inbox', storeSent: false });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ label: 'Sales inbox', storeSent: false, imap: { user: 'alice' } });
    expect(restarts).toEqual([]);

    const refused = await patch({ fromAddresses: [{ address: 'alice@acme.test' }, { address: 'ceo@rival.test' }] });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'from_address_not_allowed', field: 'fromAddresses.1.address' });
    const from = await patch({ fromAddresses: [{ address: 'alice@acme.test', name: 'Alice' }, { address: 'sales@acme.test', name: 'Acme Sales' }] });
    expect(from.body.fromAddresses).toEqual([
      { address: 'alice@acme.test', name: 'Alice', isDefault: true },
      { address: 'sales@acme.test', name: 'Acme Sales', isDefault: false },
    ]);
    // The worker knows the account's own addresses (message direction), so it restarts with them.
    expect(restarts).toEqual([`stop:${accountId}`, `ensure:${accountId}`]);
    restarts.length = 0;
    const unchanged = await patch({ fromAddresses: [{ address: 'alice@acme.test', name: 'Alice' }, { address: 'sales@acme.test', name: 'Acme Sales' }] });
    expect(unchanged.status).toBe(200);
    expect(restarts).toEqual([]);
    expect((await patch({ label: '' })).body.label).toBe('alice@acme.test');
  });

  it('lets only the owner change an account; admins see settings and health but never a secret', async () => {
    const byAdmin = await patch({ label: 'Mine now' }, admin.cookie);
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.error.code).toBe('forbidden');
    const other = await addPerson(api, admin.cookie, 'rep', 'Other Rep');
    expect((await patch({ label: 'x' }, other.cookie)).status).toBe(404);
    const stranger = await signUpAdmin(api, 'eve@rival.test');
    expect((await patch({ label: 'x' }, stranger.cookie)).status).toBe(404);
    expect((await api.post(`/api/mail/accounts/${accountId}/test-connection`, {}, { cookie: admin.cookie })).status).toBe(403);
    const seen = await api.get<MailAccountDto>(`/api/mail/accounts/${accountId}`, { cookie: admin.cookie });
    expect(seen.status).toBe(200);
    // `authKind: "password"` names the kind of credential, never one.
    expect(JSON.stringify(seen.body)).not.toMatch(/alice-pw|"password"\s*:|secret|v1:/i);
  });

  it('names the offending field, and never sends a stored secret to a new server', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ email: 'other@acme.test' }, 'email'],
      [{ imap: { port: 70_000 } }, 'imap.port'],
      [{ smtp: { security: 'ssl' } }, 'smtp.security'],
      [{ authKind: 'kerberos' }, 'authKind'],
      // A new host or security with the stored password could hand it to someone else's server.
      [{ imap: { host: 'imap.elsewhere.test' } }, 'imap.password'],
      [{ imap: { security: 'starttls' } }, 'imap.password'],
      [{ smtp: { host: 'smtp.elsewhere.test' } }, 'imap.password'],
      [{ authKind: 'oauth2' }, 'imap.password'],
      [{ smtpSameCredentials: false, smtp: { user: 'alice-out' } }, 'smtp.password'],
    ];
    for (const [body, field] of cases) {
      const res = await patch(body);
      expect(res.status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toMatchObject({ code: 'validation_failed', field });
      expect(res.body.error.message.startsWith(`${field}: `)).toBe(true);
    }
    const unknown = await patch({ colour: 'blue' });
    expect(unknown.status).toBe(400);
  });

  it('probes changed servers first, reports every refusal with its hint apart, and saves nothing then', async () => {
    const before = await row();
    const closed = sink.port === 1 ? 2 : 1;
    const res = await patch({ imap: { password: 'wrong' }, smtp: { port: closed } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'connection_failed', field: 'imap' });
    const details = res.body.error.details ?? {};
    expect(details['imap.code']).toBe('auth_failed');
    expect(details['imap.message']).toMatch(/rejected the user name or password/);
    expect(details['imap.message']).not.toMatch(/app password/i);
    expect(details['imap.hint']).toMatch(/app password/i);
    expect(details['smtp.code']).toBe('connection_refused');
    expect(details['smtp.hint']).toMatch(/465/);
    const after = await row();
    expect(after?.imapSecret).toBe(before?.imapSecret);
    expect(after?.smtpPort).toBe(sink.port);
  });

  it('tests an edit without saving it', async () => {
    const ok = await api.post<ConnectionTestDto>(`/api/mail/accounts/${accountId}/test-connection`, {}, { cookie: owner.cookie });
    expect(ok.body).toEqual({ imap: { ok: true }, smtp: { ok: true } });
    const wrong = await api.post<ConnectionTestDto>(`/api/mail/accounts/${accountId}/test-connection`, { imap: { password: 'nope' } }, { cookie: owner.cookie });
    expect(wrong.body.imap).toMatchObject({ ok: false, problem: { code: 'auth_failed' } });
    // Outgoing shares the incoming credentials, so it is refused too.
    expect(wrong.body.smtp).toMatchObject({ ok: false, problem: { code: 'auth_failed' } });
    expect((await secrets()).imap).toBe('alice-pw');
  });

  it('re-seals new secrets with the account’s own data key', async () => {
    const before = await row();
    const res = await patch({ smtpSameCredentials: false, smtp: { user: 'alice-out', password: 'out-pw' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ smtpSameCredentials: false, smtp: { user: 'alice-out' } });
    const after = await row();
    expect(after?.wrappedDek).toBe(before?.wrappedDek);
    expect(after?.smtpSecret).toMatch(/^v1:/);
    expect(after?.row).not.toContain('out-pw');
    expect(await secrets()).toEqual({ imap: 'alice-pw', smtp: 'out-pw' });
    expect(JSON.stringify(res.body)).not.toContain('out-pw');
  });

  it('counts probes against the same allowance as connecting; a change without one is not limited', async () => {
    await t.db.query(
      `insert into rate_limits (key, window_start, count) values ($1, $2, $3)
       on conflict (key) do update set window_start = excluded.window_start, count = excluded.count`,
      [
        `mail-probe:${owner.userId}`,
        h.clock.now(),
        PROBE_LIMIT.count,
      ],
    );
    const limited = await patch({ imap: { password: 'alice-pw' } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('too_many_attempts');
    expect((await patch({ label: 'Still allowed' })).status).toBe(200);
    await t.db.query('delete from rate_limits where key = $1', [`mail-probe:${owner.userId}`]);
  });

  it('keeps "since" while "last checked" moves, explains a failure with its hint apart, and restarts sync with new credentials', async () => {
    const healthy = await waitFor('idle', account, (a) => a.status === 'idle' && a.health.checkedAt !== null);
    const since = healthy.health.since;
    await waitFor('a later check', account, (a) => (a.health.checkedAt ?? '') > (healthy.health.checkedAt ?? ''));
    expect((await account()).health.since).toBe(since);

    // The password changes at the provider; the next connection is refused.
    await dovecot.doveadm(['kick', 'alice']).catch(() => '');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${dovecot.dir}/users`, 'alice:{PLAIN}alice-new\nbob:{PLAIN}bob-pw\n');
    await manager.stop(accountId);
    await manager.ensure(accountId);
    const failing = await waitFor('auth error', account, (a) => a.status === 'error' && a.health.code === 'auth_failed', 30_000);
    expect(failing.health.message).toMatch(/rejected the user name or password/);
    expect(failing.health.message).not.toMatch(/app password/i);
    expect(failing.health.hint).toMatch(/app password/i);
    await waitFor('failure re-checked', account, (a) => (a.health.checkedAt ?? '') > (failing.health.checkedAt ?? ''));
    expect((await account()).health.since).toBe(failing.health.since);

    restarts.length = 0;
    const res = await patch({ imap: { password: 'alice-new' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'pending', health: { code: null, message: null, hint: null } });
    expect(restarts).toEqual([`stop:${accountId}`, `ensure:${accountId}`]);
    // Outgoing has its own credentials: only incoming was probed and changed.
    expect(await secrets()).toEqual({ imap: 'alice-new', smtp: 'out-pw' });
    await waitFor('healthy again', account, (a) => a.status === 'idle', 30_000);
  });

  it('never writes a mailbox secret to the log, though every request, probe and failure above was logged at debug', () => {
    const text = h.logs.join('');
    expect(text).toContain('mailbox settings changed');
    expect(text).toContain('mailbox sync interrupted');
    for (const secret of ['alice-pw', 'alice-new', 'out-pw']) {
      expect(text).not.toContain(secret);
    }
  });
});
