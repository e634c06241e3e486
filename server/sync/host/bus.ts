/**
 * @module server/sync/host/bus
 * How the processes that host documents talk: relayed document updates,
 * edits forwarded to a document's lease holder, acknowledgements, resets and
 * the projection's domain events. Alone, an in-process hub; with Redis,
 * pub/sub on one channel.
 *
 * Pub/sub is at-most-once (sync.md §5), so nothing here is the record:
 * every update is in Postgres before it is relayed, a replica that sees a gap
 * in `seq` (or learns that its connection dropped) reads the tail from
 * Postgres, and a forwarded edit counts only once its holder acknowledged it.
 */
import { Redis } from 'ioredis';
import type { AwarenessEntry } from '../transport/frames';
import type { SessionEvent } from '../transport/session-events';
import type { Author } from '../types';

export type UpdateOrigin = Author | 'server';

export type BusMessage =
  /** A persisted update of a document, from its writer, so the other processes relay it to their sockets. */
  | { kind: 'doc-update'; userId: string; epoch: string; seq: number; update: Uint8Array; origin: UpdateOrigin }
  /** A socket's edit for a document another process holds; `to` is that process. */
  | { kind: 'client-update'; to: string; requestId: string; userId: string; update: Uint8Array; author: Author }
  /** Asks the holder to rebuild a document. */
  | { kind: 'rebuild-request'; to: string; requestId: string; userId: string }
  /** The holder's answer to a request: ok once the edit is in Postgres (or the rebuild done). */
  | { kind: 'ack'; to: string; requestId: string; ok: boolean; reason?: string }
  /** A document was replaced (new epoch) or created: replicas reload it. */
  | { kind: 'reset'; userId: string; epoch: string; seq: number }
  /** Domain events for fan-out; the projection defines the payload. Every process, the sender included, receives them. */
  | { kind: 'changes'; payload: unknown }
  /** Sessions that ended, so every process closes their sync sockets (server/sync/transport). */
  | { kind: 'session'; event: SessionEvent }
  /** Stamped presence of an organization's sockets on the sending process (server/sync/transport). */
  | { kind: 'presence'; orgId: string; entries: AwarenessEntry[] };

export type BusKind = BusMessage['kind'];

/** A message as received: who sent it. */
export type BusEnvelope = BusMessage & { from: string };

export type BusHandler = (message: BusEnvelope) => void;

export interface Bus {
  /** This process, as messages name it in `from` and `to`. */
  readonly processId: string;
  publish(message: BusMessage): Promise<void>;
  subscribe(handler: BusHandler): () => void;
  /** Called after the connection came back: messages may have been lost meanwhile. */
  onReconnect(handler: () => void): () => void;
  close(): Promise<void>;
}

/** Publishes domain events to every process (this one included). */
export function publishChanges(bus: Bus, payload: unknown): Promise<void> {
  return bus.publish({ kind: 'changes', payload });
}

/** Receives the domain events of every process. @returns unsubscribe. */
export function subscribeChanges(bus: Bus, handler: (payload: unknown, from: string) => void): () => void {
  return bus.subscribe((m) => {
    if (m.kind === 'changes') {
      handler(m.payload, m.from);
    }
  });
}

class HandlerSet<T extends unknown[]> {
  private readonly handlers = new Set<(...args: T) => void>();

  add(handler: (...args: T) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Calls every handler; one that throws does not stop the others. */
  call(onError: (error: unknown) => void, ...args: T): void {
    for (const handler of [...this.handlers]) {
      try {
        handler(...args);
      } catch (error) {
        onError(error);
      }
    }
  }

  clear(): void {
    this.handlers.clear();
  }
}

const logToStderr = (error: unknown) => console.error('[sync bus] handler failed', error);

/** Processes in one Node process sharing a bus (the single-process case, and multi-process tests without Redis). */
export interface LocalHub {
  connect(processId: string): Bus;
}

export function createLocalHub(): LocalHub {
  const members = new Set<HandlerSet<[BusEnvelope]>>();
  let pending: BusEnvelope[] = [];
  // One turn delivers everything published before it: a fan-out publishes one message per document.
  const deliver = () => {
    const batch = pending;
    pending = [];
    for (const envelope of batch) {
      for (const member of members) {
        member.call(logToStderr, envelope);
      }
    }
  };
  return {
    connect(processId) {
      const handlers = new HandlerSet<[BusEnvelope]>();
      members.add(handlers);
      return {
        processId,
        async publish(message) {
          // Delivered later, in order, as over a network: a publisher is never re-entered.
          if (pending.push({ ...message, from: processId } as BusEnvelope) === 1) {
            setImmediate(deliver);
          }
        },
        subscribe: (handler) => handlers.add(handler),
        onReconnect: () => () => {},
        async close() {
          members.delete(handlers);
          handlers.clear();
        },
      };
    },
  };
}

export function createLocalBus(processId: string): Bus {
  return createLocalHub().connect(processId);
}

const BYTES = '$b64';

/** JSON with byte arrays as base64, so updates survive a text channel. */
export function encodeBusMessage(envelope: BusEnvelope): string {
  return JSON.stringify(envelope, (_key, value: unknown) =>
    value instanceof Uint8Array ? { [BYTES]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') } : value,
  );
}

/** @returns the message, or null when it is not one of ours. */
export function decodeBusMessage(text: string): BusEnvelope | null {
  try {
    const value: unknown = JSON.parse(text, (_key, v: unknown) =>
      v !== null && typeof v === 'object' && typeof (v as Record<string, unknown>)[BYTES] === 'string'
        ? new Uint8Array(Buffer.from((v as Record<string, string>)[BYTES] as string, 'base64'))
        : v,
    );
    const m = value as Partial<BusEnvelope> | null;
    return m && typeof m.kind === 'string' && typeof m.from === 'string' ? (m as BusEnvelope) : null;
  } catch {
    return null;
  }
}

export interface RedisBusOptions {
  url: string;
  processId: string;
  /** The pub/sub channel; tests use their own so parallel runs never cross. */
  channel?: string;
  onError?: (error: unknown) => void;
}

export const DEFAULT_BUS_CHANNEL = 'shoal:sync:bus';

/** A bus over Redis pub/sub: one connection publishes, one subscribes (a subscribed connection can do nothing else). */
export async function createRedisBus(options: RedisBusOptions): Promise<Bus> {
  const channel = options.channel ?? DEFAULT_BUS_CHANNEL;
  const onError = options.onError ?? logToStderr;
  // Named, so an operator (or a test) can tell the connections of each process apart in CLIENT LIST.
  const pub = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 2, commandTimeout: 2_000, connectionName: `shoal-bus-pub-${options.processId}` });
  const sub = new Redis(options.url, { lazyConnect: true, connectionName: `shoal-bus-sub-${options.processId}` });
  pub.on('error', onError);
  sub.on('error', onError);
  const handlers = new HandlerSet<[BusEnvelope]>();
  const reconnects = new HandlerSet<[]>();
  sub.on('message', (name: string, text: string) => {
    const envelope = name === channel ? decodeBusMessage(text) : null;
    if (envelope) {
      handlers.call(onError, envelope);
    }
  });
  let ready = false;
  sub.on('ready', () => {
    // ioredis subscribes again on its own; whatever was published meanwhile is gone.
    if (ready) {
      reconnects.call(onError);
    }
    ready = true;
  });
  await Promise.all([pub.connect(), sub.connect()]);
  await sub.subscribe(channel);
  return {
    processId: options.processId,
    async publish(message) {
      await pub.publish(channel, encodeBusMessage({ ...message, from: options.processId } as BusEnvelope));
    },
    subscribe: (handler) => handlers.add(handler),
    onReconnect: (handler) => reconnects.add(handler),
    async close() {
      handlers.clear();
      reconnects.clear();
      sub.disconnect();
      pub.disconnect();
    },
  };
}
