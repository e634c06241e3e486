/**
 * @module scripts/bench/ui-server
 * The UI benchmark's server: the app built from a copy of its sources in a
 * directory of its own (another engineer's concurrent build shares
 * `.svelte-kit/` and `build/app`, and could break this one or change what
 * is served mid-run), served by a real Shoal server on a free loopback port
 * with a throwaway file-backed PGlite, as the e2e tier runs it.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../db';
import { start } from '../../server/boot';
import { loadConfig } from '../../server/env';
import { createLogger } from '../../server/logger';
import { ROOT } from '../ensure-build';
import { progress } from './sync-util';

const APP_SOURCES = ['app', 'sync', 'svelte.config.js', 'vite.config.ts', 'tsconfig.json', 'package.json'];

export interface BenchServer {
  url: string;
  /** The built app it serves (removed by `stop`). */
  appDir: string;
  db: Db;
  stop(): Promise<void>;
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

/** Builds the app as the working tree has it now into `<dir>/build/app`. */
async function buildApp(dir: string): Promise<string> {
  for (const entry of APP_SOURCES) {
    await cp(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  progress('building the app');
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'error'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`the app build failed (exit ${result.status ?? 'signal'})`);
  }
  return join(dir, 'build/app');
}

/** Builds the app and starts a server for it; `stop` removes both. */
export async function startBenchServer(): Promise<BenchServer> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-ui-'));
  try {
    const appDir = await buildApp(dir);
    await mkdir(join(dir, 'data'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), ORIGIN: url, DATA_DIR: join(dir, 'data'), APP_DIR: appDir, SIGNUP: 'open' });
    const running = await start(config, createLogger('warn'), {});
    return {
      url,
      appDir,
      db: running.db,
      async stop() {
        await running.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
