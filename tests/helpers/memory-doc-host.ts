/**
 * @module tests/helpers/memory-doc-host
 * A DocHost kept in memory, for transport tests beside the real host: one
 * gc'd document per person (with `meta.epoch`), client updates applied then
 * broadcast as the document took them, server writes under the document's
 * one client id, and a rebuild that replaces the document under a new epoch
 * and tells reset listeners. No persistence and no edit policy. Also a
 * recording wrapper for any DocHost.
 */
import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { MAPS } from '../../sync/doc/schema';
import type { Author, DocHost, HostedDoc, ResetListener, UpdateListener } from '../../server/sync/types';

const SERVER = 'server';

interface Slot {
  hosted: HostedDoc;
  listeners: Set<UpdateListener>;
  resets: Set<ResetListener>;
}

export class MemoryDocHost implements DocHost {
  private readonly slots = new Map<string, Slot>();

  async open(userId: string): Promise<HostedDoc> {
    return this.slot(userId).hosted;
  }

  async receive(userId: string, update: Uint8Array, author: Author): Promise<void> {
    const { hosted, listeners } = this.slot(userId);
    // As a real host: what is broadcast is what the document took, and nothing when it took nothing.
    const taken: Uint8Array[] = [];
    const capture = (u: Uint8Array, origin: unknown) => origin === author && taken.push(u);
    hosted.doc.on('update', capture);
    try {
      Y.applyUpdate(hosted.doc, update, author);
    } finally {
      hosted.doc.off('update', capture);
    }
    taken.forEach((u) => listeners.forEach((listener) => listener(u, author)));
  }

  subscribe(userId: string, listener: UpdateListener, onReset?: ResetListener): () => void {
    const { listeners, resets } = this.slot(userId);
    listeners.add(listener);
    if (onReset) {
      resets.add(onReset);
    }
    return () => {
      listeners.delete(listener);
      if (onReset) {
        resets.delete(onReset);
      }
    };
  }

  /** Replaces the document by an empty one under a new epoch. */
  async rebuild(userId: string): Promise<void> {
    const slot = this.slot(userId);
    slot.hosted.doc.destroy();
    slot.hosted = hostedDoc(userId, slot.listeners);
    [...slot.resets].forEach((reset) => reset(slot.hosted.epoch as string));
  }

  async close(): Promise<void> {
    this.slots.forEach((slot) => slot.hosted.doc.destroy());
    this.slots.clear();
  }

  private slot(userId: string): Slot {
    const existing = this.slots.get(userId);
    if (existing) {
      return existing;
    }
    const listeners = new Set<UpdateListener>();
    const slot = { hosted: hostedDoc(userId, listeners), listeners, resets: new Set<ResetListener>() };
    this.slots.set(userId, slot);
    return slot;
  }
}

function hostedDoc(userId: string, listeners: ReadonlySet<UpdateListener>): HostedDoc {
  const doc = new Y.Doc({ gc: true });
  const epoch = randomUUID();
  const hosted: HostedDoc = {
    userId,
    doc,
    epoch,
    async write(fn) {
      let captured: Uint8Array | null = null;
      const capture = (update: Uint8Array, origin: unknown) => {
        if (origin === SERVER) {
          captured = update;
        }
      };
      doc.on('update', capture);
      try {
        doc.transact(() => fn(doc), SERVER);
      } finally {
        doc.off('update', capture);
      }
      const update: Uint8Array | null = captured;
      if (update) {
        listeners.forEach((listener) => listener(update, 'server'));
      }
      return update;
    },
  };
  doc.transact(() => doc.getMap(MAPS.meta).set('epoch', epoch), SERVER);
  return hosted;
}

export interface ReceivedUpdate {
  userId: string;
  author: Author;
  update: Uint8Array;
}

/** Wraps a DocHost to record what reaches it: every client update, and how many subscriptions are live. */
export class RecordingDocHost implements DocHost {
  readonly received: ReceivedUpdate[] = [];
  private readonly live = new Map<string, number>();

  constructor(readonly inner: DocHost) {}

  open(userId: string): Promise<HostedDoc> {
    return this.inner.open(userId);
  }

  receive(userId: string, update: Uint8Array, author: Author): Promise<void> {
    this.received.push({ userId, author, update });
    return this.inner.receive(userId, update, author);
  }

  subscribe(userId: string, listener: UpdateListener, onReset?: ResetListener): () => void {
    const stop = this.inner.subscribe(userId, listener, onReset);
    this.live.set(userId, this.subscriptions(userId) + 1);
    let stopped = false;
    return () => {
      if (!stopped) {
        stopped = true;
        this.live.set(userId, this.subscriptions(userId) - 1);
        stop();
      }
    };
  }

  rebuild(userId: string): Promise<void> {
    return this.inner.rebuild(userId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  subscriptions(userId: string): number {
    return this.live.get(userId) ?? 0;
  }

  /** Writes into a person's document as the server (seeding threads). */
  async seed(userId: string, fn: (doc: Y.Doc) => void): Promise<void> {
    await (await this.open(userId)).write(fn);
  }
}
