/**
 * @module server/ingest/lease-guard
 * Keeps asking whether a mailbox's lease is still held. A lease is a lock
 * on a database connection; when that connection dies (a database restart,
 * a dropped socket) the lock goes with it and another process may start
 * syncing the account, so this one must notice and stop.
 */
import type { Lease } from '../../db/types';

export interface LeaseGuard {
  stop(): void;
}

/**
 * Checks the lease every `everyMs` and calls `onLost` once when it is gone.
 * A check that fails counts as lost: nothing then proves the lock is still ours.
 */
export function guardLease(lease: Lease, everyMs: number, onLost: () => void): LeaseGuard {
  let checking = false;
  let done = false;
  const timer = setInterval(() => {
    if (checking || done) {
      return;
    }
    checking = true;
    void lease
      .alive()
      .catch(() => false)
      .then((alive) => {
        checking = false;
        if (!alive && !done) {
          done = true;
          clearInterval(timer);
          onLost();
        }
      });
  }, everyMs);
  // The worker's own loop keeps the process alive; this check alone must not.
  timer.unref();
  return {
    stop() {
      done = true;
      clearInterval(timer);
    },
  };
}
