/**
 * @module scripts/start
 * `npm start`, first half: builds the app when the build is missing or
 * stale and bundles the server (scripts/build-server.ts). The second half of
 * the npm script runs the bundle with plain `node build/server/index.mjs`
 * (embedded PGlite unless DATABASE_URL is set), so the server process does
 * not carry tsx.
 */
import { buildServer } from './build-server';
import { ensureAppBuilt } from './ensure-build';

try {
  ensureAppBuilt();
  await buildServer();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
