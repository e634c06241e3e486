/**
 * Booting the real process: configuration errors, the durability refusal on
 * Postgres, and a file-backed PGlite that keeps its data across restarts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { openDb, UnsafeDurabilityError } from '../../db';
import { start } from '../../server/boot';
import { loadConfig } from '../../server/env';
import { createLogger } from '../../server/logger';
import { driverCases } from '../helpers/db';

const testDatabaseUrl = process.env.TEST_DATABASE_URL;
const hasPostgres = driverCases().some((d) => d.name === 'postgres');

describe('boot', () => {
  it('exits 1 and lists every configuration problem', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
      env: { PATH: process.env.PATH, PORT: 'eighty', SIGNUP: 'maybe', DATABASE_URL: 'mysql://x' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration');
    for (const name of ['PORT', 'SIGNUP', 'DATABASE_URL']) {
      expect(result.stderr).toContain(`- ${name}:`);
    }
  });

  it('serves on a real port with file-backed PGlite and keeps data across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-boot-'));
    const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, APP_DIR: '/nonexistent', ORIGIN: 'http://shoal.test' });
    const log = createLogger('silent');
    try {
      const first = await start(config, log);
      const port = first.port;
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.json());
      expect(ready).toEqual({ status: 'ready', driver: 'pglite' });
      const signup = await fetch(`http://127.0.0.1:${port}/api/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'http://shoal.test' },
        body: JSON.stringify({ orgName: 'Kept', name: 'Kim', email: 'kim@kept.test', password: 'correct horse battery' }),
      });
      expect(signup.status).toBe(201);
      await first.stop();

      const second = await start(config, log);
      const state = await fetch(`http://127.0.0.1:${second.port}/api/auth/state`).then((r) => r.json());
      expect(state).toEqual({ hasOrganization: true, signupOpen: false });
      await second.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  describe.runIf(hasPostgres)('on Postgres', () => {
    it('refuses a database that acknowledges commits before they are durable', async () => {
      const admin = postgres(testDatabaseUrl as string, { max: 1, onnotice: () => {} });
      const name = `shoal_t_async_${Date.now().toString(36)}`;
      await admin.unsafe(`create database ${name}`);
      await admin.unsafe(`alter database ${name} set synchronous_commit = off`);
      try {
        const url = new URL(testDatabaseUrl as string);
        url.pathname = `/${name}`;
        const error = await openDb({ databaseUrl: url.toString() }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsafeDurabilityError);
        expect((error as Error).message).toContain('synchronous_commit');
      } finally {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    });

    it('a lease held by one process is refused to another and freed when the holder dies', async () => {
      const one = await openDb({ databaseUrl: testDatabaseUrl });
      const two = await openDb({ databaseUrl: testDatabaseUrl });
      const name = `mail-account:${crypto.randomUUID()}`;
      try {
        expect(await one.tryLease(name)).not.toBeNull();
        expect(await two.tryLease(name)).toBeNull();
        await one.close();
        // The server frees the lock once it has seen the connection go, which is asynchronous to our close.
        let taken = await two.tryLease(name);
        for (let i = 0; i < 50 && !taken; i += 1) {
          await new Promise((r) => setTimeout(r, 100));
          taken = await two.tryLease(name);
        }
        expect(taken).not.toBeNull();
        await taken?.release();
      } finally {
        await two.close();
      }
    });

    it('accepts a durable database', async () => {
      const db = await openDb({ databaseUrl: testDatabaseUrl });
      expect(db.driver).toBe('postgres');
      await db.close();
    });
  });
});
