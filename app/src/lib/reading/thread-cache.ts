/**
 * @module app/lib/reading/thread-cache
 * The conversations a person opened, kept on this device so they can be
 * read again with the network off (a rep on a plane reopening yesterday's
 * thread). Used only when the server cannot be reached: online, the
 * server's answer is always what is shown, and a conversation it says is
 * gone (404, e.g. no longer shared) is dropped here too. At most
 * `MAX_CACHED_THREADS`, the least recently opened dropped first; log-out
 * deletes the database with the person's others (`personDatabases`).
 */
import type { ThreadDto } from '$sync/mail-api';

export const MAX_CACHED_THREADS = 200;

export interface CachedThread {
  thread: ThreadDto;
  /** Epoch ms of the server answer it holds. */
  savedAt: number;
}

export interface ThreadCache {
  get(threadId: string): Promise<CachedThread | undefined>;
  put(thread: ThreadDto, savedAt: number): Promise<void>;
  remove(threadId: string): Promise<void>;
}

export function readingDatabaseName(userId: string): string {
  return `shoal-reading-${userId}`;
}

/** The ids to drop so that at most `max` stay: the oldest saves first. */
export function overflow(saved: ReadonlyMap<string, number>, max: number): string[] {
  if (saved.size <= max) {
    return [];
  }
  return [...saved]
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, saved.size - max)
    .map(([id]) => id);
}

/** The same cache in memory: for tests, and where IndexedDB cannot open (private windows). */
export function memoryThreadCache(max = MAX_CACHED_THREADS): ThreadCache {
  const threads = new Map<string, CachedThread>();
  return {
    get: async (id) => threads.get(id),
    put: async (thread, savedAt) => {
      threads.set(thread.id, { thread, savedAt });
      const saved = new Map([...threads].map(([id, c]) => [id, c.savedAt]));
      for (const id of overflow(saved, max)) {
        threads.delete(id);
      }
    },
    remove: async (id) => {
      threads.delete(id);
    },
  };
}
