/**
 * @module server/ingest/sync-manager
 * Runs one worker per mailbox in this process (each takes its account's
 * lease, so across processes only one of them syncs), and reports progress
 * and the end of the initial sync.
 */
import type { Logger } from 'pino';
import { accountProgress } from '../../db/queries/mail-folders';
import { completeInitialSync, insertNotification, setAccountProgress } from '../../db/queries/sync-progress';
import type { Db } from '../../db/types';
import { applyRulesAfterBatch } from '../conversion/apply-rules';
import { notifySyncComplete } from '../outbound/notify-sync-complete';
import type { Keyring } from '../secrets/keyring';
import { changedMessagesChanges, storedBatchChange, type ChangeSink } from '../sync/projection/changes';
import { AccountWorker, DEFAULT_WORKER_OPTIONS, type WorkerOptions } from './account-worker';
import { createParsePool, type ParsePool } from './parse-pool';
import { createMessageStore } from './store-messages';
import type { MessageSink } from './sync-folder';

export interface SyncManagerDeps {
  db: Db;
  keyring: Keyring;
  log: Logger;
  now: () => Date;
  /** Whether mail servers on private or local addresses may be dialled (MAIL_ALLOW_PRIVATE_HOSTS); absent: refused. */
  allowPrivateHosts?: boolean;
  /** Sync fan-out: told after every stored batch. */
  changes?: ChangeSink;
}

/** The part of the manager commands need: start or stop an account's sync. */
export interface MailSync {
  ensure(accountId: string): Promise<void>;
  stop(accountId: string): Promise<void>;
}

export class SyncManager implements MailSync {
  private readonly workers = new Map<string, AccountWorker>();
  private readonly lastProgress = new Map<string, number>();
  private pool: ParsePool | null = null;

  constructor(
    private readonly deps: SyncManagerDeps,
    private readonly options: WorkerOptions = DEFAULT_WORKER_OPTIONS,
  ) {}

  /** Starts workers for every mailbox that is not disabled. */
  async startAll(): Promise<void> {
    const rows = await this.deps.db.query<{ id: string }>(`select id from mail_accounts where status <> 'disabled'`);
    for (const row of rows) {
      await this.ensure(row.id);
    }
  }

  async ensure(accountId: string): Promise<void> {
    if (this.workers.has(accountId)) {
      return;
    }
    const rows = await this.deps.db.query<{ orgId: string; addresses: string[] }>(
      `select a.org_id as "orgId",
         coalesce((select array_agg(f.address) from mail_account_addresses f where f.account_id = a.id), array[a.email]) as addresses
       from mail_accounts a where a.id = $1`,
      [accountId],
    );
    const row = rows[0];
    if (!row) {
      return;
    }
    this.pool ??= createParsePool();
    const pool = this.pool;
    const store = createMessageStore(
      this.deps.db,
      { accountId, orgId: row.orgId, ownAddresses: row.addresses, messageIdKey: this.deps.keyring.messageIdKey },
      (raw) => pool.parse(raw),
    );
    // Progress after every batch (at most once a second), not only per folder, so a big inbox moves visibly.
    const sink: MessageSink = {
      prepare: (messages) => store.prepare?.(messages),
      storeBatch: async (...args) => {
        await store.storeBatch(...args);
        await applyRulesAfterBatch(this.deps, accountId, ...args);
        await this.reportProgress(accountId);
        this.deps.changes?.publish(storedBatchChange(accountId, ...args));
      },
      changed: (messageIds) => changedMessagesChanges(accountId, messageIds).forEach((change) => this.deps.changes?.publish(change)),
    };
    const worker = new AccountWorker(
      accountId,
      { ...this.deps, sink, onPass: (id) => this.afterPass(id) },
      this.options,
    );
    this.workers.set(accountId, worker);
    worker.start();
  }

  async stop(accountId: string): Promise<void> {
    const worker = this.workers.get(accountId);
    this.workers.delete(accountId);
    await worker?.stop();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.workers.keys()].map((id) => this.stop(id)));
    await this.pool?.close();
    this.pool = null;
  }

  /** Whether this process holds the account's lease (is the one syncing it). */
  isSyncing(accountId: string): boolean {
    return this.workers.get(accountId)?.leased ?? false;
  }

  private async reportProgress(accountId: string): Promise<void> {
    const now = Date.now();
    if (now - (this.lastProgress.get(accountId) ?? 0) < 1_000) {
      return;
    }
    this.lastProgress.set(accountId, now);
    const progress = await accountProgress(this.deps.db, accountId);
    await setAccountProgress(this.deps.db, accountId, progress.done, progress.total);
  }

  private async afterPass(accountId: string): Promise<void> {
    const { db } = this.deps;
    const progress = await accountProgress(db, accountId);
    await setAccountProgress(db, accountId, progress.done, progress.total);
    if (!(await completeInitialSync(db, accountId, this.deps.now()))) {
      return;
    }
    const [owner] = await db.query<{ ownerId: string; email: string }>(
      'select owner_id as "ownerId", email from mail_accounts where id = $1',
      [accountId],
    );
    if (owner) {
      await insertNotification(db, {
        userId: owner.ownerId,
        kind: 'sync_complete',
        payload: { accountId, email: owner.email, messages: progress.done },
      });
      this.deps.log.info({ accountId, messages: progress.done }, 'initial sync complete');
      this.deps.changes?.publish({ kind: 'notifications', userId: owner.ownerId });
      // Off the sync loop (a slow SMTP server must not hold up mirroring); it logs its own failure, never throws.
      void notifySyncComplete(this.deps, accountId, progress.done);
    }
  }
}
