/**
 * @module tests/helpers/sync-child
 * A process that does nothing but sync one mailbox, so a crash test can
 * `kill -9` it at any instant and start another. Run it as
 * `node --import tsx tests/helpers/sync-child.ts` with:
 *   SHOAL_CHILD_DB_URL          the Postgres database (shared with the parent)
 *   SHOAL_CHILD_ACCOUNT         the mailbox to sync
 *   SHOAL_CHILD_KEKS            MAIL_KEKS, the parent's keyring (to open the password)
 *   SHOAL_CHILD_MESSAGE_ID_KEY  MESSAGE_ID_KEY, the parent's Message-ID signing key
 * Keys go through loadConfig like a real boot and are never printed. Stdout
 * carries one JSON line per event (`started`, `leased`, `stopped`); logs go to
 * stderr. SIGTERM stops cleanly; a closed stdin (the parent died) exits too.
 */
import { openDb } from '../../db';
import type { WorkerOptions } from '../../server/ingest/account-worker';
import { SyncManager } from '../../server/ingest/sync-manager';
import { loadConfig } from '../../server/env';
import { createLogger } from '../../server/logger';
import { loadKeyring } from '../../server/secrets/keyring';

/** Fast enough for a test, and every interval short enough that a restart picks up at once. */
const OPTIONS: WorkerOptions = {
  folderIntervalMs: 60_000,
  watchdogMs: 10_000,
  idleDelayMs: 1_000,
  leaseRetryMs: 100,
  reconnectBaseMs: 100,
  reconnectMaxMs: 1_000,
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`sync-child: ${name} is not set`);
  }
  return value;
}

function emit(event: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, at: Date.now(), ...extra })}\n`);
}

async function waitForLease(manager: SyncManager, accountId: string): Promise<void> {
  while (!manager.isSyncing(accountId)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  emit('leased');
}

async function main(): Promise<void> {
  const accountId = required('SHOAL_CHILD_ACCOUNT');
  const config = loadConfig({
    NODE_ENV: 'test',
    APP_DIR: '/nonexistent',
    LOG_LEVEL: 'warn',
    DATABASE_URL: required('SHOAL_CHILD_DB_URL'),
    MAIL_KEKS: required('SHOAL_CHILD_KEKS'),
    MESSAGE_ID_KEY: required('SHOAL_CHILD_MESSAGE_ID_KEY'),
    MAIL_ALLOW_PRIVATE_HOSTS: 'true',
  });
  const log = createLogger(config.logLevel, process.stderr);
  const keyring = await loadKeyring(config, log);
  const db = await openDb({ databaseUrl: config.databaseUrl });
  const manager = new SyncManager({ db, keyring, log, now: () => new Date(), allowPrivateHosts: true }, OPTIONS);
  let stopping = false;
  const stop = async () => {
    if (stopping) {
      return;
    }
    stopping = true;
    await manager.stopAll();
    await db.close();
    emit('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  // An orphaned child would keep syncing (and holding the lease) after its test is gone.
  process.stdin.once('end', () => void stop());
  process.stdin.resume();
  emit('started');
  await manager.ensure(accountId);
  await waitForLease(manager, accountId);
}

main().catch((error: unknown) => {
  process.stderr.write(`sync-child failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
