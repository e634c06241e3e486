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

const url = (protocols: readonly string[]) =>
  z
    .string()
    .url()
    .refine((v) => protocols.includes(new URL(v).protocol), {
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
          .refine((v) => new URL(v).origin === v, { message: 'must be a bare origin like https://inbox.example.com' }),
      )
      .min(1),
  );

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  ORIGIN: originList.optional(),
  SIGNUP: z.enum(['first', 'open', 'closed']).default('first'),
  INVITE_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(24 * 7),
  TRUST_PROXY: booleanish.default(false),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  APP_DIR: z.string().min(1).default('./build/app'),
});

/** Validated configuration. */
export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
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
}

/** Every problem found in the environment, one line each. */
export class EnvError extends Error {
  override readonly name = 'EnvError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
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
    throw new EnvError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const env = parsed.data;
  const origins = env.ORIGIN ?? [`http://localhost:${env.PORT}`];
  const publicUrl = origins[0] as string;
  return {
    nodeEnv: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    dataDir: resolve(env.DATA_DIR),
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    origins,
    publicUrl,
    secureCookies: new URL(publicUrl).protocol === 'https:',
    signup: env.SIGNUP,
    inviteTtlMs: env.INVITE_TTL_HOURS * 3_600_000,
    trustProxy: env.TRUST_PROXY,
    logLevel: env.LOG_LEVEL,
    appDir: resolve(env.APP_DIR),
  };
}
