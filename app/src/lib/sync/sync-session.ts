/**
 * @module app/lib/sync/sync-session
 * A person's document on this device, for as long as they are signed in:
 * the local store (node id, epoch, outbox), the current connection, the
 * connection status, and the epoch reset. When the server's document is of
 * another epoch the device deletes its copy, opens a fresh one, and once the
 * server's state is in replays the writes still pending from before, with
 * their original stamps (settled writes are gone from the outbox, so they
 * are never resent). Listeners survive resets; the session re-wires them.
 */
import type * as Y from 'yjs';
import { createLocalClock, createNodeId } from '$sync/client/clock';
import { Outbox } from '$sync/client/outbox';
import type { FieldValues, ThreadField } from '$sync/doc/schema';
import type { ThreadView } from '$sync/client/read';
import type { PersonDoc, RecordDoc } from '$sync/doc/schema';
import type { ConversionRequest, ConversionType } from '$sync/client/write';
import type { OutboxEntry } from '$sync/client/outbox';
import type { Hlc } from '$sync/hlc';
import { DocConnection } from './connection';
import { openDocPersistence } from './doc-persistence';
import { deleteDatabase, openLocalStore, personDatabases, type LocalStore } from './local-store';
import { applyLocalPresence, readPeers, type LocalPresence, type PeerPresence } from './presence';
import { deriveStatus, syncServerUrl, type ConnectionStatus, type SocketState } from './status';
import { askPersistence, browserOnline, PROBE_DELAY_MS, type OnlineSource, type SyncSessionListener, type SyncSessionOptions } from './sync-session-options';

export { PROBE_DELAY_MS, type OnlineSource, type SyncSessionListener, type SyncSessionOptions } from './sync-session-options';

export class SyncSession {
  readonly userId: string;
  readonly #options: SyncSessionOptions;
  readonly #store: LocalStore;
  readonly #clock: Hlc;
  readonly #outbox: Outbox;
  readonly #online: OnlineSource;
  readonly #listeners = new Set<SyncSessionListener>();
  #connection!: DocConnection;
  #stopWatching: () => void = () => {};
  #stopOnline: () => void = () => {};
  #socket: SocketState = 'connecting';
  #synced = false;
  #firstAttempt = true;
  #status: ConnectionStatus = 'syncing';
  #probeTimer: ReturnType<typeof setTimeout> | null = null;
  #replayThrough: number | null = null;
  #resetting: Promise<void> | null = null;
  #closed = false;
  #presence: LocalPresence | null = null;
  #stopPresence: () => void = () => {};
  // The watchers' latest lists, so a new listener gets them without another read and sort of every thread.
  #threads: readonly ThreadView[] = [];
  #people: ReadonlyMap<string, PersonDoc> = new Map();
  #records: ReadonlyMap<string, RecordDoc> = new Map();

  private constructor(options: SyncSessionOptions, store: LocalStore, node: string, entries: OutboxEntry[]) {
    this.userId = options.userId;
    this.#options = options;
    this.#store = store;
    this.#clock = createLocalClock({ node, now: options.now });
    this.#outbox = new Outbox(entries);
    this.#online = options.online ?? browserOnline();
    this.#outbox.subscribe({
      recorded: (entry) => {
        void this.#store.putEntry(entry);
        this.#scheduleProbe();
      },
      settled: (writes) => {
        writes.forEach((w) => void this.#store.deleteEntry(w.entry));
        this.#emit((l) => l.settled?.(writes));
      },
      changed: (pending) => this.#emit((l) => l.pending?.(pending.length)),
    });
  }

  /** Opens the person's document: the stored copy first (usable offline), then the connection. */
  static async open(options: SyncSessionOptions): Promise<SyncSession> {
    const store = await (options.openStore ?? openLocalStore)(options.userId);
    const meta = await store.loadMeta();
    const node = meta.node ?? createNodeId();
    if (meta.node === null) {
      await store.saveMeta({ node });
    }
    const session = new SyncSession(options, store, node, await store.loadEntries());
    if (!meta.persistAsked) {
      // Without it the browser may evict the document and the outbox under storage pressure.
      await store.saveMeta({ persistAsked: true });
      void (options.requestPersistence ?? askPersistence)().catch(() => false);
    }
    await session.#attach(meta.epoch, false);
    session.#stopOnline = session.#online.subscribe(() => {
      if (session.#online.isOnline()) {
        session.#connection.reconnect();
      } else {
        session.#connection.disconnect();
      }
      session.#updateStatus();
    });
    return session;
  }

  get client() {
    return this.#connection.client;
  }

  get doc(): Y.Doc {
    return this.#connection.doc;
  }

  get epoch(): string | null {
    return this.#connection.epoch;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  get pendingCount(): number {
    return this.#outbox.pendingCount;
  }

  /** Listens; `threads`, `people` and `records` are called at once with the lists the session already holds. */
  subscribe(listener: SyncSessionListener): () => void {
    this.#listeners.add(listener);
    if (listener.threads) {
      listener.threads({ threads: this.#threads, changed: new Set() });
    }
    listener.people?.(this.#people);
    listener.records?.(this.#records);
    listener.presence?.(this.#peers());
    return () => this.#listeners.delete(listener);
  }

  /** Tells the others which thread this device shows (null: none); kept across reconnects and resets. */
  setPresence(presence: LocalPresence | null): void {
    this.#presence = presence;
    const awareness = this.#connection.awareness;
    if (awareness !== null) {
      applyLocalPresence(awareness, presence);
    }
  }

  setField<F extends ThreadField>(threadId: string, field: F, value: FieldValues[F]): OutboxEntry | null {
    return this.client.setField(threadId, field, value);
  }

  setShareFlag(recordId: string, shared: boolean): OutboxEntry | null {
    return this.client.setShareFlag(recordId, shared);
  }

  requestConversion(address: string, type: ConversionType): ConversionRequest {
    return this.client.requestConversion(address, type);
  }

  /** Resolves once any epoch reset under way has finished (tests and log-out wait on it). */
  async settledReset(): Promise<void> {
    while (this.#resetting !== null) {
      await this.#resetting;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    await this.settledReset();
    this.#clearProbe();
    this.#stopOnline();
    this.#stopWatching();
    this.#stopPresence();
    await this.#connection.close();
    this.#store.close();
    this.#listeners.clear();
  }

  /** Log-out: closes and deletes everything this person left on the device (documents, outbox, node id). */
  async wipe(): Promise<void> {
    const epoch = this.epoch;
    this.#outbox.clear();
    await this.close();
    const list = this.#options.listDatabases ?? personDatabases;
    const remove = this.#options.deleteDatabase ?? deleteDatabase;
    for (const name of await list(this.userId, epoch)) {
      await remove(name);
    }
  }

  async #attach(epoch: string | null, fresh: boolean): Promise<void> {
    this.#socket = 'connecting';
    this.#synced = false;
    this.#connection = await DocConnection.open({
      userId: this.userId,
      orgId: this.#options.orgId,
      epoch,
      fresh,
      clock: this.#clock,
      outbox: this.#outbox,
      deps: {
        url: this.#options.url ?? syncServerUrl(window.location),
        openPersistence: this.#options.openPersistence ?? openDocPersistence,
        deleteDatabase: this.#options.deleteDatabase ?? deleteDatabase,
        ...(this.#options.WebSocketPolyfill === undefined ? {} : { WebSocketPolyfill: this.#options.WebSocketPolyfill }),
      },
      events: {
        socket: (state) => {
          if (state === 'disconnected') {
            this.#firstAttempt = false;
          }
          this.#socket = state;
          this.#updateStatus();
        },
        synced: (synced) => {
          this.#synced = synced;
          this.#updateStatus();
        },
        epochLearned: (learned) => void this.#store.saveMeta({ epoch: learned }),
        foreignEpoch: (next) => this.#reset(next),
        live: () => this.#onLive(),
        acknowledged: (seq) => this.client.acknowledge(seq),
        closed: (code) => this.#emit((l) => l.closed?.(code)),
      },
    });
    if (fresh) {
      // Replay what was recorded until now (including writes made into the old copy while it was being
      // dropped); later writes go into the fresh copy itself and must not count as answered by their stamp.
      this.#replayThrough = this.#outbox.lastSeq;
    }
    const client = this.#connection.client;
    const stops = [
      client.watchThreads((change) => {
        this.#threads = change.threads;
        this.#emit((l) => l.threads?.(change));
      }),
      client.watchEntries('people', (people) => {
        this.#people = people;
        this.#emit((l) => l.people?.(people));
      }),
      client.watchEntries('records', (records) => {
        this.#records = records;
        this.#emit((l) => l.records?.(records));
      }),
    ];
    this.#stopWatching = () => stops.forEach((stop) => stop());
    this.#watchPresence();
    this.#updateStatus();
  }

  #peers(): PeerPresence[] {
    const awareness = this.#connection.awareness;
    return awareness === null ? [] : readPeers(awareness, this.userId);
  }

  #watchPresence(): void {
    this.#stopPresence();
    const awareness = this.#connection.awareness;
    if (awareness === null) {
      return;
    }
    applyLocalPresence(awareness, this.#presence);
    const onChange = (): void => {
      const peers = this.#peers();
      this.#emit((l) => l.presence?.(peers));
    };
    awareness.on('change', onChange);
    this.#stopPresence = () => awareness.off('change', onChange);
    onChange();
  }

  #onLive(): void {
    if (this.#replayThrough !== null) {
      // The fresh copy now holds the server's state: put back what it lacks, settle what it has.
      this.client.replay({ authoritative: true, throughSeq: this.#replayThrough });
      this.#replayThrough = null;
    }
    this.#connection.probe();
  }

  #reset(epoch: string): void {
    if (this.#resetting !== null || this.#closed) {
      return;
    }
    // Out of the socket's message handler first: the connection is torn down under it.
    this.#resetting = Promise.resolve()
      .then(async () => {
        this.#clearProbe();
        this.#stopWatching();
        this.#stopPresence();
        await this.#connection.close(true);
        await this.#store.saveMeta({ epoch });
        await this.#attach(epoch, true);
        this.#emit((l) => l.reset?.(epoch));
      })
      .finally(() => {
        this.#resetting = null;
      });
  }

  #scheduleProbe(): void {
    this.#clearProbe();
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = null;
      this.#connection.probe();
    }, PROBE_DELAY_MS);
  }

  #clearProbe(): void {
    if (this.#probeTimer !== null) {
      clearTimeout(this.#probeTimer);
      this.#probeTimer = null;
    }
  }

  #updateStatus(): void {
    const status = deriveStatus({ browserOnline: this.#online.isOnline(), socket: this.#socket, synced: this.#synced, firstAttempt: this.#firstAttempt });
    if (status !== this.#status) {
      this.#status = status;
      this.#emit((l) => l.status?.(status));
    }
  }

  #emit(call: (listener: SyncSessionListener) => void): void {
    for (const listener of this.#listeners) {
      call(listener);
    }
  }
}
