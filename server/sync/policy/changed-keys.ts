/**
 * @module server/sync/policy/changed-keys
 * What a client's update did to a person's document, read while the update
 * is applied (`afterTransaction`, before gc purges overwritten content):
 *
 * - `changed`: root map → keys, the `changed` argument of `EditPolicy.review`;
 *   a change inside a nested type (never written by Shoal, so forged) counts
 *   as a change of the root key that holds it.
 * - `previous`: the value each changed key of a server map held before, so
 *   a forged key can be put back without a canonical source. Not kept for
 *   the editable maps: Postgres holds their values and decides them, and
 *   1,000 offline edits would otherwise journal 1,000 values nobody reads.
 * - `written`: every value the update wrote per key, the last of each writing
 *   client. Concurrent sets of one key are ordered by Yjs by random client id,
 *   so the visible value is not necessarily the latest edit: every written
 *   value goes to Postgres, where the HLC decides.
 */
import * as Y from 'yjs';
import { EDITABLE_MAPS } from '../../../sync/doc/schema';

export interface ChangeSet {
  changed: Map<string, Set<string>>;
  previous: Map<string, Map<string, unknown>>;
  written: Map<string, Map<string, unknown[]>>;
}

// The type of a root shared type as Yjs declares it (its event type parameter is Yjs's own).
type Type = Parameters<Y.Doc['share']['set']>[1];

export function emptyChangeSet(): ChangeSet {
  return { changed: new Map(), previous: new Map(), written: new Map() };
}

function addTo<V>(outer: Map<string, Map<string, V>>, map: string, key: string, value: V): void {
  let inner = outer.get(map);
  if (!inner) {
    inner = new Map();
    outer.set(map, inner);
  }
  inner.set(key, value);
}

function markChanged(set: ChangeSet, map: string, key: string): void {
  let keys = set.changed.get(map);
  if (!keys) {
    keys = new Set();
    set.changed.set(map, keys);
  }
  keys.add(key);
}

const keepsPrevious = (map: string): boolean => !(EDITABLE_MAPS as readonly string[]).includes(map);

/** The root type and root-level key a (possibly nested) change hangs under. */
function rootKeyOf(type: Type, key: string | null): { root: Type; key: string | null } {
  let current = type;
  let rootKey = key;
  while (current._item !== null) {
    rootKey = current._item.parentSub;
    current = current._item.parent as Type;
  }
  return { root: current, key: rootKey };
}

/** A struct's value as the document would show it; a nested type stays a type (and is refused later). */
function contentOf(item: Y.Item): { value: unknown } | null {
  const content = item.content;
  if (content instanceof Y.ContentAny || content instanceof Y.ContentJSON || content instanceof Y.ContentType) {
    const values = content.getContent();
    return values.length === 0 ? null : { value: values[values.length - 1] };
  }
  // Deleted or binary content carries no value a person could have meant.
  return null;
}

/** Items the transaction integrated, from the store ranges between the before and after states. */
function* addedItems(tr: Y.Transaction): Generator<Y.Item> {
  for (const [client, after] of tr.afterState) {
    const before = tr.beforeState.get(client) ?? 0;
    const structs = tr.doc.store.clients.get(client);
    if (after <= before || !structs) {
      continue;
    }
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const struct = structs[i];
      if (!struct || struct.id.clock >= after) {
        break;
      }
      if (struct instanceof Y.Item) {
        yield struct;
      }
    }
  }
}

function collectWritten(tr: Y.Transaction, names: Map<Type, string>, set: ChangeSet): void {
  const latest = new Map<string, Map<string, Map<number, Y.Item>>>();
  for (const item of addedItems(tr)) {
    const parent = item.parent as Type | null;
    if (parent === null) {
      continue;
    }
    const { root, key } = rootKeyOf(parent, item.parentSub);
    const name = names.get(root);
    if (name === undefined || key === null) {
      continue;
    }
    markChanged(set, name, key);
    if (parent !== root) {
      continue;
    }
    const byClient = latest.get(name)?.get(key) ?? new Map<number, Y.Item>();
    const seen = byClient.get(item.id.client);
    if (!seen || seen.id.clock < item.id.clock) {
      byClient.set(item.id.client, item);
    }
    addTo(latest, name, key, byClient);
  }
  for (const [name, keys] of latest) {
    for (const [key, byClient] of keys) {
      const values = [...byClient.values()].flatMap((item) => {
        const c = contentOf(item);
        return c ? [c.value] : [];
      });
      addTo(set.written, name, key, values);
    }
  }
}

/**
 * Reads what the transaction that applied a client's update changed.
 * Call it from an `afterTransaction` handler of that transaction: later,
 * overwritten values are gone (gc) and Yjs refuses to compute the changes.
 */
export function collectChanges(tr: Y.Transaction): ChangeSet {
  const set = emptyChangeSet();
  const names = new Map<Type, string>();
  tr.doc.share.forEach((type, name) => names.set(type, name));
  for (const [type, keys] of tr.changed) {
    const root = rootKeyOf(type, null).root;
    const name = names.get(root);
    if (name === undefined) {
      continue;
    }
    if (type !== root) {
      const { key } = rootKeyOf(type, null);
      if (key !== null) {
        markChanged(set, name, key);
      }
      continue;
    }
    const event = keepsPrevious(name) ? new Y.YMapEvent(root as unknown as Y.Map<unknown>, tr, keys) : null;
    for (const key of keys) {
      // null: array-style content in a root Shoal only uses as a map; invisible to map readers, so ignored.
      if (key === null) {
        continue;
      }
      markChanged(set, name, key);
      if (!event) {
        continue;
      }
      const change = event.keys.get(key);
      const item = root._map.get(key);
      const visible = item && !item.deleted ? contentOf(item)?.value : undefined;
      addTo(set.previous, name, key, change ? change.oldValue : visible);
    }
  }
  collectWritten(tr, names, set);
  return set;
}
