/**
 * @module sync/doc/projection
 * Writes what a person may see into their document as a diff: a key is set
 * only when its value changed and deleted when it left the desired content,
 * so a rebuild of an unchanged projection adds nothing to the document and a
 * lost thread is purged by gc. Pure: the server builds the desired content,
 * this module only compares and writes.
 */
import * as Y from 'yjs';
import { sameJson } from './json';
import { fieldKey, isStamped, MAPS, parseFieldKey, THREAD_FIELDS, type MapName } from './schema';

/**
 * Whether a key's current value must stay although the desired content says
 * otherwise (`next` undefined: it would be deleted).
 */
export type KeepCurrent = (key: string, current: unknown, next: unknown) => boolean;

const keepNothing: KeepCurrent = () => false;

/** The root map of one part of the document. */
export function docMap(doc: Y.Doc, name: MapName): Y.Map<unknown> {
  return doc.getMap<unknown>(name);
}

/**
 * Sets or deletes (value `undefined`) the given keys where they differ.
 * @returns how many keys changed. Call inside a transaction.
 */
export function writeEntries(doc: Y.Doc, name: MapName, entries: Iterable<readonly [string, unknown]>, keep: KeepCurrent = keepNothing): number {
  const map = docMap(doc, name);
  let changed = 0;
  for (const [key, value] of entries) {
    if (map.has(key) && keep(key, map.get(key), value)) {
      continue;
    }
    if (value === undefined) {
      if (map.has(key)) {
        map.delete(key);
        changed += 1;
      }
      continue;
    }
    if (!map.has(key) || !sameJson(map.get(key), value)) {
      map.set(key, value);
      changed += 1;
    }
  }
  return changed;
}

/**
 * Makes the keys of `name` that `inScope` selects equal `desired`: changed
 * ones set, missing ones added, the rest of the scope deleted.
 * @returns how many keys changed.
 */
export function reconcileMap(
  doc: Y.Doc,
  name: MapName,
  desired: ReadonlyMap<string, unknown>,
  inScope: (key: string) => boolean = () => true,
  keep: KeepCurrent = keepNothing,
): number {
  const map = docMap(doc, name);
  const stale = [...map.keys()].filter((key) => inScope(key) && !desired.has(key));
  return writeEntries(doc, name, [...desired.entries(), ...stale.map((key) => [key, undefined] as const)], keep);
}

/**
 * Last writer wins, in the document too: a stamped value newer than the one
 * read from Postgres stays. Canonical stamps only grow, so the newer one is
 * either committed after the read began (an edit decided meanwhile: writing
 * the read value would briefly undo an acknowledged edit) or a person's
 * undecided write, which the edit policy decides and corrects itself.
 */
export const keepNewerStamp: KeepCurrent = (_key, current, next) => isStamped(current) && isStamped(next) && current.hlc > next.hlc;

/**
 * `keepNewerStamp` for `fields`, which also keeps a stamped value of a thread
 * the document still holds when Postgres had no row yet (a first edit
 * decided meanwhile); a thread that left the document loses all its fields.
 */
export function keepNewerField(doc: Y.Doc): KeepCurrent {
  const threads = docMap(doc, MAPS.threads);
  return (key, current, next) => {
    if (next !== undefined) {
      return keepNewerStamp(key, current, next);
    }
    const parsed = parseFieldKey(key);
    return isStamped(current) && parsed !== null && threads.has(parsed.threadId);
  };
}

/** Every `fields` key of a thread. */
export function fieldKeysOf(threadId: string): string[] {
  return THREAD_FIELDS.map((f) => fieldKey(threadId, f));
}

/** A scope selecting the `fields` keys of some threads. */
export function fieldScope(threadIds: ReadonlySet<string>): (key: string) => boolean {
  return (key) => {
    const parsed = parseFieldKey(key);
    return parsed !== null && threadIds.has(parsed.threadId);
  };
}

/** Removes a thread and its fields from the document (visibility lost). @returns keys removed. */
export function removeThreads(doc: Y.Doc, threadIds: Iterable<string>): number {
  let changed = 0;
  for (const id of threadIds) {
    changed += writeEntries(doc, MAPS.threads, [[id, undefined]]);
    changed += writeEntries(doc, MAPS.fields, fieldKeysOf(id).map((k) => [k, undefined] as const));
  }
  return changed;
}
