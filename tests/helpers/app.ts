/**
 * @module tests/helpers/app
 * Builds the real HTTP app over a test database with a clock the test moves,
 * and a tiny client that speaks to it through `app.request()` (no port).
 */
import { Writable } from 'node:stream';
import { createApp, type ShoalApp } from '../../server/app';
import type { Deps } from '../../server/context';
import { loadConfig, type Config } from '../../server/env';
import { createLogger } from '../../server/logger';
import type { Db } from '../../db';
import { loadKeyring } from '../../server/secrets/keyring';

export const TEST_ORIGIN = 'http://shoal.test';

export interface TestClock {
  now: () => Date;
  advance(ms: number): void;
}

export interface Harness {
  app: ShoalApp;
  deps: Deps;
  clock: TestClock;
  /** Every log line written, for redaction checks. */
  logs: string[];
}

/** A clock that starts at a fixed time and moves only when told. */
export function testClock(start = Date.parse('2026-11-23T09:00:00Z')): TestClock {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

const randomKey = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');

/** Builds the app over `db` with test configuration (keys from the environment, never a file), overridable per test. */
export async function createHarness(db: Db, env: Record<string, string> = {}): Promise<Harness> {
  const config: Config = loadConfig({
    NODE_ENV: 'test',
    ORIGIN: TEST_ORIGIN,
    APP_DIR: '/nonexistent',
    MAIL_KEKS: `k1:${randomKey()}`,
    MESSAGE_ID_KEY: randomKey(),
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const clock = testClock();
  const keyring = await loadKeyring(config);
  const deps: Deps = { db, config, log: createLogger('debug', sink), keyring, now: clock.now };
  return { app: createApp(deps), deps, clock, logs };
}

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  /** The session cookie the reply set (`name=value`), if any. */
  cookie: string | null;
}

export interface CallOptions {
  cookie?: string | null;
  origin?: string | null;
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A client bound to one app; every unsafe call carries our Origin unless told otherwise. */
export function client(app: ShoalApp) {
  async function call<T = unknown>(method: string, path: string, body?: unknown, options: CallOptions = {}) {
    const headers: Record<string, string> = { ...options.headers };
    const origin = options.origin === undefined ? TEST_ORIGIN : options.origin;
    if (origin) {
      headers.origin = origin;
    }
    if (options.cookie) {
      headers.cookie = options.cookie;
    }
    let payload: string | undefined = options.rawBody;
    if (body !== undefined) {
      payload = JSON.stringify(body);
    }
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    const res = await app.request(path, { method, headers, body: payload });
    const text = await res.text();
    const setCookie = res.headers.get('set-cookie');
    const cookie = setCookie && !/Max-Age=0/i.test(setCookie) ? (setCookie.split(';')[0] ?? null) : null;
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers, cookie } satisfies Reply<T>;
  }
  return {
    get: <T = unknown>(path: string, options?: CallOptions) => call<T>('GET', path, undefined, options),
    post: <T = unknown>(path: string, body?: unknown, options?: CallOptions) => call<T>('POST', path, body, options),
    patch: <T = unknown>(path: string, body?: unknown, options?: CallOptions) => call<T>('PATCH', path, body, options),
    put: <T = unknown>(path: string, body?: unknown, options?: CallOptions) => call<T>('PUT', path, body, options),
    delete: <T = unknown>(path: string, options?: CallOptions) => call<T>('DELETE', path, undefined, options),
  };
}

export type Client = ReturnType<typeof client>;

let counter = 0;
/** A unique, valid email for factory data. */
export function uniqueEmail(prefix = 'person'): string {
  counter += 1;
  return `${prefix}.${counter}.${Math.random().toString(36).slice(2, 7)}@acme.test`;
}

export const PASSWORD = 'correct horse battery staple';

/** Signs up an organization; returns the admin's cookie and ids. */
export async function signUpAdmin(api: Client, email = uniqueEmail('admin')) {
  const res = await api.post<{ user: { id: string }; org: { id: string } }>('/api/auth/signup', {
    orgName: 'Acme Sales',
    name: 'Ada Admin',
    email,
    password: PASSWORD,
  });
  if (res.status !== 201 || !res.cookie) {
    throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { cookie: res.cookie, userId: res.body.user.id, orgId: res.body.org.id, email };
}

/** Invites and accepts a person; returns their cookie and id. */
export async function addPerson(
  api: Client,
  adminCookie: string,
  role: 'admin' | 'manager' | 'rep' = 'rep',
  name = 'Rita Rep',
) {
  const email = uniqueEmail(role);
  const invite = await api.post<{ url: string }>('/api/people/invites', { email, role }, { cookie: adminCookie });
  if (invite.status !== 201) {
    throw new Error(`invite failed: ${invite.status} ${JSON.stringify(invite.body)}`);
  }
  const token = invite.body.url.split('/invite/')[1];
  const accepted = await api.post<{ user: { id: string } }>(`/api/invites/${token}/accept`, { name, password: PASSWORD });
  if (accepted.status !== 201 || !accepted.cookie) {
    throw new Error(`accept failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  }
  return { cookie: accepted.cookie, userId: accepted.body.user.id, email };
}
