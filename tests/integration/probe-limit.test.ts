/**
 * "Test connection" makes the server dial a host the person chose, so each
 * person gets a limited number per window, held in the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_LIMIT } from '../../server/commands/mail-accounts';
import { client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';

// A private address without MAIL_ALLOW_PRIVATE_HOSTS is refused before any
// connection, so the limit can be exercised quickly and without a network.
const settings = {
  email: 'probe@acme.test',
  provider: 'custom',
  imap: { host: '127.0.0.1', port: 993, security: 'tls', user: 'probe', password: 'pw' },
  smtp: { host: '127.0.0.1', port: 465, security: 'tls' },
  smtpSameCredentials: true,
  storeSent: true,
};

describe.each(driverCases())('connection-test limit on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;

  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open' });
    api = client(h.app);
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('allows the window’s probes, then answers 429 with Retry-After, then allows again', async () => {
    const { cookie } = await signUpAdmin(api);
    for (let i = 0; i < PROBE_LIMIT.count; i += 1) {
      const res = await api.post<{ imap: { ok: boolean; problem?: { code: string } } }>('/api/mail/test-connection', settings, { cookie });
      expect(res.status).toBe(200);
      expect(res.body.imap.problem?.code).toBe('address_not_allowed');
    }
    const limited = await api.post<{ error: { code: string } }>('/api/mail/test-connection', settings, { cookie });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('too_many_attempts');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const connect = await api.post('/api/mail/accounts', settings, { cookie });
    expect(connect.status).toBe(429);
    const other = await signUpAdmin(api);
    expect((await api.post('/api/mail/test-connection', settings, { cookie: other.cookie })).status).toBe(200);
    h.clock.advance(PROBE_LIMIT.windowMs + 1);
    expect((await api.post('/api/mail/test-connection', settings, { cookie })).status).toBe(200);
  });
});
