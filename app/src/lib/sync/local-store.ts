/**
 * @module app/lib/sync/local-store
 * What the device keeps beside the document, in its own IndexedDB database
 * per person (`shoal-sync-<userId>`), so that dropping the document on an
 * epoch change never drops them: the device's HLC node id, the epoch of the
 * stored document, and the outbox of writes the server has not answered.
 * Entries are stored one per key, so two tabs recording different keys
 * never overwrite each other's.
 */
import * as idb from 'lib0/indexeddb';
import type { OutboxEntry } from '$sync/client/outbox';
import { readingDatabaseName } from '../reading/thread-cache';

export interface LocalMeta {
  node: string | null;
  epoch: string | null;
  /** Whether `navigator.storage.persist()` was asked already (it is asked once). */
  persistAsked: boolean;
}

export interface LocalStore {
  loadMeta(): Promise<LocalMeta>;
  saveMeta(patch: Partial<LocalMeta>): Promise<void>;
  loadEntries(): Promise<OutboxEntry[]>;
  putEntry(entry: OutboxEntry): Promise<void>;
  /** Deletes the stored entry of the key only if it is this one (a newer one from another tab stays). */
  deleteEntry(entry: OutboxEntry): Promise<void>;
  close(): void;
}

const ENTRIES = 'entries';
const META = 'meta';
const META_KEY = 'device';

export function localStoreName(userId: string): string {
  return `shoal-sync-${userId}`;
}

/** The IndexedDB database name of a person's document of one epoch. */
export function documentName(userId: string, epoch: string): string {
  return `shoal-doc-${userId}-${epoch}`;
}

function slot(entry: Pick<OutboxEntry, 'map' | 'key'>): string {
  return `${entry.map}|${entry.key}`;
}

const EMPTY_META: LocalMeta = { node: null, epoch: null, persistAsked: false };

/** Opens (creating if needed) the person's local store. Browser only. */
export async function openLocalStore(userId: string): Promise<LocalStore> {
  const db = await idb.openDB(localStoreName(userId), (created) => idb.createStores(created, [[ENTRIES], [META]]));
  const store = (name: string, access: 'readonly' | 'readwrite' = 'readwrite'): IDBObjectStore => idb.transact(db, [name], access)[0] as IDBObjectStore;
  // lib0's typed helpers only take primitive values; objects go through the raw requests.
  const read = async <T>(request: IDBRequest): Promise<T> => (await idb.rtop(request)) as T;
  const loadMeta = async (): Promise<LocalMeta> => ({ ...EMPTY_META, ...(await read<Partial<LocalMeta> | undefined>(store(META, 'readonly').get(META_KEY))) });
  return {
    loadMeta,
    async saveMeta(patch) {
      const next = { ...(await loadMeta()), ...patch };
      await idb.rtop(store(META).put(next, META_KEY));
    },
    async loadEntries() {
      return read<OutboxEntry[]>(store(ENTRIES, 'readonly').getAll());
    },
    async putEntry(entry) {
      await idb.rtop(store(ENTRIES).put(entry, slot(entry)));
    },
    async deleteEntry(entry) {
      const entries = store(ENTRIES);
      const stored = await read<OutboxEntry | undefined>(entries.get(slot(entry)));
      if (stored !== undefined && stored.hlc === entry.hlc) {
        await idb.rtop(entries.delete(slot(entry)));
      }
    },
    close() {
      db.close();
    },
  };
}

/**
 * Deletes a database, giving up after `timeoutMs` when another tab keeps it
 * open (the browser then deletes it once that tab closes it).
 */
export async function deleteDatabase(name: string, timeoutMs = 3000): Promise<void> {
  await Promise.race([idb.deleteDB(name), new Promise<void>((resolve) => setTimeout(resolve, timeoutMs))]);
}

/** Every database of a person: the local store and the documents of all epochs. */
export async function personDatabases(userId: string, currentEpoch: string | null): Promise<string[]> {
  // The conversations saved for reading offline go with the rest (app/lib/reading).
  const names = new Set([localStoreName(userId), readingDatabaseName(userId)]);
  if (currentEpoch !== null) {
    names.add(documentName(userId, currentEpoch));
  }
  // Not every browser lists databases; the known names are deleted either way.
  const listed = typeof indexedDB.databases === 'function' ? await indexedDB.databases() : [];
  for (const { name } of listed) {
    if (name !== undefined && name.startsWith(`shoal-doc-${userId}-`)) {
      names.add(name);
    }
  }
  return [...names];
}
