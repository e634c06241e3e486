/**
 * @module sync/client/client
 * One person's document on one device: typed reads, stamped writes, the
 * outbox, and the two things every incoming update must do — move the
 * clock past the stamps it carries, and settle the pending writes it answers.
 *
 * Only transactions from the server settle writes (`isServerOrigin`): the
 * device's stored copy (IndexedDB) holds our own unsent values, which prove
 * nothing. A write the server accepts gets no answer (the server writes back
 * only what it refuses or overrules), so the transport calls `acknowledge`
 * once it knows the server has reviewed everything up to an outbox sequence.
 */
import type * as Y from 'yjs';
import type { Hlc } from '../hlc';
import type { FieldValues, ThreadField } from '../doc/schema';
import { createLocalClock, receiveStamp, stampOf } from './clock';
import { defineMaps } from './epoch';
import { OUTBOX_MAPS, Outbox, type OutboxEntry, type SettledWrite } from './outbox';
import { changedKeys, readEntries, readEpoch, readField, readThread, readThreads, type MapKey, type MapValues, type ThreadView } from './read';
import { replayOutbox, type ReplayOptions, type ReplayResult } from './replay';
import { watchEntries, watchThreads, type ThreadsListener } from './watch';
import { requestConversion, setField, setShareFlag, type ConversionRequest, type ConversionType, type WriteContext } from './write';

export interface SyncClientOptions {
  doc: Y.Doc;
  orgId: string;
  /** Tells the server's transactions (e.g. the WebSocket provider) from the device's own loads. */
  isServerOrigin: (origin: unknown) => boolean;
  /** The device's clock; pass the previous client's across an epoch reset so stamps keep rising. */
  clock?: Hlc;
  /** Required when `clock` is not given. */
  node?: string;
  now?: () => number;
  /** The pending writes; pass the previous client's across an epoch reset. */
  outbox?: Outbox;
}

export class SyncClient {
  readonly doc: Y.Doc;
  readonly clock: Hlc;
  readonly outbox: Outbox;
  readonly #ctx: WriteContext;
  readonly #isServerOrigin: (origin: unknown) => boolean;

  /** @throws Error when neither `clock` nor `node` is given; HlcError for a bad node id. */
  constructor(options: SyncClientOptions) {
    if (options.clock === undefined && options.node === undefined) {
      throw new Error('SyncClient needs a clock or a node id');
    }
    this.doc = options.doc;
    this.clock = options.clock ?? createLocalClock({ node: options.node as string, now: options.now });
    this.outbox = options.outbox ?? new Outbox();
    this.#isServerOrigin = options.isServerOrigin;
    this.#ctx = { doc: this.doc, clock: this.clock, outbox: this.outbox, orgId: options.orgId };
    defineMaps(this.doc);
    this.#receiveExisting();
    this.doc.on('afterTransaction', this.#onTransaction);
  }

  get pendingCount(): number {
    return this.outbox.pendingCount;
  }

  get epoch(): string | null {
    return readEpoch(this.doc);
  }

  threads(): ThreadView[] {
    return readThreads(this.doc);
  }

  thread(threadId: string): ThreadView | null {
    return readThread(this.doc, threadId);
  }

  field<F extends ThreadField>(threadId: string, field: F): FieldValues[F] {
    return readField(this.doc, threadId, field);
  }

  entries<N extends MapKey>(name: N): Map<string, MapValues[N]> {
    return readEntries(this.doc, name);
  }

  watchThreads(listener: ThreadsListener): () => void {
    return watchThreads(this.doc, listener);
  }

  watchEntries<N extends MapKey>(name: N, listener: (entries: ReadonlyMap<string, MapValues[N]>, changed: ReadonlySet<string>) => void): () => void {
    return watchEntries(this.doc, name, listener);
  }

  setField<F extends ThreadField>(threadId: string, field: F, value: FieldValues[F]): OutboxEntry | null {
    return setField(this.#ctx, threadId, field, value);
  }

  setShareFlag(recordId: string, shared: boolean): OutboxEntry | null {
    return setShareFlag(this.#ctx, recordId, shared);
  }

  requestConversion(address: string, type: ConversionType): ConversionRequest {
    return requestConversion(this.#ctx, address, type);
  }

  /** The server has reviewed every write recorded up to `seq`: settle them all. */
  acknowledge(seq: number): SettledWrite[] {
    return this.outbox.settleReviewed(seq, (entry) => this.doc.getMap<unknown>(entry.map).get(entry.key));
  }

  /** Puts pending writes the document lacks back into it (see replay.ts). */
  replay(options: ReplayOptions): ReplayResult {
    return replayOutbox(this.doc, this.outbox, options);
  }

  /** Stops observing the document (the document itself is the caller's). */
  destroy(): void {
    this.doc.off('afterTransaction', this.#onTransaction);
  }

  #receiveExisting(): void {
    for (const name of OUTBOX_MAPS) {
      for (const value of this.doc.getMap<unknown>(name).values()) {
        receiveStamp(this.clock, stampOf(value));
      }
    }
    for (const entry of this.outbox.pending()) {
      receiveStamp(this.clock, entry.hlc);
    }
  }

  readonly #onTransaction = (transaction: Y.Transaction): void => {
    // Our own writes were stamped by this clock already.
    if (transaction.local) {
      return;
    }
    const fromServer = this.#isServerOrigin(transaction.origin);
    for (const name of OUTBOX_MAPS) {
      const map = this.doc.getMap<unknown>(name);
      const keys = changedKeys(transaction, map);
      for (const key of keys) {
        receiveStamp(this.clock, stampOf(map.get(key)));
      }
      if (fromServer && keys.length > 0) {
        this.outbox.settleAnswered(name, keys, (key) => map.get(key));
      }
    }
  };
}
