/**
 * @module server/sync/transport/session-events
 * How the auth commands tell every process that sessions ended, so the
 * sockets opened under them close at once instead of living on until they
 * next send something. In one process the bus is a plain fan-out; with
 * several processes the document host's bus carries the same events.
 */

export type SessionEvent =
  | { kind: 'revoked'; sessionIds: readonly string[] }
  | { kind: 'deactivated'; userId: string };

/** What commands call after the rows are gone (after commit, so a reconnect cannot validate again). */
export interface SessionEvents {
  /** Log-out, log-out of all devices, or any other deletion of sessions. */
  revoked(sessionIds: readonly string[]): void;
  /** A person can no longer use Shoal: every socket of theirs closes, whatever its session. */
  userDeactivated(userId: string): void;
}

/** Carries session events to each process's socket registry. */
export interface SessionEventBus {
  publish(event: SessionEvent): void;
  /** @returns a function that stops the delivery. */
  subscribe(handler: (event: SessionEvent) => void): () => void;
}

/** The bus of a single process: synchronous delivery to every subscriber. */
export function createLocalSessionBus(): SessionEventBus {
  const handlers = new Set<(event: SessionEvent) => void>();
  return {
    publish(event) {
      for (const handler of [...handlers]) {
        handler(event);
      }
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => void handlers.delete(handler);
    },
  };
}

/** The command-facing side of a bus. */
export function sessionEventsOn(bus: SessionEventBus): SessionEvents {
  return {
    revoked(sessionIds) {
      if (sessionIds.length > 0) {
        bus.publish({ kind: 'revoked', sessionIds: [...sessionIds] });
      }
    },
    userDeactivated(userId) {
      bus.publish({ kind: 'deactivated', userId });
    },
  };
}
