/**
 * @module server/sync/projection/refs
 * The refs a write gives records and people (sync/doc/thread-codec.ts): an
 * entity that stays keeps its number; a newcomer takes the lowest number no
 * entity that stays holds and no stored thread still names, so a thread the
 * write leaves alone can never come to name someone else.
 */
import type * as Y from 'yjs';
import { MAPS, type MapName } from '../../../sync/doc/schema';
import { heldRefs } from '../../../sync/doc/thread-codec';

/** Every ref some stored thread names in `field` (`o` people, `r` records). */
function refsInThreads(doc: Y.Doc, field: 'o' | 'r'): Set<number> {
  const out = new Set<number>();
  for (const value of doc.getMap<unknown>(MAPS.threads).values()) {
    const refs = (value as Partial<Record<'o' | 'r', unknown>> | null)?.[field];
    if (Array.isArray(refs)) {
      refs.forEach((ref) => typeof ref === 'number' && out.add(ref));
    }
  }
  return out;
}

/**
 * Refs for the entities of `map` after a write that leaves `after` in it.
 * @param after every id the map holds once the write is done, kept and new.
 * @param entries the map's entries to take held refs from (default: the document's).
 */
export function refsAfter(
  doc: Y.Doc,
  map: Extract<MapName, 'records' | 'people'>,
  after: Iterable<string>,
  entries: Pick<Y.Map<unknown>, 'keys' | 'get'> = doc.getMap<unknown>(map),
): Map<string, number> {
  const held = heldRefs(entries);
  const ids = [...new Set(after)];
  const kept = new Map(ids.flatMap((id) => {
    const ref = held.get(id);
    return ref === undefined ? [] : [[id, ref] as const];
  }));
  const taken = new Set([...kept.values(), ...refsInThreads(doc, map === MAPS.records ? 'r' : 'o')]);
  const out = new Map(kept);
  let next = 1;
  for (const id of ids.filter((i) => !kept.has(i)).sort()) {
    while (taken.has(next)) {
      next++;
    }
    out.set(id, next);
    taken.add(next);
  }
  return out;
}
