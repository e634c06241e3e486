/**
 * @module tests/helpers/browser
 * Debian's Chromium driven by playwright-core (browser downloads are
 * impossible here), and a real Shoal server on a free loopback port with a
 * throwaway file-backed PGlite.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { Db } from '../../db';
import { start, type Running, type StartOptions } from '../../server/boot';
import { loadConfig } from '../../server/env';
import { createLogger } from '../../server/logger';
import { APP_BUILD_DIR, ensureAppBuilt } from '../../scripts/ensure-build';
import { prerequisite } from './prereq';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser tier can run here (fails under CI when Chromium is missing). */
export function browserAvailable(): boolean {
  return prerequisite('e2e tier', existsSync(CHROMIUM) ? null : `${CHROMIUM} not found (apt-get install chromium)`);
}

/** Launches headless Chromium with the flags this closed network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface LiveServer {
  url: string;
  /** The server's own database handle, for seeding rows a test cannot create through the UI (e.g. synced mail). */
  db: Db;
  stop(): Promise<void>;
}

/** Builds the app if stale and starts a real server on its own data directory (`options.createDocHost` serves `/sync`). */
export async function startLiveServer(env: Record<string, string> = {}, options: StartOptions = {}): Promise<LiveServer> {
  ensureAppBuilt();
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-e2e-'));
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    ORIGIN: url,
    DATA_DIR: dataDir,
    APP_DIR: APP_BUILD_DIR,
    ...env,
  });
  const running: Running = await start(config, createLogger('warn'), options);
  return {
    url,
    db: running.db,
    async stop() {
      await running.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
