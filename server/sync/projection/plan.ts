/**
 * @module server/sync/projection/plan
 * The cap on a scoped refresh: a refresh of some threads reads only those
 * threads, so it decides the new working set from what the document holds
 * (the newest `cap` threads, an invariant every write keeps) plus what it
 * read. Pure, so the ordering rule is tested apart from the database.
 */
import type { ThreadSummary } from '../../../sync/doc/schema';

export interface ThreadPlan {
  /** Scope threads to write (in the working set afterwards). */
  upsert: Map<string, ThreadSummary>;
  /** Threads to delete: scope threads that left, and the oldest ones pushed out by the cap. */
  remove: Set<string>;
  /** The thread summaries of the working set afterwards. */
  next: Map<string, ThreadSummary>;
  /**
   * The document was full and the scope removed threads: threads beyond the
   * cap may now belong, and only a full reload can find them.
   */
  needsFull: boolean;
}

/** Newest activity first, then id descending: the order of the working-set query. */
export function compareNewestFirst(a: readonly [string, ThreadSummary], b: readonly [string, ThreadSummary]): number {
  if (a[1].lastMessageAt !== b[1].lastMessageAt) {
    return a[1].lastMessageAt < b[1].lastMessageAt ? 1 : -1;
  }
  return a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0;
}

/**
 * @param current what the document holds now.
 * @param scope the threads that were re-read.
 * @param found the scope threads that belong to the working set (visible and candidates), by id.
 */
export function planThreadScope(
  current: ReadonlyMap<string, ThreadSummary>,
  scope: ReadonlySet<string>,
  found: ReadonlyMap<string, ThreadSummary>,
  cap: number,
): ThreadPlan {
  const merged = new Map<string, ThreadSummary>();
  for (const [id, doc] of current) {
    if (!scope.has(id)) {
      merged.set(id, doc);
    }
  }
  for (const [id, doc] of found) {
    merged.set(id, doc);
  }
  const ordered = [...merged].sort(compareNewestFirst);
  const next = new Map(ordered.slice(0, cap));
  const remove = new Set<string>();
  for (const id of scope) {
    if (!next.has(id) && current.has(id)) {
      remove.add(id);
    }
  }
  for (const [id] of ordered.slice(cap)) {
    if (current.has(id)) {
      remove.add(id);
    }
  }
  const upsert = new Map([...found].filter(([id]) => next.has(id)));
  return { upsert, remove, next, needsFull: current.size >= cap && next.size < cap };
}
