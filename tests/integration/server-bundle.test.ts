/**
 * The server as `npm start` runs it: bundled by scripts/build-server.ts and
 * started with plain `node`, no TypeScript loader. The bundle must find the
 * migrations beside their source, report configuration errors, serve, stop
 * on SIGTERM, and carry a parse worker that runs without tsx.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleServer } from '../../scripts/build-server';
import { ROOT } from '../../scripts/ensure-build';
import type { ParseResult } from '../../server/ingest/parse-message';

const RAW = Buffer.from(
  'From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: Bundled\r\nMessage-ID: <b1@example.com>\r\n' +
    'Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nHello from the bundle.\r\n',
);

/** Environment of the child: nothing inherited that could load tsx (NODE_OPTIONS). */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...extra };
}

describe('server bundle', () => {
  let dir = '';
  let index = '';

  beforeAll(async () => {
    // Inside the repository: the bundle imports its packages from node_modules.
    const cache = join(ROOT, 'node_modules/.cache');
    await mkdir(cache, { recursive: true });
    dir = await mkdtemp(join(cache, 'shoal-bundle-test-'));
    index = (await bundleServer({ index: 'server/index.ts' }, join(dir, 'server'))).index;
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 1 and lists every configuration problem', () => {
    const result = spawnSync(process.execPath, [index], {
      env: childEnv({ PORT: 'eighty', SIGNUP: 'maybe' }),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toContain('- PORT:');
    expect(result.stderr).toContain('- SIGNUP:');
  });

  it('migrates a fresh PGlite, answers /readyz and exits 0 on SIGTERM', async () => {
    const dataDir = join(dir, 'data');
    const child = spawn(process.execPath, [index], {
      env: childEnv({ PORT: '0', DATA_DIR: dataDir, APP_DIR: '/nonexistent', LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const running = /Shoal is running at (\S+)/u.exec(stdout);
        if (running?.[1]) {
          resolve(running[1]);
        }
      });
      void exited.then((code) => reject(new Error(`the bundled server exited ${code}: ${stderr}`)));
    });
    const ready = await fetch(`${url}/readyz`).then((r) => r.json());
    expect(ready).toEqual({ status: 'ready', driver: 'pglite' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);

  it('carries a parse worker that parses without the TypeScript loader', async () => {
    const worker = new Worker(join(dir, 'server', 'parse-worker.mjs'), { execArgv: [], env: childEnv({}) });
    try {
      const answer = new Promise<{ id: number; result: ParseResult }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      worker.postMessage({ id: 7, raw: new Uint8Array(RAW) });
      const { id, result } = await answer;
      expect(id).toBe(7);
      expect(result.ok && result.message.subject).toBe('Bundled');
      expect(result.ok && result.message.text?.trim()).toBe('Hello from the bundle.');
    } finally {
      await worker.terminate();
    }
  }, 60_000);
});
