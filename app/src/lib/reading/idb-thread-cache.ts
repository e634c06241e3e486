/**
 * @module app/lib/reading/idb-thread-cache
 * `ThreadCache` in IndexedDB (`shoal-reading-<userId>`): the conversations
 * in one store, their save times in a small one, so trimming reads only
 * the times. Browser only.
 */
import * as idb from 'lib0/indexeddb';
import { MAX_CACHED_THREADS, overflow, readingDatabaseName, type CachedThread, type ThreadCache } from './thread-cache';

const THREADS = 'threads';
const SAVED = 'saved';

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** Opens (creating if needed) the person's reading cache. */
export async function openThreadCache(userId: string, max = MAX_CACHED_THREADS): Promise<ThreadCache & { close(): void }> {
  const db = await idb.openDB(readingDatabaseName(userId), (created) => idb.createStores(created, [[THREADS], [SAVED]]));
  const both = () => idb.transact(db, [THREADS, SAVED], 'readwrite') as [IDBObjectStore, IDBObjectStore];

  async function trim(): Promise<void> {
    const saved = idb.transact(db, [SAVED], 'readonly')[0] as IDBObjectStore;
    const [keys, times] = await Promise.all([idb.rtop(saved.getAllKeys()), idb.rtop(saved.getAll())]);
    const map = new Map((keys as string[]).map((key, i) => [key, (times as number[])[i] ?? 0]));
    const drop = overflow(map, max);
    if (drop.length === 0) {
      return;
    }
    const [threads, times2] = both();
    for (const id of drop) {
      threads.delete(id);
      times2.delete(id);
    }
    await committed(threads.transaction);
  }

  return {
    get: async (id) => (await idb.rtop((idb.transact(db, [THREADS], 'readonly')[0] as IDBObjectStore).get(id))) as CachedThread | undefined,
    put: async (thread, savedAt) => {
      const [threads, saved] = both();
      threads.put({ thread, savedAt } satisfies CachedThread, thread.id);
      saved.put(savedAt, thread.id);
      await committed(threads.transaction);
      await trim();
    },
    remove: async (id) => {
      const [threads, saved] = both();
      threads.delete(id);
      saved.delete(id);
      await committed(threads.transaction);
    },
    close: () => db.close(),
  };
}
