/**
 * @module sync/client/epoch
 * Seeing an epoch change before it does harm. When the server rebuilds a
 * person's document it starts a fresh Y.Doc, so the new `meta.epoch` is an
 * item concurrent with the old one: merged into the device's old copy, Yjs
 * keeps whichever has the higher client id, and the change may not even show.
 * Worse, the old copy would then upload its stale history into the new
 * document. So incoming updates are inspected before they are applied, and a
 * new epoch makes the device drop its copy instead.
 */
import * as Y from 'yjs';
import { MAPS } from '../doc/schema';

const EPOCH_KEY = 'epoch';
// A map key's items chain through `origin`; a document never has many writes of its epoch.
const MAX_HOPS = 64;

function idKey(id: Y.ID): string {
  return `${id.client}:${id.clock}`;
}

/** The root map and key an item of the update belongs to, following earlier items of the same key. */
function placeOf(item: Y.Item, byId: ReadonlyMap<string, Y.Item>): { parent: string; key: string } | null {
  let current: Y.Item | undefined = item;
  for (let hops = 0; current !== undefined && hops < MAX_HOPS; hops++) {
    // Decoded items carry their parent as the root type's name only when they have no origin.
    const parent = current.parent as unknown;
    if (typeof parent === 'string') {
      return current.parentSub === null ? null : { parent, key: current.parentSub };
    }
    current = current.origin === null ? undefined : byId.get(idKey(current.origin));
  }
  return null;
}

/**
 * `meta`'s name as a V1 update writes it (length, then UTF-8) for an item
 * whose parent is that root map. An item of `meta` names its parent itself
 * or follows, through its origins, one that does: so an update without these
 * bytes sets no epoch, and most updates are answered without decoding them
 * (decoding a 1,000-edit batch took about 10 ms).
 */
const META_PARENT = Uint8Array.of(MAPS.meta.length, ...new TextEncoder().encode(MAPS.meta));

function mentionsMeta(update: Uint8Array): boolean {
  const first = META_PARENT[0] as number;
  for (let at = update.indexOf(first); at !== -1 && at + META_PARENT.length <= update.length; at = update.indexOf(first, at + 1)) {
    if (META_PARENT.every((byte, i) => update[at + i] === byte)) {
      return true;
    }
  }
  return false;
}

/**
 * The epoch an update sets in `meta`, or null when it sets none (the usual
 * case: the epoch is written once per document, when it is built).
 */
export function epochIn(update: Uint8Array): string | null {
  if (!mentionsMeta(update)) {
    return null;
  }
  const { structs, ds } = Y.decodeUpdate(update);
  const byId = new Map<string, Y.Item>();
  for (const struct of structs) {
    if (struct instanceof Y.Item) {
      byId.set(idKey(struct.id), struct);
    }
  }
  let epoch: string | null = null;
  for (const struct of structs) {
    if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentAny) || Y.isDeleted(ds, struct.id)) {
      continue;
    }
    const place = placeOf(struct, byId);
    const value: unknown = struct.content.getContent()[0];
    if (place?.parent === MAPS.meta && place.key === EPOCH_KEY && typeof value === 'string') {
      epoch = value;
    }
  }
  return epoch;
}

/** Whether an incoming update belongs to another epoch than the device's copy (unknown local epoch: never). */
export function isForeignEpoch(update: Uint8Array, localEpoch: string | null): boolean {
  if (localEpoch === null) {
    return false;
  }
  const incoming = epochIn(update);
  return incoming !== null && incoming !== localEpoch;
}

/**
 * Makes every root map a Y.Map before any update arrives. A root type that an
 * update creates first is a generic one, replaced by a new Y.Map object on
 * the first `getMap`, which breaks lookups by identity in `transaction.changed`.
 */
export function defineMaps(doc: Y.Doc): void {
  for (const name of Object.values(MAPS)) {
    doc.getMap(name);
  }
}
