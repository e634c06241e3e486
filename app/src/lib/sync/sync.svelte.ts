/**
 * @module app/lib/sync/sync
 * The inbox's view of the person's document as Svelte 5 state: the sorted
 * threads, the connection status, how many changes wait for the server, and
 * notices for changes that did not stick ("your change lost to a later
 * one"). Writes go straight to the local document, so the UI updates at
 * once, online or not; a refused write throws before anything changes.
 */
import { createContext } from 'svelte';
import type { SettledWrite } from '$sync/client/outbox';
import type { ThreadView } from '$sync/client/read';
import type { FieldValues, PersonDoc, RecordDoc, ThreadField } from '$sync/doc/schema';
import type { ConversionRequest, ConversionType } from '$sync/client/write';
import { describeNotice, type WriteNotice } from './notices';
import type { LocalPresence, PeerPresence } from './presence';
import type { ConnectionStatus } from './status';
import { SyncSession, type SyncSessionOptions } from './sync-session';

export type { WriteNotice };

/** At most this many notices are kept; older ones drop off. */
export const MAX_NOTICES = 20;

export class SyncStore {
  /** Every thread of the working set, newest activity first. */
  threads = $state.raw<readonly ThreadView[]>([]);
  status = $state<ConnectionStatus>('syncing');
  pendingCount = $state(0);
  notices = $state<WriteNotice[]>([]);
  /** The stored copy is loaded: reads work, offline too. */
  ready = $state(false);
  /** Set when the server ended the session (e.g. signed out elsewhere). */
  closedCode = $state<number | null>(null);
  /** The organization's people, by id. */
  people = $state.raw<ReadonlyMap<string, PersonDoc>>(new Map());
  /** The records the person may access, by id. */
  records = $state.raw<ReadonlyMap<string, RecordDoc>>(new Map());
  /** Everyone else on a thread the person can see. */
  peers = $state.raw<readonly PeerPresence[]>([]);
  /** Whose document this is (null while closed). */
  userId = $state<string | null>(null);

  #session: SyncSession | null = null;
  #unsubscribe: () => void = () => {};
  #nextNotice = 1;

  /** Opens the person's document (stored copy first, then the server). */
  async open(options: SyncSessionOptions): Promise<void> {
    const session = await SyncSession.open(options);
    this.#session = session;
    this.userId = options.userId;
    this.pendingCount = session.pendingCount;
    this.status = session.status;
    this.#unsubscribe = session.subscribe({
      threads: ({ threads }) => {
        this.threads = threads;
      },
      status: (status) => {
        this.status = status;
      },
      pending: (count) => {
        this.pendingCount = count;
      },
      settled: (writes) => this.#notice(writes),
      closed: (code) => {
        this.closedCode = code;
      },
      people: (people) => {
        this.people = people;
      },
      records: (records) => {
        this.records = records;
      },
      presence: (peers) => {
        this.peers = peers;
      },
    });
    this.ready = true;
  }

  /** The person's own threads' field, as the document holds it now. */
  field<F extends ThreadField>(threadId: string, field: F): FieldValues[F] | null {
    return this.#session?.client.field(threadId, field) ?? null;
  }

  /**
   * @returns whether anything was written (false: the field already had this value).
   * @throws SyncWriteError for an invalid value or a thread no longer in the inbox.
   */
  setField<F extends ThreadField>(threadId: string, field: F, value: FieldValues[F]): boolean {
    return this.#require().setField(threadId, field, value) !== null;
  }

  /** Tells teammates which thread this device shows, and whether a reply is being written. */
  setPresence(presence: LocalPresence | null): void {
    this.#session?.setPresence(presence);
  }

  setShareFlag(recordId: string, shared: boolean): void {
    this.#require().setShareFlag(recordId, shared);
  }

  /** @returns the record id the lead or contact will have (the same on every device). */
  requestConversion(address: string, type: ConversionType): ConversionRequest {
    return this.#require().requestConversion(address, type);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    await this.#session?.close();
    this.#session = null;
    this.ready = false;
    this.userId = null;
  }

  /** Log-out: deletes the document, the outbox and the device id of this person from the browser. */
  async wipe(): Promise<void> {
    this.#unsubscribe();
    await this.#session?.wipe();
    this.#session = null;
    this.ready = false;
    this.threads = [];
    this.pendingCount = 0;
    this.notices = [];
    this.people = new Map();
    this.records = new Map();
    this.peers = [];
    this.userId = null;
  }

  #notice(writes: readonly SettledWrite[]): void {
    const fresh = writes.flatMap((write) => {
      const notice = describeNotice(write);
      return notice === null ? [] : [{ ...notice, id: this.#nextNotice++ }];
    });
    if (fresh.length > 0) {
      this.notices = [...this.notices, ...fresh].slice(-MAX_NOTICES);
    }
  }

  #require(): SyncSession {
    if (this.#session === null) {
      throw new Error('The inbox is not open yet.');
    }
    return this.#session;
  }
}

export const [getSyncStore, setSyncStore] = createContext<SyncStore>();
