import { fileURLToPath } from 'node:url';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

const apiPort = Number(process.env.SHOAL_API_PORT ?? 3000);
const ciRuns = process.env.CI === 'true';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    // `npm run dev` runs the API separately; the dev server forwards to it.
    proxy: {
      '/api': `http://127.0.0.1:${apiPort}`,
      // The socket (`/sync`, `/sync/<room>`) only: a bare '/sync' prefix would also take the app's own
      // modules under sync/ (e.g. /sync/api.ts) away from Vite.
      '^/sync(/[^/.?]*)?(\\?.*)?$': { target: `ws://127.0.0.1:${apiPort}`, ws: true },
      '/healthz': `http://127.0.0.1:${apiPort}`,
      '/readyz': `http://127.0.0.1:${apiPort}`,
    },
    // SvelteKit allows its own folders (lib, routes); the service worker sits beside them in app/src,
    // and the app imports the shared contract from sync/ through `$sync`.
    fs: { allow: ['app/src/service-worker.ts', 'sync'] },
  },
  test: {
    projects: [
      {
        // App modules under test import sync/ through SvelteKit's `$sync` alias.
        resolve: { alias: { $sync: fileURLToPath(new URL('./sync', import.meta.url)) } },
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          // Property tests run their CI counts (10,000 organizations) on a shared 2-core box.
          testTimeout: 120_000,
        },
      },
      {
        // The automatic-rebuild suite drives the app's SyncSession against the real server.
        resolve: { alias: { $sync: fileURLToPath(new URL('./sync', import.meta.url)) } },
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          // One file at a time: the mail suites time real servers and would starve each other on 2 cores.
          fileParallelism: false,
          // And in one worker: a fresh one per file cost 3-4 s of start-up and imports (PGlite's WebAssembly among
          // them), about 4 of CI's 33 minutes. No suite mocks modules or stubs the environment; each opens and closes
          // its own databases, servers and hosts.
          isolate: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          // One worker for every file, as for the integration suites: each opens and closes its own browser and server.
          isolate: false,
          retry: ciRuns ? 1 : 0,
        },
      },
    ],
  },
});
