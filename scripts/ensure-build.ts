/**
 * @module scripts/ensure-build
 * Builds the app when the build is missing or older than its sources; shared
 * by `npm start` and the e2e tier so both always serve what the code says.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const APP_BUILD_DIR = join(ROOT, 'build/app');
const SHELL = join(APP_BUILD_DIR, 'index.html');
const SOURCES = ['app', 'sync', 'svelte.config.js', 'vite.config.ts', 'package-lock.json'];

function newestMtime(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) {
    return 0;
  }
  if (!stat.isDirectory()) {
    return stat.mtimeMs;
  }
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), stat.mtimeMs);
}

/** Whether the built app is missing or older than any of its sources. */
export function buildIsStale(): boolean {
  if (!existsSync(SHELL)) {
    return true;
  }
  const built = statSync(SHELL).mtimeMs;
  return SOURCES.some((source) => newestMtime(join(ROOT, source)) > built);
}

/**
 * Runs `vite build` when needed.
 * @throws when the build fails.
 */
export function ensureAppBuilt(log: (line: string) => void = console.log): void {
  if (!buildIsStale()) {
    return;
  }
  log('Building the Shoal app (first start or sources changed)…');
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    throw new Error(`The app build failed (exit ${result.status ?? 'signal'}); see the errors above.`);
  }
}
