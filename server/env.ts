/**
 * @module server/env
 * The only reader of `process.env`. Parses every variable once with zod and
 * reports all problems together, so a misconfigured deploy fails at boot
 * with one complete list instead of one error per restart.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** How new organizations may be created. */
export const SIGNUP_MODES = {
  /** Only the first sign-up creates an organization; afterwards people join by invite. */
  first: 'first',
  /** Every sign-up creates its own organization (hosted, multi-tenant). */
  open: 'open',
  /** Nobody signs up; organizations are created by an operator. */
  closed: 'closed',
} as const;

const booleanish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** `new URL` that answers null instead of throwing (zod runs refinements even after `.url()` failed). */
function tryUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

const url = (protocols: readonly string[]) =>
  z
    .string()
    .url()
    .refine((v) => protocols.includes(tryUrl(v)?.protocol ?? ''), {
      message: `must use ${protocols.map((p) => p.replace(':', '://')).join(' or ')}`,
    });

const originList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(
    z
      .array(
        z
          .string()
          .url()
          .refine((v) => ['http:', 'https:'].includes(tryUrl(v)?.protocol ?? '') && tryUrl(v)?.origin === v, { message: 'must be a bare origin like https://inbox.example.com' }),
      )
      .min(1),
  );

const base64Key = (bytes: number) =>
  z.string().refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === bytes, {
    message: `must be ${bytes} random bytes in base64 (openssl rand -base64 ${bytes})`,
  });

const kekList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(
    z
      .array(
        z.string().refine((entry) => {
          const [kid, key] = entry.split(':');
          return (
            !!kid && /^[A-Za-z0-9_-]{1,32}$/.test(kid) && !!key && base64Key(32).safeParse(key).success
          );
        }, { message: 'must be kid:base64key with a 32-byte key, e.g. k2:$(openssl rand -base64 32)' }),
      )
      .min(1),
  );

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce
    .number({ error: 'must be a port number between 0 and 65535' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(3000),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_PREPARED_STATEMENTS: booleanish.default(true),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  ORIGIN: originList.optional(),
  SIGNUP: z.enum(['first', 'open', 'closed']).default('first'),
  INVITE_TTL_HOURS: z.coerce
    .number({ error: 'must be a number of hours' })
    .int('must be a whole number of hours')
    .min(1, 'must be at least 1 hour')
    .max(24 * 90, 'must be at most 90 days (2160 hours)')
    .default(24 * 7),
  TRUST_PROXY: booleanish.default(false),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  APP_DIR: z.string().min(1).default('./build/app'),
  MAIL_ALLOW_PRIVATE_HOSTS: booleanish.default(false),
  IMAGE_PROXY_ALLOW_PRIVATE: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\]):\d{1,5}$/i, 'must be address:port, e.g. 10.0.0.5:8080 or [fd00::5]:443')))
    .default([]),
  MAIL_KEKS: kekList.optional(),
  MAIL_KEK_ACTIVE: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be a key id from MAIL_KEKS').optional(),
  MESSAGE_ID_KEY: base64Key(32).optional(),
  SYNC_WINDOW_DAYS: z.coerce
    .number({ error: 'must be a number of days' })
    .int('must be a whole number of days')
    .min(1, 'must be at least 1 day')
    .max(3650, 'must be at most 3650 days')
    .default(90),
  SYNC_MAX_THREADS: z.coerce
    .number({ error: 'must be a number of threads' })
    .int('must be a whole number of threads')
    .min(100, 'must be at least 100')
    .max(50_000, 'must be at most 50000 (a bigger document loads too slowly in the browser)')
    .default(5000),
});

/** Validated configuration. */
export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Postgres prepared statements (off behind a pooler that cannot keep them). */
  databasePrepare: boolean;
  redisUrl: string | undefined;
  /** Allowed browser origins; the first one is the public address used in links. */
  origins: string[];
  publicUrl: string;
  /** Whether the session cookie gets `Secure` (the public address is https). */
  secureCookies: boolean;
  signup: keyof typeof SIGNUP_MODES;
  inviteTtlMs: number;
  trustProxy: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
  appDir: string;
  /** Let mailboxes point at private/loopback addresses (self-hosted mail servers, tests). */
  mailAllowPrivateHosts: boolean;
  /**
   * Private `address:port` pairs the image proxy may fetch from anyway (an
   * intranet image host, tests). Empty by default: no private address is reachable.
   */
  imageProxyAllowedPrivate: string[];
  /**
   * Key-encryption keys for mailbox secrets, newest last. Null: use (or create)
   * the keyring file in the data directory.
   */
  mailKeks: { kid: string; key: Uint8Array }[] | null;
  /** The KEK that wraps new data keys (defaults to the last of `mailKeks`). */
  mailKekActive: string | null;
  /** HMAC key that signs Shoal's outgoing Message-IDs. Null: from the keyring file. */
  messageIdKey: Uint8Array | null;
  /** A person's sync document holds the threads with visible activity in this many days (plus open and assigned ones). */
  syncWindowDays: number;
  /** …and at most this many threads, newest first; older history comes through the paged API. */
  syncMaxThreads: number;
}

/** Every problem found in the environment, one line each. */
export class EnvError extends Error {
  override readonly name = 'EnvError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** One line per variable, however many checks it failed. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const byVariable = new Map<string, string[]>();
  for (const issue of issues) {
    const name = String(issue.path[0] ?? '(environment)');
    const detail = issue.path.length > 1 ? `entry ${Number(issue.path[1]) + 1} ${issue.message}` : issue.message;
    byVariable.set(name, [...(byVariable.get(name) ?? []), detail]);
  }
  return [...byVariable].map(([name, messages]) => `${name}: ${[...new Set(messages)].join('; ')}`);
}

/**
 * Parses a set of variables into a {@link Config}.
 * @param source the variables (defaults to the process environment).
 * @throws {EnvError} listing every invalid variable.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new EnvError(describeIssues(parsed.error.issues));
  }
  const env = parsed.data;
  const mailKeks =
    env.MAIL_KEKS?.map((entry) => {
      const [kid, key] = entry.split(':') as [string, string];
      return { kid, key: new Uint8Array(Buffer.from(key, 'base64')) };
    }) ?? null;
  if (env.MAIL_KEK_ACTIVE && !mailKeks?.some((k) => k.kid === env.MAIL_KEK_ACTIVE)) {
    throw new EnvError([`MAIL_KEK_ACTIVE: ${env.MAIL_KEK_ACTIVE} is not one of the key ids in MAIL_KEKS`]);
  }
  const origins = env.ORIGIN ?? [`http://localhost:${env.PORT}`];
  const publicUrl = origins[0] as string;
  return {
    nodeEnv: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    dataDir: resolve(env.DATA_DIR),
    databaseUrl: env.DATABASE_URL,
    databasePrepare: env.DATABASE_PREPARED_STATEMENTS,
    redisUrl: env.REDIS_URL,
    origins,
    publicUrl,
    secureCookies: new URL(publicUrl).protocol === 'https:',
    signup: env.SIGNUP,
    inviteTtlMs: env.INVITE_TTL_HOURS * 3_600_000,
    trustProxy: env.TRUST_PROXY,
    logLevel: env.LOG_LEVEL,
    appDir: resolve(env.APP_DIR),
    mailAllowPrivateHosts: env.MAIL_ALLOW_PRIVATE_HOSTS,
    imageProxyAllowedPrivate: env.IMAGE_PROXY_ALLOW_PRIVATE.map((entry) => entry.replace(/^\[(.*)\](:\d+)$/, '$1$2')),
    mailKeks,
    mailKekActive: env.MAIL_KEK_ACTIVE ?? mailKeks?.at(-1)?.kid ?? null,
    messageIdKey: env.MESSAGE_ID_KEY ? new Uint8Array(Buffer.from(env.MESSAGE_ID_KEY, 'base64')) : null,
    syncWindowDays: env.SYNC_WINDOW_DAYS,
    syncMaxThreads: env.SYNC_MAX_THREADS,
  };
}
