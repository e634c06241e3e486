/**
 * @module server/ingest/worker-options
 * What a mailbox worker is tuned by and what it needs, and the servers whose
 * QRESYNC answers it does not trust.
 */
import type { Logger } from 'pino';
import type { Db } from '../../db/types';
import type { Keyring } from '../secrets/keyring';
import type { MessageSink } from './sync-folder';

export interface WorkerOptions {
  /** How often folders other than the inbox are re-synced. */
  folderIntervalMs: number;
  /**
   * Longest a half-open socket goes unnoticed. Idle, a NOOP is sent every half
   * period and must come back within the other half; during a pass, imapflow's
   * socket timeout (capped at half the period) does the same.
   */
  watchdogMs: number;
  /** imapflow's auto-IDLE delay after the last command. */
  idleDelayMs: number;
  /** How long to wait before retrying a lease another process holds. */
  leaseRetryMs: number;
  /** First reconnect delay (default BACKOFF.baseMs); doubles per failed attempt. */
  reconnectBaseMs?: number;
  /** Reconnect delay cap (default BACKOFF.maxMs). */
  reconnectMaxMs?: number;
  /**
   * Whether to enable QRESYNC when the server offers it (default: yes, except
   * iCloud). Off, every pass finds expunges by a full UID diff: for servers
   * whose VANISHED answers cannot be trusted.
   */
  qresync?: boolean;
  /** How often a full UID diff runs even with QRESYNC (default FULL_DIFF_INTERVAL_MS, a day). */
  fullDiffIntervalMs?: number;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  folderIntervalMs: 5 * 60_000,
  watchdogMs: 60_000,
  idleDelayMs: 15_000,
  leaseRetryMs: 30_000,
};

export interface WorkerDeps {
  db: Db;
  keyring: Keyring;
  log: Logger;
  sink: MessageSink;
  now: () => Date;
  /**
   * Whether mail servers on private or local addresses may be dialled
   * (MAIL_ALLOW_PRIVATE_HOSTS). Checked at every connection, since a name can
   * point somewhere else than when the account was saved. Absent: refused.
   */
  allowPrivateHosts?: boolean;
  /** Called after every pass with the account's id (progress, notifications). */
  onPass?: (accountId: string) => Promise<void>;
}

/** iCloud sends malformed VANISHED responses (Mailspring turns QRESYNC off there too). */
export function qresyncTrusted(imapHost: string): boolean {
  return !/(^|\.)mail\.me\.com$/i.test(imapHost);
}
