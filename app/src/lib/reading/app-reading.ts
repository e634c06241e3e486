/**
 * @module app/lib/reading/app-reading
 * The tab's reading cache for the signed-in person, opened on first use.
 * Where IndexedDB cannot open (a private window), an in-memory cache keeps
 * this visit's conversations instead.
 */
import { openThreadCache } from './idb-thread-cache';
import { memoryThreadCache, type ThreadCache } from './thread-cache';

let current: { userId: string; cache: Promise<ThreadCache> } | null = null;

export function readingCache(userId: string): Promise<ThreadCache> {
  if (current?.userId !== userId) {
    const cache = typeof indexedDB === 'undefined' ? Promise.resolve(memoryThreadCache()) : openThreadCache(userId).catch(() => memoryThreadCache());
    current = { userId, cache };
  }
  return current.cache;
}

/** Log-out: forget the open cache (its database is deleted with the person's others). */
export async function closeReadingCache(): Promise<void> {
  const opened = current;
  current = null;
  const cache = await opened?.cache.catch(() => null);
  if (cache && 'close' in cache && typeof cache.close === 'function') {
    (cache as { close(): void }).close();
  }
}

/** Whether a failed request means the server was out of reach (so an offline copy may stand in). */
export function unreachable(status: number): boolean {
  return status === 0 || status === 502 || status === 503 || status === 504;
}
