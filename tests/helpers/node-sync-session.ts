/**
 * @module tests/helpers/node-sync-session
 * The app's own `SyncSession` (handshake, outbox, acknowledgements, epoch
 * reset keeping unsent writes) in Node against a real `/sync`: a `ws`
 * socket carrying the session cookie and Origin as a browser does, a switch
 * for being online, and in-memory stand-ins for IndexedDB (or none, for the
 * benchmark's clients, which never reload).
 */
import { WebSocket } from 'ws';
import type { Persistence } from '../../app/src/lib/sync/connection';
import { SyncSession, type OnlineSource } from '../../app/src/lib/sync/sync-session';
import { MemoryDatabases } from './fake-sync-socket';

export interface NodeSessionInput {
  url: string;
  cookie: string;
  origin: string;
  userId: string;
  orgId: string;
  /** Keep the device's document in memory as IndexedDB would (default); false keeps only the outbox. */
  persist?: boolean;
}

export interface NodeSession {
  session: SyncSession;
  /** Goes offline (the socket drops, writes wait in the outbox) or back online (reconnects at once). */
  setOnline(online: boolean): void;
  /** Every epoch the session reset to, in order. */
  resets: string[];
  close(): Promise<void>;
}

function socketClass(headers: Record<string, string>): typeof globalThis.WebSocket {
  return class extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  } as unknown as typeof globalThis.WebSocket;
}

const noPersistence = (): Persistence => ({ whenSynced: Promise.resolve(), destroy: () => {} });

export async function openNodeSession(input: NodeSessionInput): Promise<NodeSession> {
  let online = true;
  const listeners = new Set<() => void>();
  const source: OnlineSource = {
    isOnline: () => online,
    subscribe(onChange) {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
  };
  const databases = new MemoryDatabases();
  const session = await SyncSession.open({
    userId: input.userId,
    orgId: input.orgId,
    url: input.url,
    WebSocketPolyfill: socketClass({ origin: input.origin, cookie: input.cookie }),
    openStore: databases.openStore,
    openPersistence: input.persist === false ? noPersistence : databases.openPersistence,
    deleteDatabase: databases.deleteDatabase,
    listDatabases: databases.listDatabases,
    online: source,
    requestPersistence: async () => true,
  });
  const resets: string[] = [];
  session.subscribe({ reset: (epoch) => resets.push(epoch) });
  return {
    session,
    resets,
    setOnline(next) {
      online = next;
      listeners.forEach((fn) => fn());
    },
    close: () => session.close(),
  };
}
