/**
 * @module server/sync/transport/registry
 * Every sync socket of this process, by session and by person, so a
 * log-out, a "log out of all devices" or a deactivation closes them with
 * 4401 at once.
 *
 * A socket is reserved under its session id *before* the session is
 * validated: a revocation that lands while the upgrade is still validating
 * or opening the document marks the reservation ended, and the socket is
 * refused or closed the moment it would bind. Without that, a log-out racing
 * a reconnect could leave a socket open on a dead session.
 */
import type { SessionEvent } from './session-events';

export const CLOSE_CODES = {
  /** The document was replaced (new epoch, takeover): reconnect and sync against the new one. */
  documentReplaced: 4000,
  /** The session ended (log-out, revocation, deactivation); y-websocket does not reconnect on 44xx. */
  sessionEnded: 4401,
  goingAway: 1001,
  unsupportedData: 1003,
  invalidFrame: 1007,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

export interface Closable {
  close(code: number, reason: string): void;
}

/** One socket's place in the registry, from reservation to close. Only the registry changes it. */
export class RegistryEntry {
  userId: string | null = null;
  /** True once its session ended; a later bind closes the socket at once. */
  ended = false;
  socket: Closable | null = null;
  constructor(readonly sessionId: string) {}
}

export class SocketRegistry {
  private readonly bySession = new Map<string, Set<RegistryEntry>>();
  private readonly byUser = new Map<string, Set<RegistryEntry>>();

  /** Reserves a place for a socket about to be validated under `sessionId`. */
  reserve(sessionId: string): RegistryEntry {
    const entry = new RegistryEntry(sessionId);
    addTo(this.bySession, sessionId, entry);
    return entry;
  }

  /** Files the reservation under its person once the session is known to be theirs. */
  identify(entry: RegistryEntry, userId: string): void {
    if (entry.userId !== null) {
      return;
    }
    entry.userId = userId;
    addTo(this.byUser, userId, entry);
  }

  /**
   * Attaches the open socket. @returns false (and closes it with 4401) when
   * the session ended meanwhile.
   */
  bind(entry: RegistryEntry, socket: Closable): boolean {
    entry.socket = socket;
    if (entry.ended) {
      socket.close(CLOSE_CODES.sessionEnded, 'session ended');
      return false;
    }
    return true;
  }

  release(entry: RegistryEntry): void {
    removeFrom(this.bySession, entry.sessionId, entry);
    if (entry.userId !== null) {
      removeFrom(this.byUser, entry.userId, entry);
    }
    entry.socket = null;
  }

  /** Applies a session event from the bus. */
  handle(event: SessionEvent): void {
    if (event.kind === 'revoked') {
      for (const id of event.sessionIds) {
        this.end(this.bySession.get(id));
      }
      return;
    }
    this.end(this.byUser.get(event.userId));
  }

  /** Open or reserved sockets of a person (for tests and metrics). */
  countForUser(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  /** Closes every socket, e.g. at shutdown. */
  closeAll(code: number, reason: string): void {
    for (const entries of this.bySession.values()) {
      for (const entry of [...entries]) {
        entry.ended = true;
        entry.socket?.close(code, reason);
      }
    }
  }

  private end(entries: Set<RegistryEntry> | undefined): void {
    for (const entry of [...(entries ?? [])]) {
      entry.ended = true;
      entry.socket?.close(CLOSE_CODES.sessionEnded, 'session ended');
    }
  }
}

function addTo(index: Map<string, Set<RegistryEntry>>, key: string, entry: RegistryEntry): void {
  const set = index.get(key) ?? new Set<RegistryEntry>();
  set.add(entry);
  index.set(key, set);
}

function removeFrom(index: Map<string, Set<RegistryEntry>>, key: string, entry: RegistryEntry): void {
  const set = index.get(key);
  if (!set) {
    return;
  }
  set.delete(entry);
  if (set.size === 0) {
    index.delete(key);
  }
}
