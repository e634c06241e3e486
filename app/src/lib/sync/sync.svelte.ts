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
import type { FieldValues, ThreadField } from '$sync/doc/schema';
import type { ConversionRequest, ConversionType } from '$sync/client/write';
import { describeNotice, type WriteNotice } from './notices';
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

  #session: SyncSession | null = null;
  #unsubscribe: () => void = () => {};
  #nextNotice = 1;

  /** Opens the person's document (stored copy first, then the server). */
  async open(options: SyncSessionOptions): Promise<void> {
    const session = await SyncSession.open(options);
    this.#session = session;
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
    });
    this.ready = true;
  }

  /** The person's own threads' field, as the document holds it now. */
  field<F extends ThreadField>(threadId: string, field: F): FieldValues[F] | null {
    return this.#session?.client.field(threadId, field) ?? null;
  }

  /** @throws SyncWriteError for an invalid value or a thread no longer in the inbox. */
  setField<F extends ThreadField>(threadId: string, field: F, value: FieldValues[F]): void {
    this.#require().setField(threadId, field, value);
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
