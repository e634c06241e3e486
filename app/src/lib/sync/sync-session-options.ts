/**
 * @module app/lib/sync/sync-session-options
 * What a `SyncSession` is opened with and reports to: its options (each
 * browser dependency injectable for tests), its listener, and the browser's
 * defaults for being online and for persistent storage.
 */
import type { SettledWrite } from '$sync/client/outbox';
import type { ThreadsChange } from '$sync/client/watch';
import type { PersonDoc, RecordDoc } from '$sync/doc/schema';
import type { ConnectionDeps } from './connection';
import type { LocalStore } from './local-store';
import type { PeerPresence } from './presence';
import type { ConnectionStatus } from './status';

/** Wait after a local write before asking the server to acknowledge, so a burst of edits shares one probe. */
export const PROBE_DELAY_MS = 250;

export interface OnlineSource {
  isOnline(): boolean;
  subscribe(onChange: () => void): () => void;
}

export interface SyncSessionOptions {
  userId: string;
  orgId: string;
  /** Defaults to the page's own origin (`ws:`/`wss:` + `/sync`). */
  url?: string;
  openStore?: (userId: string) => Promise<LocalStore>;
  openPersistence?: ConnectionDeps['openPersistence'];
  deleteDatabase?: (name: string) => Promise<void>;
  listDatabases?: (userId: string, epoch: string | null) => Promise<string[]>;
  WebSocketPolyfill?: typeof WebSocket;
  online?: OnlineSource;
  now?: () => number;
  /** `navigator.storage.persist()`, asked once per person and device. */
  requestPersistence?: () => Promise<boolean>;
}

export interface SyncSessionListener {
  threads?(change: ThreadsChange): void;
  status?(status: ConnectionStatus): void;
  pending?(count: number): void;
  settled?(writes: readonly SettledWrite[]): void;
  /** The document was replaced under a new epoch. */
  reset?(epoch: string): void;
  /** The server ended the connection for good (e.g. 4401: signed out elsewhere). */
  closed?(code: number): void;
  /** The organization's people (called at once and after each change, and after a reset). */
  people?(people: ReadonlyMap<string, PersonDoc>): void;
  /** The records the person may access. */
  records?(records: ReadonlyMap<string, RecordDoc>): void;
  /** Everyone else on a thread the person can see. */
  presence?(peers: readonly PeerPresence[]): void;
}

export function browserOnline(): OnlineSource {
  return {
    isOnline: () => (typeof navigator === 'undefined' ? true : navigator.onLine),
    subscribe(onChange) {
      if (typeof window === 'undefined') {
        return () => {};
      }
      window.addEventListener('online', onChange);
      window.addEventListener('offline', onChange);
      return () => {
        window.removeEventListener('online', onChange);
        window.removeEventListener('offline', onChange);
      };
    },
  };
}

export async function askPersistence(): Promise<boolean> {
  return typeof navigator !== 'undefined' && navigator.storage?.persist !== undefined ? navigator.storage.persist() : false;
}
