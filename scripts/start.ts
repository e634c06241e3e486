/**
 * @module scripts/start
 * `npm start`: builds the app when the build is missing or stale, then runs
 * the server (embedded PGlite unless DATABASE_URL is set).
 */
import { ensureAppBuilt } from './ensure-build';

try {
  ensureAppBuilt();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}

await import('../server/index');
