/**
 * @module tests/helpers/sync-server-child
 * A whole Shoal process (server/boot's `start`: migrations, the sync engine,
 * `/sync`, mail sync) that a crash test can `kill -9` at any instant and
 * start again on the same database. Run it as
 * `node --import tsx tests/helpers/sync-server-child.ts` with:
 *   SHOAL_CHILD_DB_URL    the Postgres database, or
 *   SHOAL_CHILD_DATA_DIR  a directory for file-backed PGlite (and the keyring)
 *   SHOAL_CHILD_ORIGIN    the Origin the test's clients send
 * Stdout carries one JSON line per event (`listening` with its port,
 * `stopped`); logs go to stderr. SIGTERM stops cleanly; a closed stdin (the
 * parent died) exits too.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start } from '../../server/boot';
import { loadConfig } from '../../server/env';
import { createLogger } from '../../server/logger';

function emit(event: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, at: Date.now(), ...extra })}\n`);
}

async function main(): Promise<void> {
  const databaseUrl = process.env.SHOAL_CHILD_DB_URL;
  const dataDir = process.env.SHOAL_CHILD_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'shoal-child-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    APP_DIR: '/nonexistent',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    ORIGIN: process.env.SHOAL_CHILD_ORIGIN ?? 'http://shoal.test',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const log = createLogger(config.logLevel, process.stderr);
  const running = await start(config, log);
  let stopping = false;
  const stop = async () => {
    if (stopping) {
      return;
    }
    stopping = true;
    await running.stop();
    emit('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.stdin.once('end', () => void stop());
  process.stdin.resume();
  emit('listening', { port: running.port });
}

main().catch((error: unknown) => {
  process.stderr.write(`sync-server-child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
