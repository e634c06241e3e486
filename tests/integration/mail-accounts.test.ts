/**
 * Connecting mailboxes over HTTP: presets, "test connection" with specific
 * errors against a real Dovecot and SMTP sink, sealed credentials, From
 * address checks, duplicates, who may see or disconnect an account, and
 * validation errors that name their field. Runs on every database driver.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTestDto, MailAccountDto, MailAccountInput, MailAccountListDto, PresetListDto } from '../../sync/api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

type ErrorBody = { error: { code: string; message: string; field?: string; details?: Record<string, string> } };
type Problem = { ok: false; problem: { code: string; message: string; hint: string | null } };

/** A listener that only counts who dialled it, to prove a refused host was never contacted. */
async function countingListener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, connections: () => connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const listener = await countingListener();
  await listener.close();
  return listener.port;
}

function problemOf(result: ConnectionTestDto['imap']): Problem['problem'] {
  if (result.ok) {
    throw new Error('expected the probe to fail');
  }
  return result.problem;
}

describe.each(driverCases())('mailbox accounts over HTTP on $name', ({ create }) => {
  let t: TestDb;
  let api: Client;
  let admin: Awaited<ReturnType<typeof signUpAdmin>>;

  const custom = (overrides: Partial<MailAccountInput> = {}): MailAccountInput => ({
    email: 'alice@acme.test',
    provider: 'custom',
    imap: { host: '127.0.0.1', port: 143, security: 'none', user: 'alice', password: 'alice-pw' },
    smtp: { host: '127.0.0.1', port: 25, security: 'none' },
    smtpSameCredentials: true,
    storeSent: true,
    ...overrides,
  });

  beforeAll(async () => {
    t = await create();
    const h = await createHarness(t.db, { SIGNUP: 'open' });
    api = client(h.app);
    admin = await signUpAdmin(api, 'ada@acme.test');
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('lists the provider presets to signed-in people only', async () => {
    expect((await api.get('/api/mail/presets')).status).toBe(401);
    const res = await api.get<PresetListDto>('/api/mail/presets', { cookie: admin.cookie });
    expect(res.status).toBe(200);
    const ids = res.body.presets.map((p) => p.id);
    expect(ids).toEqual(['gmail', 'outlook', 'office365', 'yahoo', 'zoho', 'icloud']);
    const gmail = res.body.presets.find((p) => p.id === 'gmail');
    expect(gmail).toMatchObject({
      imap: { host: 'imap.gmail.com', port: 993, security: 'tls' },
      smtp: { host: 'smtp.gmail.com', port: 465, security: 'tls' },
      username: 'address',
      appPasswordUrl: 'https://myaccount.google.com/apppasswords',
    });
    expect(gmail?.passwordHint).toMatch(/app password/i);
    expect(res.body.presets.find((p) => p.id === 'icloud')?.username).toBe('local-part');
  });

  it('refuses private hosts without MAIL_ALLOW_PRIVATE_HOSTS and never dials them', async () => {
    const listener = await countingListener();
    try {
      const input = custom({
        imap: { host: '127.0.0.1', port: listener.port, security: 'none', user: 'alice', password: 'alice-pw' },
        smtp: { host: '127.0.0.1', port: listener.port, security: 'none' },
      });
      const res = await api.post<ConnectionTestDto>('/api/mail/test-connection', input, { cookie: admin.cookie });
      expect(res.status).toBe(200);
      expect(problemOf(res.body.imap).code).toBe('address_not_allowed');
      expect(problemOf(res.body.smtp).code).toBe('address_not_allowed');
      expect(problemOf(res.body.imap).hint).toMatch(/MAIL_ALLOW_PRIVATE_HOSTS/);
      const connect = await api.post<ErrorBody>('/api/mail/accounts', input, { cookie: admin.cookie });
      expect(connect.status).toBe(422);
      expect(connect.body.error).toMatchObject({ code: 'connection_failed', field: 'imap' });
      expect(listener.connections()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it('names the offending field in validation errors', async () => {
    const cases: [MailAccountInput, string][] = [
      [custom({ imap: { host: 'imap.acme.test', port: 70_000, security: 'tls', user: 'alice', password: 'x' } }), 'imap.port'],
      [custom({ smtpSameCredentials: false, smtp: { host: 'smtp.acme.test', port: 587, security: 'starttls' } }), 'smtp.user'],
      [custom({ smtpSameCredentials: false, smtp: { host: 'smtp.acme.test', port: 587, security: 'starttls', user: 'alice' } }), 'smtp.password'],
      [custom({ imap: { host: 'imap.acme.test', port: 993, security: 'tls', user: 'alice', password: '' } }), 'imap.password'],
      [custom({ email: 'not-an-address' }), 'email'],
      [custom({ fromAddresses: [{ address: 'sales@acme.test' }, { address: 'nope' }] }), 'fromAddresses.1.address'],
    ];
    for (const [input, field] of cases) {
      for (const path of ['/api/mail/test-connection', '/api/mail/accounts']) {
        const res = await api.post<ErrorBody>(path, input, { cookie: admin.cookie });
        expect(res.status, `${path} ${field}`).toBe(400);
        expect(res.body.error, `${path} ${field}`).toMatchObject({ code: 'validation_failed', field });
        expect(res.body.error.message.startsWith(`${field}: `)).toBe(true);
      }
    }
    const unknown = await api.post<ErrorBody>('/api/mail/accounts', custom({ provider: 'aol' }), { cookie: admin.cookie });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('provider');
  });

  it('refuses a From address outside the organization’s domains, naming the row', async () => {
    const res = await api.post<ErrorBody>(
      '/api/mail/accounts',
      custom({ fromAddresses: [{ address: 'ceo@rival.test', name: 'Not us' }] }),
      { cookie: admin.cookie },
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'from_address_not_allowed', field: 'fromAddresses.0.address' });
    expect(res.body.error.message).toContain('acme.test');
    const later = await api.post<ErrorBody>(
      '/api/mail/accounts',
      custom({ fromAddresses: [{ address: 'sales@acme.test' }, { address: 'x@rival.test' }] }),
      { cookie: admin.cookie },
    );
    expect(later.body.error).toMatchObject({ code: 'from_address_not_allowed', field: 'fromAddresses.1.address' });
  });

  describe.runIf(dovecotAvailable())('against Dovecot and an SMTP sink', () => {
    let liveApi: Client;
    let liveHarness: Harness;
    let dovecot: Dovecot;
    let sink: SmtpSink;
    let owner: Awaited<ReturnType<typeof signUpAdmin>>;
    let accountId: string;

    const live = (overrides: Partial<MailAccountInput> = {}): MailAccountInput =>
      custom({
        imap: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: 'alice', password: 'alice-pw' },
        smtp: { host: '127.0.0.1', port: sink.port, security: 'none' },
        ...overrides,
      });

    beforeAll(async () => {
      dovecot = await startDovecot();
      sink = await startSmtpSink({ users: [{ user: 'alice', pass: 'alice-pw' }, { user: 'bob', pass: 'bob-pw' }] });
      liveHarness = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
      liveApi = client(liveHarness.app);
      owner = await signUpAdmin(liveApi, 'alice@acme.test');
    });
    afterAll(async () => {
      await sink?.stop();
      await dovecot?.stop();
    });

    it('test connection succeeds when both servers accept the settings', async () => {
      const res = await liveApi.post<ConnectionTestDto>('/api/mail/test-connection', live(), { cookie: owner.cookie });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ imap: { ok: true }, smtp: { ok: true } });
      expect(sink.messages).toHaveLength(0);
    });

    it('a wrong password is auth_failed with the app-password hint', async () => {
      const res = await liveApi.post<ConnectionTestDto>(
        '/api/mail/test-connection',
        live({ imap: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: 'alice', password: 'wrong' } }),
        { cookie: owner.cookie },
      );
      const imap = problemOf(res.body.imap);
      expect(imap.code).toBe('auth_failed');
      expect(imap.message).toContain('Incoming (IMAP)');
      expect(imap.hint).toMatch(/app password/i);
      // Same credentials for outgoing: the sink refuses them too.
      expect(problemOf(res.body.smtp).code).toBe('auth_failed');
      const gmail = await liveApi.post<ConnectionTestDto>(
        '/api/mail/test-connection',
        live({ provider: 'gmail', imap: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: 'alice', password: 'wrong' } }),
        { cookie: owner.cookie },
      );
      expect(problemOf(gmail.body.imap).hint).toMatch(/Google requires an app password/);
    });

    it('a refused port is connection_refused naming the usual ports', async () => {
      const port = await closedPort();
      const res = await liveApi.post<ConnectionTestDto>(
        '/api/mail/test-connection',
        live({
          imap: { host: '127.0.0.1', port, security: 'tls', user: 'alice', password: 'alice-pw' },
          smtp: { host: '127.0.0.1', port, security: 'tls' },
        }),
        { cookie: owner.cookie },
      );
      const imap = problemOf(res.body.imap);
      expect(imap.code).toBe('connection_refused');
      expect(imap.hint).toMatch(/993/);
      expect(imap.hint).toMatch(/143/);
      const smtp = problemOf(res.body.smtp);
      expect(smtp.code).toBe('connection_refused');
      expect(smtp.hint).toMatch(/465.*587/);
    });

    it('SSL/TLS against a plaintext port is tls_mismatch', async () => {
      const res = await liveApi.post<ConnectionTestDto>(
        '/api/mail/test-connection',
        live({
          imap: { host: '127.0.0.1', port: dovecot.port, security: 'tls', user: 'alice', password: 'alice-pw' },
          smtp: { host: '127.0.0.1', port: sink.port, security: 'tls' },
        }),
        { cookie: owner.cookie },
      );
      const imap = problemOf(res.body.imap);
      expect(imap.code).toBe('tls_mismatch');
      expect(imap.hint).toMatch(/STARTTLS|993/);
      expect(problemOf(res.body.smtp).code).toBe('tls_mismatch');
    });

    it('connect stores the account without any plaintext password', async () => {
      const res = await liveApi.post<MailAccountDto>(
        '/api/mail/accounts',
        live({ label: 'Alice at Acme', fromAddresses: [{ address: 'sales@acme.test', name: 'Acme Sales' }] }),
        { cookie: owner.cookie },
      );
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      accountId = res.body.id;
      expect(res.body).toMatchObject({
        ownerId: owner.userId,
        label: 'Alice at Acme',
        email: 'alice@acme.test',
        provider: 'custom',
        imap: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: 'alice' },
        smtp: { host: '127.0.0.1', port: sink.port, security: 'none', user: 'alice' },
        smtpSameCredentials: true,
        storeSent: true,
        status: 'pending',
        progress: { done: 0, total: 0 },
      });
      expect(res.body.fromAddresses).toEqual([
        { address: 'alice@acme.test', name: null, isDefault: true },
        { address: 'sales@acme.test', name: 'Acme Sales', isDefault: false },
      ]);
      expect(JSON.stringify(res.body)).not.toContain('alice-pw');
      // `authKind: "password"` names the kind of credential, never one.
      expect(JSON.stringify(res.body)).not.toMatch(/"password"\s*:|secret|ciphertext/i);
      expect(res.body.authKind).toBe('password');
      const rows = await t.db.query<{ row: string }>('select row_to_json(a)::text as row from mail_accounts a where id = $1', [accountId]);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.row).not.toContain('alice-pw');
      expect(rows[0]?.row).toMatch(/v1:/);
    });

    it('connect with a failing probe is 422 connection_failed naming the server', async () => {
      const imap = await liveApi.post<ErrorBody>(
        '/api/mail/accounts',
        live({ email: 'alice2@acme.test', imap: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: 'alice', password: 'nope' } }),
        { cookie: owner.cookie },
      );
      expect(imap.status).toBe(422);
      expect(imap.body.error).toMatchObject({ code: 'connection_failed', field: 'imap' });
      expect(imap.body.error.message).toMatch(/rejected the user name or password/);
      // Outgoing shares the refused credentials: every refusing server is reported, hints apart.
      expect(imap.body.error.details).toMatchObject({ 'imap.code': 'auth_failed', 'smtp.code': 'auth_failed' });
      expect(imap.body.error.details?.['imap.hint']).toMatch(/app password/i);
      expect(imap.body.error.details?.['smtp.message']).toMatch(/Outgoing \(SMTP\)/);
      const smtp = await liveApi.post<ErrorBody>(
        '/api/mail/accounts',
        live({
          email: 'alice2@acme.test',
          smtpSameCredentials: false,
          smtp: { host: '127.0.0.1', port: sink.port, security: 'none', user: 'alice', password: 'wrong' },
        }),
        { cookie: owner.cookie },
      );
      expect(smtp.status).toBe(422);
      expect(smtp.body.error).toMatchObject({ code: 'connection_failed', field: 'smtp' });
      expect(Object.keys(smtp.body.error.details ?? {}).filter((k) => k.startsWith('imap.'))).toEqual([]);
      const list = await liveApi.get<MailAccountListDto>('/api/mail/accounts', { cookie: owner.cookie });
      expect(list.body.accounts.map((a) => a.email)).toEqual(['alice@acme.test']);
    });

    it('connecting the same address twice is 409', async () => {
      const res = await liveApi.post<ErrorBody>('/api/mail/accounts', live(), { cookie: owner.cookie });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'conflict', field: 'email' });
    });

    it('lists and gets my accounts; others see only theirs; an admin sees all', async () => {
      const mine = await liveApi.get<MailAccountListDto>('/api/mail/accounts', { cookie: owner.cookie });
      expect(mine.body.accounts.map((a) => a.id)).toEqual([accountId]);
      const one = await liveApi.get<MailAccountDto>(`/api/mail/accounts/${accountId}`, { cookie: owner.cookie });
      expect(one.status).toBe(200);
      expect(one.body.email).toBe('alice@acme.test');

      const rep = await addPerson(liveApi, owner.cookie, 'rep', 'Bob Rep');
      const bobs = await liveApi.post<MailAccountDto>(
        '/api/mail/accounts',
        live({ email: 'bob@acme.test', imap: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: 'bob', password: 'bob-pw' } }),
        { cookie: rep.cookie },
      );
      expect(bobs.status, JSON.stringify(bobs.body)).toBe(201);
      expect((await liveApi.get<MailAccountListDto>('/api/mail/accounts', { cookie: rep.cookie })).body.accounts.map((a) => a.id)).toEqual([
        bobs.body.id,
      ]);
      expect((await liveApi.get(`/api/mail/accounts/${accountId}`, { cookie: rep.cookie })).status).toBe(404);
      expect((await liveApi.delete(`/api/mail/accounts/${accountId}`, { cookie: rep.cookie })).status).toBe(404);
      expect((await liveApi.get('/api/mail/accounts/all', { cookie: rep.cookie })).status).toBe(403);

      const all = await liveApi.get<MailAccountListDto>('/api/mail/accounts/all', { cookie: owner.cookie });
      expect(all.status).toBe(200);
      expect(all.body.accounts.map((a) => a.email).sort()).toEqual(['alice@acme.test', 'bob@acme.test']);
      expect((await liveApi.get(`/api/mail/accounts/${bobs.body.id}`, { cookie: owner.cookie })).status).toBe(200);
      // Another organization's admin sees none of it.
      const stranger = await signUpAdmin(liveApi, 'eve@rival.test');
      expect((await liveApi.get<MailAccountListDto>('/api/mail/accounts/all', { cookie: stranger.cookie })).body.accounts).toEqual([]);
      expect((await liveApi.get(`/api/mail/accounts/${accountId}`, { cookie: stranger.cookie })).status).toBe(404);
    });

    it('disconnecting deletes Shoal’s copy only', async () => {
      const before = await dovecot.status('alice', 'INBOX');
      const res = await liveApi.delete(`/api/mail/accounts/${accountId}`, { cookie: owner.cookie });
      expect(res.status).toBe(204);
      expect((await liveApi.get(`/api/mail/accounts/${accountId}`, { cookie: owner.cookie })).status).toBe(404);
      expect((await liveApi.delete(`/api/mail/accounts/${accountId}`, { cookie: owner.cookie })).status).toBe(404);
      expect((await liveApi.get<MailAccountListDto>('/api/mail/accounts', { cookie: owner.cookie })).body.accounts).toEqual([]);
      expect(await dovecot.status('alice', 'INBOX')).toEqual(before);
    });

    it('never writes a mailbox password to the log, though every test, connect and refusal above was logged at debug', () => {
      const text = liveHarness.logs.join('');
      expect(text).toContain('mailbox connected');
      expect(text).toContain('/api/mail/test-connection');
      for (const secret of ['alice-pw', 'bob-pw']) {
        expect(text).not.toContain(secret);
      }
    });
  });
});
