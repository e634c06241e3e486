/**
 * Sign-up, log-in, sessions, throttling and the Origin rule, over the real
 * app on every database driver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_REFRESH_MS, SESSION_TTL_MS } from '../../server/auth/session';
import { ACCOUNT_LOCK_MS } from '../../server/auth/throttle';
import { client, createHarness, PASSWORD, signUpAdmin, uniqueEmail, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';

describe.each(driverCases())('auth over HTTP on $name', ({ create }) => {
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

  describe('sign-up', () => {
    it('creates the organization and its admin, signs them in with a hardened cookie', async () => {
      const email = uniqueEmail('Founder').toUpperCase();
      const res = await api.post<{ user: { role: string; email: string }; org: { name: string } }>(
        '/api/auth/signup',
        { orgName: 'Acme', name: 'Fay', email: `  ${email} `, password: PASSWORD },
      );
      expect(res.status).toBe(201);
      expect(res.body.user.role).toBe('admin');
      expect(res.body.user.email).toBe(email.toLowerCase());
      expect(res.body.org.name).toBe('Acme');
      const setCookie = res.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Lax/);
      expect(setCookie).not.toMatch(/Secure/);
      const token = res.cookie?.split('=')[1] ?? '';
      expect(token).toMatch(/^[a-z2-7]{24}\.[a-z2-7]{24}$/);
      const me = await api.get<{ user: { email: string } }>('/api/me', { cookie: res.cookie });
      expect(me.status).toBe(200);
      expect(me.body.user.email).toBe(email.toLowerCase());
    });

    it('stores only a hash of the session secret', async () => {
      const { cookie } = await signUpAdmin(api);
      const secret = cookie.split('=')[1]?.split('.')[1] ?? '';
      const rows = await t.db.query<{ dump: string }>(`select string_agg(id || encode(secret_hash, 'hex'), ',') as dump from sessions`);
      expect(rows[0]?.dump).not.toContain(secret);
    });

    it('refuses a second account with the same email with 409 naming the field', async () => {
      const { email } = await signUpAdmin(api);
      const res = await api.post('/api/auth/signup', { orgName: 'B', name: 'B', email, password: PASSWORD });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: { code: 'email_taken', message: expect.any(String), field: 'email' } });
    });

    it('is closed after the first organization in the default mode', async () => {
      const first = await createHarness(t.db, { SIGNUP: 'first' });
      const state = await client(first.app).get<{ hasOrganization: boolean; signupOpen: boolean }>('/api/auth/state');
      expect(state.body).toEqual({ hasOrganization: true, signupOpen: false });
      const res = await client(first.app).post('/api/auth/signup', {
        orgName: 'Late',
        name: 'Lou',
        email: uniqueEmail(),
        password: PASSWORD,
      });
      expect(res.status).toBe(403);
      expect((res.body as { error: { code: string } }).error.code).toBe('signup_closed');
    });
  });

  describe('validation', () => {
    it.each([
      [{ orgName: 'A', name: 'B', email: 'not-an-email', password: PASSWORD }, 'email'],
      [{ orgName: 'A', name: 'B', email: 'a@b.test', password: 'short' }, 'password'],
      [{ orgName: 'A', name: 'B', email: 'a@b.test', password: 12345678901 }, 'password'],
      [{ orgName: '', name: 'B', email: 'a@b.test', password: PASSWORD }, 'orgName'],
      [{ name: 'B', email: 'a@b.test', password: PASSWORD }, 'orgName'],
      [{ orgName: 'A', name: ['B'], email: 'a@b.test', password: PASSWORD }, 'name'],
    ])('rejects %j with 400 naming %s', async (body, field) => {
      const res = await api.post<{ error: { code: string; field: string; message: string } }>('/api/auth/signup', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.field).toBe(field);
      expect(res.body.error.message).toContain(field);
    });

    it('answers malformed JSON with 400 invalid_json, not 500', async () => {
      const res = await api.post<{ error: { code: string } }>('/api/auth/login', undefined, { rawBody: '{"email":' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_json');
    });

    it('answers a non-JSON content type with 415', async () => {
      const res = await api.post('/api/auth/login', undefined, { rawBody: 'email=a', contentType: 'text/plain' });
      expect(res.status).toBe(415);
    });

    it('answers a body over 1 MB with 413', async () => {
      const res = await api.post<{ error: { code: string } }>('/api/auth/login', { email: 'a@b.test', password: 'x'.repeat(1_100_000) });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('payload_too_large');
    });

    it('answers unknown API paths with a JSON 404', async () => {
      const res = await api.get<{ error: { code: string } }>('/api/nope');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    });
  });

  describe('Origin check', () => {
    it.each([
      ['missing', null],
      ['foreign', 'https://evil.example'],
      ['look-alike', 'http://shoal.test.evil.example'],
    ])('rejects a JSON POST with a %s Origin with 403', async (_label, origin) => {
      const res = await api.post<{ error: { code: string } }>(
        '/api/auth/login',
        { email: 'a@b.test', password: PASSWORD },
        { origin },
      );
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('origin_rejected');
    });

    it('rejects PATCH, PUT and DELETE without Origin too, and lets GET through', async () => {
      const { cookie } = await signUpAdmin(api);
      for (const call of [
        () => api.patch(`/api/people/${crypto.randomUUID()}`, { name: 'x' }, { cookie, origin: null }),
        () => api.put(`/api/groups/${crypto.randomUUID()}/members`, { userIds: [] }, { cookie, origin: null }),
        () => api.delete(`/api/groups/${crypto.randomUUID()}`, { cookie, origin: null }),
      ]) {
        expect((await call()).status).toBe(403);
      }
      expect((await api.get('/api/me', { cookie, origin: null })).status).toBe(200);
    });
  });

  describe('log-in', () => {
    it('logs in with the right password and refuses a wrong one without saying which part was wrong', async () => {
      const { email } = await signUpAdmin(api);
      const ok = await api.post('/api/auth/login', { email: email.toUpperCase(), password: PASSWORD });
      expect(ok.status).toBe(200);
      expect(ok.cookie).toBeTruthy();
      const bad = await api.post<{ error: { code: string; message: string } }>('/api/auth/login', { email, password: 'wrong password!' });
      const unknown = await api.post<{ error: { code: string; message: string } }>('/api/auth/login', {
        email: uniqueEmail('ghost'),
        password: 'wrong password!',
      });
      expect(bad.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(bad.body).toEqual(unknown.body);
    });

    it('backs off after failures, with Retry-After, and the lock expires on schedule', async () => {
      const { email } = await signUpAdmin(api);
      const wrong = () => api.post<{ error: { code: string } }>('/api/auth/login', { email, password: 'wrong password!' });
      expect((await wrong()).status).toBe(401);
      const locked = await api.post<{ error: { code: string } }>('/api/auth/login', { email, password: PASSWORD });
      expect(locked.status).toBe(429);
      expect(locked.body.error.code).toBe('too_many_attempts');
      expect(locked.headers.get('retry-after')).toBe(String((ACCOUNT_LOCK_MS[0] as number) / 1000));
      h.clock.advance(ACCOUNT_LOCK_MS[0] as number);
      expect((await wrong()).status).toBe(401);
      h.clock.advance(ACCOUNT_LOCK_MS[0] as number);
      const stillLocked = await api.post('/api/auth/login', { email, password: PASSWORD });
      expect(stillLocked.status).toBe(429);
      expect(stillLocked.headers.get('retry-after')).toBe('1');
      h.clock.advance(ACCOUNT_LOCK_MS[1] as number);
      expect((await api.post('/api/auth/login', { email, password: PASSWORD })).status).toBe(200);
      expect((await wrong()).status).toBe(401);
      h.clock.advance(ACCOUNT_LOCK_MS[0] as number);
    });

    it('keeps the back-off in the database, so a second process sees it', async () => {
      const { email } = await signUpAdmin(api);
      await api.post('/api/auth/login', { email, password: 'wrong password!' });
      const other = client((await createHarness(t.db, { SIGNUP: "open" })).app);
      expect((await other.post('/api/auth/login', { email, password: PASSWORD })).status).toBe(429);
      h.clock.advance(60_000);
    });
  });

  describe('sessions', () => {
    it('slides the expiry forward on use and re-sends the cookie', async () => {
      const { cookie } = await signUpAdmin(api);
      h.clock.advance(SESSION_REFRESH_MS + 1);
      const res = await api.get('/api/me', { cookie });
      expect(res.status).toBe(200);
      expect(res.cookie).toBe(cookie);
      expect(res.headers.get('set-cookie')).toMatch(/Expires=/);
    });

    it('expires after the inactivity timeout', async () => {
      const { cookie } = await signUpAdmin(api);
      h.clock.advance(SESSION_TTL_MS + 1);
      const res = await api.get<{ error: { code: string } }>('/api/me', { cookie });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('auth_required');
    });

    it('rejects a forged secret for a real session id', async () => {
      const { cookie } = await signUpAdmin(api);
      const [name, token] = cookie.split('=') as [string, string];
      const forged = `${name}=${token.split('.')[0]}.${'a'.repeat(24)}`;
      expect((await api.get('/api/me', { cookie: forged })).status).toBe(401);
    });

    it('log-out ends this session only; log-out-all ends every device', async () => {
      const { cookie, email } = await signUpAdmin(api);
      const second = (await api.post('/api/auth/login', { email, password: PASSWORD })).cookie as string;
      const third = (await api.post('/api/auth/login', { email, password: PASSWORD })).cookie as string;
      const out = await api.post('/api/auth/logout', undefined, { cookie });
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
      expect((await api.get('/api/me', { cookie })).status).toBe(401);
      expect((await api.get('/api/me', { cookie: second })).status).toBe(200);
      expect((await api.post('/api/auth/logout-all', undefined, { cookie: second })).status).toBe(204);
      expect((await api.get('/api/me', { cookie: second })).status).toBe(401);
      expect((await api.get('/api/me', { cookie: third })).status).toBe(401);
    });

    it('sets Secure on the cookie when served over https', async () => {
      const secure = client((await createHarness(t.db, { SIGNUP: "open", ORIGIN: "https://inbox.acme.test" })).app);
      const res = await secure.post(
        '/api/auth/signup',
        { orgName: 'S', name: 'S', email: uniqueEmail(), password: PASSWORD },
        { origin: 'https://inbox.acme.test' },
      );
      expect(res.status).toBe(201);
      expect(res.headers.get('set-cookie')).toMatch(/Secure/);
    });
  });

  describe('logs', () => {
    it('never contain passwords, session tokens or cookies', async () => {
      const { cookie, email } = await signUpAdmin(api);
      await api.post('/api/auth/login', { email, password: PASSWORD });
      await api.get('/api/me', { cookie });
      const text = h.logs.join('');
      expect(text).toContain('"requestId"');
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(cookie.split('=')[1] as string);
    });

    it('echo the request id', async () => {
      const res = await api.get('/healthz', { headers: { 'x-request-id': 'req-123' } });
      expect(res.headers.get('x-request-id')).toBe('req-123');
    });
  });

  describe('health', () => {
    it('healthz answers and readyz reports the database ready with all migrations applied', async () => {
      expect((await api.get('/healthz')).body).toEqual({ status: 'ok' });
      const ready = await api.get<{ status: string; driver: string }>('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ready');
    });
  });
});
