/**
 * @module server/sync/host/changed-keys
 * What a client's update changed, as the host hands it to the edit policy.
 * It is read in the `afterTransaction` of the transaction that applied the
 * update (later, gc has purged overwritten values) by a collector the host
 * is given: by default the policy's own `collectChanges`.
 */
import type * as Y from 'yjs';

export interface CapturedChanges {
  /** Root map name → keys set or deleted. */
  changed: Map<string, Set<string>>;
  previous?: Map<string, Map<string, unknown>>;
  written?: Map<string, Map<string, unknown[]>>;
}

export type CollectChanges = (tr: Y.Transaction) => CapturedChanges;

/**
 * Adds a later transaction's changes (an observer wrote during the apply):
 * keys join, the earliest previous value stays, written values add up.
 */
export function mergeChanges(into: CapturedChanges, next: CapturedChanges): void {
  for (const [map, keys] of next.changed) {
    const set = into.changed.get(map) ?? new Set<string>();
    keys.forEach((k) => set.add(k));
    into.changed.set(map, set);
  }
  for (const [map, values] of next.previous ?? []) {
    const target = (into.previous ??= new Map()).get(map) ?? new Map<string, unknown>();
    values.forEach((v, k) => (target.has(k) ? undefined : target.set(k, v)));
    into.previous.set(map, target);
  }
  for (const [map, values] of next.written ?? []) {
    const target = (into.written ??= new Map()).get(map) ?? new Map<string, unknown[]>();
    values.forEach((v, k) => target.set(k, [...(target.get(k) ?? []), ...v]));
    into.written.set(map, target);
  }
}
