/**
 * @module sync/client/watch
 * Change subscriptions over a person's document that redo only what a
 * transaction touched: an edit to one thread's status re-reads that thread
 * and moves it in the sorted list, instead of re-reading 5,000 threads.
 * Untouched threads keep their object identity, so keyed UI lists skip them.
 */
import type * as Y from 'yjs';
import { MAPS, parseFieldKey } from '../doc/schema';
import { changedKeys, compareThreads, readEntries, readThread, refLookup, type MapKey, type MapValues, type ThreadView } from './read';

export interface ThreadsChange {
  /** Every thread, newest activity first; a new array on every change. */
  threads: readonly ThreadView[];
  /** Threads added, changed or removed by this change (every thread on the first call). */
  changed: ReadonlySet<string>;
}
export type ThreadsListener = (change: ThreadsChange) => void;

// Past this many touched threads one sort is cheaper than moving each.
const REBUILD_THRESHOLD = 64;

/** First index whose thread sorts after `thread`. */
function upperBound(list: readonly ThreadView[], thread: ThreadView): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareThreads(list[mid] as ThreadView, thread) <= 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/** The thread ids a transaction touched through the threads or fields map. */
export function touchedThreadIds(doc: Y.Doc, transaction: Y.Transaction): Set<string> {
  const ids = new Set<string>();
  for (const key of changedKeys(transaction, doc.getMap(MAPS.threads))) {
    ids.add(key);
  }
  for (const key of changedKeys(transaction, doc.getMap(MAPS.fields))) {
    const parsed = parseFieldKey(key);
    if (parsed !== null) {
      ids.add(parsed.threadId);
    }
  }
  return ids;
}

/** The sorted thread list of a document, kept current one touched thread at a time. */
export class ThreadIndex {
  readonly #doc: Y.Doc;
  #byId = new Map<string, ThreadView>();
  #sorted: ThreadView[] = [];

  constructor(doc: Y.Doc) {
    this.#doc = doc;
    this.rebuild();
  }

  get threads(): readonly ThreadView[] {
    return this.#sorted;
  }

  get(threadId: string): ThreadView | undefined {
    return this.#byId.get(threadId);
  }

  /** Re-reads every thread. @returns every id that was or is in the list. */
  rebuild(): Set<string> {
    const ids = new Set([...this.#byId.keys(), ...this.#doc.getMap(MAPS.threads).keys()]);
    this.#byId = new Map();
    const lookup = refLookup(this.#doc);
    for (const id of this.#doc.getMap(MAPS.threads).keys()) {
      const thread = readThread(this.#doc, id, lookup);
      if (thread !== null) {
        this.#byId.set(id, thread);
      }
    }
    this.#sorted = [...this.#byId.values()].sort(compareThreads);
    return ids;
  }

  /** Re-reads the given threads and moves each to its place; a new list array results. */
  update(ids: ReadonlySet<string>): void {
    if (ids.size > REBUILD_THRESHOLD) {
      this.rebuild();
      return;
    }
    const next = this.#sorted.slice();
    const lookup = refLookup(this.#doc);
    for (const id of ids) {
      const old = this.#byId.get(id);
      if (old !== undefined) {
        // The old object is in the list; its sort key finds it.
        next.splice(upperBound(next, old) - 1, 1);
        this.#byId.delete(id);
      }
      const fresh = readThread(this.#doc, id, lookup);
      if (fresh !== null) {
        this.#byId.set(id, fresh);
        next.splice(upperBound(next, fresh), 0, fresh);
      }
    }
    this.#sorted = next;
  }
}

/**
 * Calls `listener` with the sorted threads now and after every transaction
 * that touches a thread or one of its fields.
 * @returns a function that stops watching.
 */
export function watchThreads(doc: Y.Doc, listener: ThreadsListener): () => void {
  const index = new ThreadIndex(doc);
  const onTransaction = (transaction: Y.Transaction): void => {
    const ids = touchedThreadIds(doc, transaction);
    if (ids.size === 0) {
      return;
    }
    index.update(ids);
    listener({ threads: index.threads, changed: ids });
  };
  doc.on('afterTransaction', onTransaction);
  listener({ threads: index.threads, changed: new Set(index.threads.map((t) => t.id)) });
  return () => doc.off('afterTransaction', onTransaction);
}

/**
 * Calls `listener` with a snapshot of a root map now and after every
 * transaction that changes it, with the keys that changed.
 * @returns a function that stops watching.
 */
export function watchEntries<N extends MapKey>(
  doc: Y.Doc,
  name: N,
  listener: (entries: ReadonlyMap<string, MapValues[N]>, changed: ReadonlySet<string>) => void,
): () => void {
  const map = doc.getMap<unknown>(MAPS[name]);
  const onTransaction = (transaction: Y.Transaction): void => {
    const keys = changedKeys(transaction, map);
    if (keys.length === 0) {
      return;
    }
    listener(readEntries(doc, name), new Set(keys));
  };
  doc.on('afterTransaction', onTransaction);
  const initial = readEntries(doc, name);
  listener(initial, new Set(initial.keys()));
  return () => doc.off('afterTransaction', onTransaction);
}
