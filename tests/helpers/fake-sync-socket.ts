/**
 * @module tests/helpers/fake-sync-socket
 * A WebSocket stand-in for y-websocket's provider in Node, wired to the
 * fake sync server through the y-protocols sync messages, plus in-memory
 * stand-ins for IndexedDB (documents and the local store) that survive a
 * "reload" (a new session over the same objects). Messages travel
 * asynchronously and in order, like a socket's frames.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import type { Persistence } from '../../app/src/lib/sync/connection';
import type { LocalMeta, LocalStore } from '../../app/src/lib/sync/local-store';
import type { OutboxEntry } from '../../sync/client/outbox';
import type { Delivery, FakeSyncServer } from './fake-sync-server';

const MESSAGE_SYNC = 0;
type Handler<E> = ((event: E) => void) | null;

export interface NetworkOptions {
  /** When the server sends its state vector: at once on connection (y-websocket's server), or never. */
  serverStep1?: 'on-connect' | 'never';
}

export class FakeNetwork {
  online = true;
  readonly server: FakeSyncServer;
  readonly userId: string;
  readonly options: NetworkOptions;
  readonly sockets = new Set<FakeSocket>();
  /** Every sync message a client sent, decoded: for checking what went up. */
  readonly uploads: { type: number; update: Uint8Array | null }[] = [];
  readonly WebSocket: typeof WebSocket;

  constructor(server: FakeSyncServer, userId: string, options: NetworkOptions = {}) {
    this.server = server;
    this.userId = userId;
    this.options = options;
    const open = (url: string): FakeSocket => new FakeSocket(this, url);
    // y-websocket calls `new WebSocket(url)`; a function returning an object serves as that constructor.
    this.WebSocket = function FakeWebSocket(url: string | URL) {
      return open(String(url));
    } as unknown as typeof WebSocket;
  }

  setOnline(online: boolean): void {
    this.online = online;
    if (!online) {
      [...this.sockets].forEach((s) => s.serverClose(1006));
    }
  }
}

export class FakeSocket implements Delivery {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readonly url: string;
  binaryType = 'arraybuffer';
  readyState = 0;
  onopen: Handler<unknown> = null;
  onmessage: Handler<{ data: ArrayBuffer }> = null;
  onclose: Handler<{ code: number; reason: string }> = null;
  onerror: Handler<unknown> = null;
  readonly #network: FakeNetwork;
  #unlink: () => void = () => {};
  // One chain per socket keeps frames in order in both directions.
  #wire: Promise<void> = Promise.resolve();

  constructor(network: FakeNetwork, url: string) {
    this.#network = network;
    this.url = url;
    this.#later(() => {
      if (!network.online) {
        this.readyState = this.CLOSED;
        this.onerror?.({});
        this.onclose?.({ code: 1006, reason: '' });
        return;
      }
      this.readyState = this.OPEN;
      network.sockets.add(this);
      this.#unlink = network.server.link(network.userId, this);
      this.onopen?.({});
      if (network.options.serverStep1 !== 'never') {
        const encoder = encoding.createEncoder();
        encoding.writeVarUint(encoder, MESSAGE_SYNC);
        syncProtocol.writeSyncStep1(encoder, network.server.docOf(network.userId));
        this.#toClient(encoding.toUint8Array(encoder));
      }
    });
  }

  send(data: Uint8Array | ArrayBuffer): void {
    if (this.readyState !== this.OPEN) {
      return;
    }
    const bytes = new Uint8Array(data instanceof ArrayBuffer ? data : data.slice());
    this.#later(() => this.#atServer(bytes));
  }

  close(): void {
    this.#drop();
  }

  /** The server side closes the socket (or the network went away). */
  serverClose(code: number): void {
    if (this.readyState === this.CLOSED) {
      return;
    }
    this.#drop();
    this.onclose?.({ code, reason: '' });
  }

  deliver(update: Uint8Array): void {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeUpdate(encoder, update);
    this.#toClient(encoding.toUint8Array(encoder));
  }

  reset(): void {
    this.serverClose(4000);
  }

  #drop(): void {
    this.readyState = this.CLOSED;
    this.#unlink();
    this.#network.sockets.delete(this);
  }

  #later(fn: () => void): void {
    this.#wire = this.#wire.then(() => new Promise<void>((resolve) => setTimeout(resolve, 0))).then(fn);
  }

  #toClient(bytes: Uint8Array): void {
    this.#later(() => {
      if (this.readyState === this.OPEN) {
        this.onmessage?.({ data: bytes.slice().buffer });
      }
    });
  }

  #atServer(bytes: Uint8Array): void {
    if (this.readyState !== this.OPEN) {
      return;
    }
    const decoder = decoding.createDecoder(bytes);
    if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) {
      return;
    }
    const type = decoding.readVarUint(decoder);
    const payload = decoding.readVarUint8Array(decoder);
    const { server, userId } = this.#network;
    this.#network.uploads.push({ type, update: type === syncProtocol.messageYjsSyncStep1 ? null : payload });
    if (type === syncProtocol.messageYjsSyncStep1) {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      encoding.writeVarUint(encoder, syncProtocol.messageYjsSyncStep2);
      encoding.writeVarUint8Array(encoder, Y.encodeStateAsUpdate(server.docOf(userId), payload));
      this.#toClient(encoding.toUint8Array(encoder));
      return;
    }
    // The fake server reviews synchronously, so its compensations go out before any later reply.
    server.receive(userId, payload, this);
  }
}

/** IndexedDB stand-in: document updates by database name, kept across sessions. */
export class MemoryDatabases {
  readonly docs = new Map<string, Uint8Array[]>();
  readonly stores = new Map<string, { meta: LocalMeta; entries: Map<string, OutboxEntry> }>();

  openPersistence = (name: string, doc: Y.Doc): Persistence => {
    const updates = this.docs.get(name) ?? [];
    this.docs.set(name, updates);
    updates.unshift(Y.encodeStateAsUpdate(doc));
    const origin = { persistence: name };
    const store = (update: Uint8Array, from: unknown): void => {
      if (from !== origin && this.docs.get(name) === updates) {
        updates.push(update);
      }
    };
    const whenSynced = new Promise<void>((resolve) =>
      setTimeout(() => {
        Y.transact(doc, () => updates.forEach((u) => Y.applyUpdate(doc, u)), origin, false);
        doc.on('update', store);
        resolve();
      }, 0),
    );
    return { whenSynced, destroy: () => doc.off('update', store) };
  };

  deleteDatabase = async (name: string): Promise<void> => {
    this.docs.delete(name);
    this.stores.delete(name.replace(/^shoal-sync-/, ''));
  };

  listDatabases = async (userId: string): Promise<string[]> => [
    ...[...this.docs.keys()].filter((n) => n.startsWith(`shoal-doc-${userId}-`)),
    ...(this.stores.has(userId) ? [`shoal-sync-${userId}`] : []),
  ];

  openStore = async (userId: string): Promise<LocalStore> => {
    const data = this.stores.get(userId) ?? { meta: { node: null, epoch: null, persistAsked: false }, entries: new Map<string, OutboxEntry>() };
    this.stores.set(userId, data);
    return {
      loadMeta: async () => ({ ...data.meta }),
      saveMeta: async (patch) => {
        data.meta = { ...data.meta, ...patch };
      },
      loadEntries: async () => [...data.entries.values()].map((e) => ({ ...e })),
      putEntry: async (entry) => {
        data.entries.set(`${entry.map}|${entry.key}`, { ...entry });
      },
      deleteEntry: async (entry) => {
        if (data.entries.get(`${entry.map}|${entry.key}`)?.hlc === entry.hlc) {
          data.entries.delete(`${entry.map}|${entry.key}`);
        }
      },
      close: () => {},
    };
  };
}

/** Polls a synchronous condition every few milliseconds until it holds. @throws after `timeoutMs`, naming `what`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
