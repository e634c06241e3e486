/**
 * @module app/lib/outbox/idb-storage
 * Drafts and the outbox in IndexedDB, one database per person
 * (`shoal-compose-<userId>`), apart from the synced document: they are the
 * device's own, never the server's, and log-out deletes the database.
 */
import * as idb from 'lib0/indexeddb';
import type { ComposeStorage } from './storage';
import type { Draft, OutboxEntry } from './types';

const DRAFTS = 'drafts';
const OUTBOX = 'outbox';
const META = 'meta';

export function composeDatabaseName(userId: string): string {
  return `shoal-compose-${userId}`;
}

/** Resolves when the transaction committed (a write is durable only then). */
function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** Opens (creating if needed) the person's compose database. Browser only. */
export async function openComposeStorage(userId: string): Promise<ComposeStorage> {
  const db = await idb.openDB(composeDatabaseName(userId), (created) => idb.createStores(created, [[DRAFTS], [OUTBOX], [META]]));
  const store = (name: string, access: 'readonly' | 'readwrite' = 'readwrite'): IDBObjectStore => idb.transact(db, [name], access)[0] as IDBObjectStore;
  // lib0's typed helpers only take primitive values; objects go through the raw requests.
  const read = async <T>(request: IDBRequest): Promise<T> => (await idb.rtop(request)) as T;
  async function write(name: string, change: (s: IDBObjectStore) => void): Promise<void> {
    const s = store(name);
    change(s);
    await committed(s.transaction);
  }
  /** One transaction over drafts and outbox: both changes land or neither. */
  async function both(change: (drafts: IDBObjectStore, outbox: IDBObjectStore) => void): Promise<void> {
    const [drafts, outbox] = idb.transact(db, [DRAFTS, OUTBOX], 'readwrite') as [IDBObjectStore, IDBObjectStore];
    change(drafts, outbox);
    await committed(drafts.transaction);
  }
  return {
    getDraft: (key) => read<Draft | undefined>(store(DRAFTS, 'readonly').get(key)),
    listDrafts: () => read<Draft[]>(store(DRAFTS, 'readonly').getAll()),
    putDraft: (draft) => write(DRAFTS, (s) => s.put(draft, draft.key)),
    deleteDraft: (key) => write(DRAFTS, (s) => s.delete(key)),
    getEntry: (id) => read<OutboxEntry | undefined>(store(OUTBOX, 'readonly').get(id)),
    listEntries: () => read<OutboxEntry[]>(store(OUTBOX, 'readonly').getAll()),
    putEntry: (entry) => write(OUTBOX, (s) => s.put(entry, entry.id)),
    deleteEntry: (id) => write(OUTBOX, (s) => s.delete(id)),
    queue: (entry) =>
      both((drafts, outbox) => {
        outbox.put(entry, entry.id);
        drafts.delete(entry.draft.key);
      }),
    reopen: (entry, draft) =>
      both((drafts, outbox) => {
        drafts.put(draft, draft.key);
        outbox.delete(entry.id);
      }),
    getMeta: <T>(key: string) => read<T | undefined>(store(META, 'readonly').get(key)),
    putMeta: (key, value) => write(META, (s) => s.put(value, key)),
    close: () => db.close(),
  };
}
