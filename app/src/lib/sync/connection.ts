/**
 * @module app/lib/sync/connection
 * One copy of the person's document of one epoch: the Y.Doc, its IndexedDB
 * persistence, the WebSocket provider to `/sync` (room `me`: the server
 * picks the document from the session cookie, never from the URL) and the
 * handshake. The session replaces the whole connection when the epoch
 * changes; nothing here outlives it but the clock and the outbox it borrows.
 */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import type { Awareness } from 'y-protocols/awareness';
import { SyncClient } from '$sync/client/client';
import { epochIn } from '$sync/client/epoch';
import type { Outbox } from '$sync/client/outbox';
import { changedKeys, readEpoch } from '$sync/client/read';
import type { Hlc } from '$sync/hlc';
import { MAPS } from '$sync/doc/schema';
import { installHandshake, type Handshake } from './handshake';
import { documentName } from './local-store';
import type { SocketState } from './status';

/** The part of y-indexeddb's IndexeddbPersistence the connection uses. */
export interface Persistence {
  whenSynced: Promise<unknown>;
  destroy(): Promise<void> | void;
}

export interface ConnectionDeps {
  /** Base URL of the sync endpoint, e.g. `wss://shoal.example/sync`. */
  url: string;
  openPersistence(name: string, doc: Y.Doc): Persistence;
  deleteDatabase(name: string): Promise<void>;
  WebSocketPolyfill?: typeof WebSocket;
}

export interface ConnectionEvents {
  socket(state: SocketState): void;
  synced(synced: boolean): void;
  /** The first epoch this device hears of (nothing stored yet). */
  epochLearned(epoch: string): void;
  /** The server's document belongs to another epoch: this copy must go. */
  foreignEpoch(epoch: string): void;
  /** Handshake done: the device's state went up, the server's was applied. */
  live(): void;
  acknowledged(seq: number): void;
  /** The server closed the socket for good (e.g. 4401 after log-out). */
  closed(code: number): void;
}

export interface ConnectionOptions {
  userId: string;
  orgId: string;
  /** The epoch of the stored copy, or null when the device has none yet. */
  epoch: string | null;
  /**
   * True after an epoch reset: the copy starts empty, and pending writes are
   * replayed only once the server's state is in (so the ones it has settle
   * instead of being sent again).
   */
  fresh?: boolean;
  clock: Hlc;
  outbox: Outbox;
  deps: ConnectionDeps;
  events: ConnectionEvents;
}

export class DocConnection {
  readonly doc = new Y.Doc();
  readonly client: SyncClient;
  readonly #options: ConnectionOptions;
  #epoch: string | null;
  #persistence: Persistence | null = null;
  #provider: WebsocketProvider | null = null;
  #handshake: Handshake | null = null;
  #closed = false;

  private constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#epoch = options.epoch;
    this.client = new SyncClient({
      doc: this.doc,
      orgId: options.orgId,
      clock: options.clock,
      outbox: options.outbox,
      isServerOrigin: (origin) => origin !== null && origin === this.#provider,
    });
  }

  /** Loads the stored copy (if any), puts back pending writes it lacks, then connects. */
  static async open(options: ConnectionOptions): Promise<DocConnection> {
    const connection = new DocConnection(options);
    if (options.epoch !== null) {
      connection.#persist(options.epoch);
      await connection.#persistence?.whenSynced;
      if (options.fresh !== true) {
        connection.client.replay({ authoritative: false });
      }
    }
    // Connect only after the stored copy is in: applied later, its items could lose keys to server values unsent.
    if (!connection.#closed) {
      connection.#connect();
    }
    return connection;
  }

  get epoch(): string | null {
    return this.#epoch;
  }

  get live(): boolean {
    return this.#handshake?.live ?? false;
  }

  /** Asks the server to acknowledge every write recorded so far. */
  probe(): boolean {
    return this.#handshake?.probe(this.#options.outbox.lastSeq) ?? false;
  }

  /** The presence channel of this connection (null before it connects). */
  get awareness(): Awareness | null {
    return this.#provider?.awareness ?? null;
  }

  /**
   * Drops the socket while the browser says it is offline: an emulated or
   * flaky network can leave a socket open that no longer carries anything,
   * and writes must wait in the outbox instead.
   */
  disconnect(): void {
    this.#provider?.disconnect();
  }

  /** Reconnects at once (the browser came back online), skipping the back-off wait. */
  reconnect(): void {
    const provider = this.#provider;
    if (provider !== null && !provider.wsconnected) {
      provider.disconnect();
      provider.connect();
    }
  }

  /** Disconnects and forgets this copy; with `discard`, its IndexedDB database is deleted too. */
  async close(discard = false): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#handshake?.uninstall();
    this.#provider?.destroy();
    this.client.destroy();
    await this.#persistence?.destroy();
    this.doc.destroy();
    if (discard && this.#epoch !== null) {
      await this.#options.deps.deleteDatabase(documentName(this.#options.userId, this.#epoch));
    }
  }

  #persist(epoch: string): void {
    this.#persistence = this.#options.deps.openPersistence(documentName(this.#options.userId, epoch), this.doc);
  }

  #connect(): void {
    const { deps, events } = this.#options;
    const provider = new WebsocketProvider(deps.url, 'me', this.doc, {
      connect: false,
      // Cross-tab sync by BroadcastChannel is keyed by URL and room only: on a shared browser it could
      // hand one person's document to another's tab. Tabs meet through the server instead.
      disableBc: true,
      params: this.#epoch === null ? {} : { epoch: this.#epoch },
      ...(deps.WebSocketPolyfill === undefined ? {} : { WebSocketPolyfill: deps.WebSocketPolyfill }),
    });
    this.#provider = provider;
    this.#handshake = installHandshake(provider, {
      acceptUpdate: (update) => this.#accept(update),
      live: () => events.live(),
      acknowledged: (seq) => events.acknowledged(seq),
    });
    provider.on('status', ({ status }) => events.socket(status));
    provider.on('sync', (synced: boolean) => events.synced(synced));
    provider.on('closed', ({ code }) => events.closed(code));
    // A rebuild written into the same document (not a fresh one) shows as a plain change of meta.epoch.
    this.doc.on('afterTransaction', (transaction: Y.Transaction) => {
      if (transaction.origin === provider && changedKeys(transaction, this.doc.getMap(MAPS.meta)).includes('epoch')) {
        const epoch = readEpoch(this.doc);
        if (epoch !== null) {
          this.#noticeEpoch(epoch);
        }
      }
    });
    provider.connect();
  }

  #accept(update: Uint8Array): boolean {
    const incoming = epochIn(update);
    return incoming === null || this.#noticeEpoch(incoming);
  }

  /** @returns whether the copy may stay (same epoch, or the first one learned). */
  #noticeEpoch(epoch: string): boolean {
    if (this.#epoch === epoch) {
      return true;
    }
    if (this.#epoch === null) {
      this.#epoch = epoch;
      // y-indexeddb stores the current state first, then every update.
      this.#persist(epoch);
      this.#options.events.epochLearned(epoch);
      return true;
    }
    this.#options.events.foreignEpoch(epoch);
    return false;
  }
}
