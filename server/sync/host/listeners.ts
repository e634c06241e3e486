/**
 * @module server/sync/host/listeners
 * Who hears a person's document: update listeners (sockets) and reset
 * listeners, kept by person rather than by loaded document, so they survive
 * a document being dropped, reloaded or taken over.
 */
import type { Logger } from 'pino';
import type { ResetListener, UpdateListener } from '../types';
import type { UpdateOrigin } from './bus';

export class Listeners {
  private readonly updates = new Map<string, Set<UpdateListener>>();
  private readonly resets = new Map<string, Set<ResetListener>>();

  constructor(private readonly log: Logger) {}

  /** @returns unsubscribe. */
  add(userId: string, listener: UpdateListener, onReset?: ResetListener): () => void {
    const removeUpdate = addTo(this.updates, userId, listener);
    const removeReset = onReset ? addTo(this.resets, userId, onReset) : () => {};
    return () => {
      removeUpdate();
      removeReset();
    };
  }

  userIds(): string[] {
    return [...new Set([...this.updates.keys(), ...this.resets.keys()])];
  }

  has(userId: string): boolean {
    return this.updates.has(userId) || this.resets.has(userId);
  }

  /** Calls each listener; one that throws does not stop the others. */
  notify(userId: string, update: Uint8Array, origin: UpdateOrigin): void {
    for (const listener of [...(this.updates.get(userId) ?? [])]) {
      try {
        listener(update, origin);
      } catch (error) {
        this.log.error({ err: error, userId }, 'sync update listener failed');
      }
    }
  }

  notifyReset(userId: string, epoch: string): void {
    for (const listener of [...(this.resets.get(userId) ?? [])]) {
      try {
        listener(epoch);
      } catch (error) {
        this.log.error({ err: error, userId }, 'sync reset listener failed');
      }
    }
  }
}

function addTo<T>(map: Map<string, Set<T>>, key: string, value: T): () => void {
  const set = map.get(key) ?? new Set<T>();
  set.add(value);
  map.set(key, set);
  return () => {
    set.delete(value);
    if (set.size === 0 && map.get(key) === set) {
      map.delete(key);
    }
  };
}
