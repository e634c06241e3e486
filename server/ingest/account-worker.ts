/**
 * @module server/ingest/account-worker
 * Keeps one mailbox mirrored. Holds the account's lease (so exactly one
 * process syncs it), connects, runs a catch-up pass over every folder after
 * each (re)connect, then IDLEs on the inbox and re-syncs the other folders
 * periodically. A NOOP watchdog catches half-open sockets that never error.
 */
import { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import { findMailAccountById, recordHealthCheck, setAccountHealth, type MailAccountRow } from '../../db/queries/mail-accounts';
import { findFolder } from '../../db/queries/mail-folders';
import type { Lease } from '../../db/types';
import { imapOptions, PROBE_TIMEOUTS } from '../mail/connection';
import { discoverFolders, imapEndpoint, imapProblem, noopWithin } from './account-connection';
import { BACKOFF, reconnectDelay, throttleHint } from './backoff';
import { guardLease } from './lease-guard';
import { FULL_DIFF_INTERVAL_MS } from './sync-changes';
import { syncFolderPass } from './sync-folder';
import { DEFAULT_WORKER_OPTIONS, qresyncTrusted, type WorkerDeps, type WorkerOptions } from './worker-options';

export { DEFAULT_WORKER_OPTIONS, type WorkerDeps, type WorkerOptions } from './worker-options';

type Wake = () => void;

/** The account to sync and the lease that makes this worker its only syncer. */
interface Held {
  account: MailAccountRow;
  lease: Lease;
}

/** One account's sync loop; `start()` returns at once, `stop()` ends it and releases the lease. */
export class AccountWorker {
  private stopped = false;
  private lease: Lease | null = null;
  private client: ImapFlow | null = null;
  private wake: Wake | null = null;
  private attempts = 0;
  private running: Promise<void> | null = null;
  private inboxDirty = false;
  /** Set when the lease died under a running session: it must end, and the lease be taken again. */
  private leaseLost = false;

  constructor(
    readonly accountId: string,
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions = DEFAULT_WORKER_OPTIONS,
  ) {}

  /** Whether this worker currently holds the account's lease. */
  get leased(): boolean {
    return this.lease !== null;
  }

  start(): void {
    this.running ??= this.loop().catch((error: unknown) => {
      this.deps.log.error({ err: error, accountId: this.accountId }, 'account worker crashed');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.client?.close();
    await this.running;
    await this.lease?.release();
    this.lease = null;
  }

  private log(): Logger {
    return this.deps.log.child({ accountId: this.accountId });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let held: Held | 'wait' | 'gone';
      try {
        held = await this.acquire();
      } catch (error) {
        // The database is out of reach (a restart, a dropped socket): keep the worker, try again later.
        this.log().warn({ err: error }, 'mailbox lease check failed');
        held = 'wait';
      }
      if (held === 'gone') {
        return;
      }
      if (held === 'wait') {
        await this.sleep(this.options.leaseRetryMs);
        continue;
      }
      const { account, lease } = held;
      const guard = guardLease(lease, this.probeMs(), () => this.loseLease());
      try {
        await this.session(account);
        this.attempts = 0;
      } catch (error) {
        if (!this.leaseLost) {
          await this.recordFailure(account, error);
        }
      } finally {
        guard.stop();
      }
      if (this.leaseLost) {
        await this.dropLease();
        continue;
      }
      if (!this.stopped) {
        const limits = { baseMs: this.options.reconnectBaseMs ?? BACKOFF.baseMs, maxMs: this.options.reconnectMaxMs ?? BACKOFF.maxMs };
        await this.sleep(reconnectDelay(this.attempts++, Math.random, throttleHint(this.lastError), limits));
      }
    }
  }

  /** Takes (or re-checks) the lease and reads the account: 'wait' while another holds it, 'gone' when deleted or paused. */
  private async acquire(): Promise<Held | 'wait' | 'gone'> {
    // A lease kept through a back-off may have died meanwhile.
    if (this.lease && !(await this.lease.alive())) {
      this.log().warn({ during: 'back-off' }, 'mailbox lease lost');
      await this.dropLease();
    }
    this.lease ??= await this.deps.db.tryLease(`mail-account:${this.accountId}`);
    if (!this.lease) {
      return 'wait';
    }
    const account = await findMailAccountById(this.deps.db, this.accountId);
    return !account || account.status === 'disabled' ? 'gone' : { account, lease: this.lease };
  }

  private lastError: unknown = null;

  private halted(): boolean {
    return this.stopped || this.leaseLost;
  }

  /** Another process may take the account from now on: end the session at once, without a health error. */
  private loseLease(): void {
    if (this.stopped) {
      return;
    }
    this.leaseLost = true;
    this.log().warn({ during: 'session' }, 'mailbox lease lost');
    this.client?.close();
    this.wake?.();
  }

  private async dropLease(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    this.leaseLost = false;
    this.client?.close();
    this.client = null;
    await lease?.release().catch(() => {});
  }

  /** One connection's life: connect, catch up, then IDLE and poll until it breaks or we stop. */
  private async session(account: MailAccountRow): Promise<void> {
    const policy = { allowPrivateHosts: this.deps.allowPrivateHosts === true, log: this.log() };
    const settings = await imapEndpoint(this.deps.db, this.deps.keyring, account, policy);
    // During a pass the NOOP watchdog does not run; imapflow's inactivity timer (NOOP after one
    // quiet period, drop after a second) must then find a half-open socket within watchdogMs too.
    const timeouts = { ...PROBE_TIMEOUTS, socketMs: Math.min(PROBE_TIMEOUTS.socketMs, this.probeMs()) };
    const client = new ImapFlow({
      ...imapOptions(settings, timeouts),
      qresync: this.options.qresync ?? qresyncTrusted(account.imapHost),
      autoIdleDelay: this.options.idleDelayMs,
      maxIdleTime: 4 * 60_000,
    });
    this.client = client;
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', (error: unknown) => this.log().warn({ err: error }, 'imap connection error'));
    client.on('exists', () => {
      this.inboxDirty = true;
      this.wake?.();
    });
    client.on('flags', () => {
      this.inboxDirty = true;
      this.wake?.();
    });
    client.on('expunge', (event) => {
      // VANISHED (EARLIER) answers our own CHANGEDSINCE fetch during a pass: nothing new to wake for.
      if (event.earlier) {
        return;
      }
      this.inboxDirty = true;
      this.wake?.();
    });
    await client.connect();
    await setAccountHealth(this.deps.db, account.id, { status: 'syncing', code: null, message: null, hint: null, at: this.deps.now() });
    const folders = await discoverFolders(this.deps.db, client, account);
    await this.passAll(client, folders);
    // Caught up: the connection is healthy, so the next failure backs off from the start again.
    this.attempts = 0;
    await setAccountHealth(this.deps.db, account.id, { status: 'idle', code: null, message: null, hint: null, at: this.deps.now() });
    await this.watch(client, folders, closed);
  }

  private stableIds(client: ImapFlow): boolean {
    return client.capabilities.has('OBJECTID') || client.capabilities.has('X-GM-EXT-1');
  }

  private async passOne(client: ImapFlow, folder: { id: string; path: string }): Promise<void> {
    const lock = await client.getMailboxLock(folder.path, { readOnly: true });
    try {
      // An already-selected mailbox keeps stale counters until the server is polled.
      await client.noop();
      const result = await syncFolderPass(
        { db: this.deps.db, client, sink: this.deps.sink, stableIds: this.stableIds(client), shouldStop: () => this.halted() },
        folder.id,
        { fullDiffIntervalMs: this.options.fullDiffIntervalMs ?? FULL_DIFF_INTERVAL_MS, now: this.deps.now() },
      );
      if (result.stored || result.expunged || result.uidValidityReset) {
        this.log().info({ folder: folder.path, ...result }, 'folder synced');
      }
    } finally {
      lock.release();
    }
  }

  private async passAll(client: ImapFlow, folders: { id: string; path: string }[]): Promise<void> {
    for (const folder of folders) {
      if (this.halted()) {
        return;
      }
      await this.passOne(client, folder);
      await this.deps.onPass?.(this.accountId);
    }
  }

  /** IDLE on the inbox; wake on server events, the folder timer, or the watchdog. */
  private async watch(client: ImapFlow, folders: { id: string; path: string; role?: string }[], closed: Promise<void>) {
    const inbox = folders[0];
    if (!inbox) {
      return;
    }
    let behind = await this.reopenInbox(client, inbox);
    let nextFolderPass = Date.now() + this.options.folderIntervalMs;
    let broken = false;
    void closed.then(() => {
      broken = true;
      this.wake?.();
    });
    while (!this.halted() && !broken) {
      if (!behind) {
        await this.sleep(Math.min(this.probeMs(), Math.max(0, nextFolderPass - Date.now())));
        if (this.halted() || broken) {
          break;
        }
      }
      await noopWithin(client, this.probeMs());
      await this.checked();
      if (this.inboxDirty || behind) {
        this.inboxDirty = false;
        await this.passOne(client, inbox);
        await this.deps.onPass?.(this.accountId);
        behind = await this.reopenInbox(client, inbox);
      }
      if (Date.now() >= nextFolderPass) {
        await this.passAll(client, folders);
        behind = await this.reopenInbox(client, inbox);
        await this.checked();
        nextFolderPass = Date.now() + this.options.folderIntervalMs;
      }
    }
    if (broken && !this.halted()) {
      throw new Error('connection closed');
    }
  }

  /**
   * Selects the inbox to IDLE on. Mail that reached it while another folder
   * was selected raised no event here, so the counters of this SELECT are
   * compared with what the last pass stored.
   * @returns whether the inbox changed since its last pass.
   */
  private async reopenInbox(client: ImapFlow, inbox: { id: string; path: string }): Promise<boolean> {
    await client.mailboxOpen(inbox.path, { readOnly: true });
    const mailbox = client.mailbox;
    const stored = await findFolder(this.deps.db, inbox.id);
    if (!mailbox || !stored) {
      return false;
    }
    const modseq = mailbox.highestModseq === undefined ? null : Number(mailbox.highestModseq);
    return (
      stored.uidvalidity !== Number(mailbox.uidValidity) ||
      stored.uidnext === null ||
      Number(mailbox.uidNext) > stored.uidnext ||
      stored.messageCount !== mailbox.exists ||
      (modseq !== null && stored.highestModseq !== null && modseq > stored.highestModseq)
    );
  }

  /** The connection answered: the health line's "last checked" moves even though nothing else changed. */
  private async checked(): Promise<void> {
    await recordHealthCheck(this.deps.db, this.accountId, this.deps.now());
  }

  /** Half the watchdog period: a probe sent that often and answered within as long finds a dead socket within the period. */
  private probeMs(): number {
    return Math.max(1, Math.floor(this.options.watchdogMs / 2));
  }

  private async recordFailure(account: MailAccountRow, error: unknown): Promise<void> {
    this.lastError = error;
    this.client?.close();
    this.client = null;
    if (this.stopped) {
      return;
    }
    const problem = imapProblem(error, account);
    // An unclassified failure is usually ours (a query, a bug), not the network: keep the error itself.
    const detail = problem.code === 'unknown' ? { err: error } : {};
    this.log().warn({ code: problem.code, attempt: this.attempts, ...detail }, 'mailbox sync interrupted');
    await setAccountHealth(this.deps.db, account.id, {
      status: 'error',
      code: problem.code,
      message: problem.message,
      hint: problem.hint,
      at: this.deps.now(),
    }).catch(() => {});
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
