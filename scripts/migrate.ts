/**
 * @module scripts/migrate
 * `npm run db:migrate`: applies pending migrations to the configured
 * database and exits (useful before rolling out several processes).
 */
import { migrate, openDb } from '../db';
import { EnvError, loadConfig } from '../server/env';

try {
  const config = loadConfig();
  const db = await openDb({ databaseUrl: config.databaseUrl, prepare: config.databasePrepare, dataDir: config.dataDir });
  const applied = await migrate(db);
  await db.close();
  console.log(applied.length > 0 ? `Applied migrations ${applied.join(', ')} on ${db.driver}.` : `Nothing to apply on ${db.driver}.`);
} catch (error) {
  console.error(error instanceof EnvError || error instanceof Error ? error.message : String(error));
  process.exit(1);
}
