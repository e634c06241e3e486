import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MAPS } from '../../sync/doc/schema';
import { defineMaps, epochIn, isForeignEpoch } from '../../sync/client/epoch';
import { changedKeys } from '../../sync/client/read';

function builtDoc(epoch: string, clientID?: number): Y.Doc {
  const doc = new Y.Doc();
  if (clientID !== undefined) {
    doc.clientID = clientID;
  }
  doc.transact(() => {
    doc.getMap(MAPS.meta).set('schema', 1);
    doc.getMap(MAPS.meta).set('epoch', epoch);
    doc.getMap(MAPS.threads).set('t1', { subject: 'Hello' });
  });
  return doc;
}

describe('epochIn', () => {
  it('finds the epoch of a whole document and nothing in an ordinary diff', () => {
    const doc = builtDoc('e7');
    expect(epochIn(Y.encodeStateAsUpdate(doc))).toBe('e7');
    const before = Y.encodeStateVector(doc);
    doc.getMap(MAPS.threads).set('t2', { subject: 'Another' });
    expect(epochIn(Y.encodeStateAsUpdate(doc, before))).toBeNull();
    expect(isForeignEpoch(Y.encodeStateAsUpdate(doc), 'e7')).toBe(false);
    expect(isForeignEpoch(Y.encodeStateAsUpdate(doc), 'e6')).toBe(true);
    expect(isForeignEpoch(Y.encodeStateAsUpdate(doc), null)).toBe(false);
  });

  it('follows a key written twice to its latest value', () => {
    const doc = builtDoc('first');
    doc.getMap(MAPS.meta).set('epoch', 'second');
    expect(epochIn(Y.encodeStateAsUpdate(doc))).toBe('second');
    // An overwrite alone names the epoch too, through the earlier item it builds on.
    const sv = Y.encodeStateVector(doc);
    doc.getMap(MAPS.meta).set('epoch', 'third');
    const diff = Y.encodeStateAsUpdate(doc, sv);
    expect(epochIn(diff)).toBeNull();
    expect(epochIn(Y.mergeUpdates([Y.encodeStateAsUpdate(doc)]))).toBe('third');
  });

  it('decodes only updates that name the meta map, and is not fooled by the name in content', () => {
    const doc = builtDoc('e1');
    const sv = Y.encodeStateVector(doc);
    // "meta" inside a value and as another map's key: the bytes are there, but no epoch is set.
    doc.transact(() => {
      doc.getMap(MAPS.threads).set('meta', { subject: 'meta', snippet: '\u0004meta' });
      doc.getMap(MAPS.meta).set('schema', 2);
    });
    expect(epochIn(Y.encodeStateAsUpdate(doc, sv))).toBeNull();
    // A new epoch written by another client names its parent itself: found.
    const other = new Y.Doc();
    other.getMap(MAPS.meta).set('epoch', 'e2');
    expect(epochIn(Y.encodeStateAsUpdate(other))).toBe('e2');
  });

  it('shows why the value cannot simply be read after merging: the older epoch can win', () => {
    // A rebuilt document is a fresh Y.Doc: its epoch item is concurrent with the old one.
    const old = builtDoc('old', 1000);
    const rebuilt = builtDoc('new', 5);
    Y.applyUpdate(old, Y.encodeStateAsUpdate(rebuilt));
    expect(old.getMap(MAPS.meta).get('epoch')).toBe('old');
    expect(epochIn(Y.encodeStateAsUpdate(rebuilt))).toBe('new');
  });
});

describe('defineMaps', () => {
  it('keeps transaction.changed lookups by identity working for maps an update creates', () => {
    const source = builtDoc('e1');
    const lazy = new Y.Doc();
    const seen: string[][] = [];
    lazy.on('afterTransaction', (tr: Y.Transaction) => seen.push(changedKeys(tr, lazy.getMap(MAPS.threads))));
    Y.applyUpdate(lazy, Y.encodeStateAsUpdate(source));
    const defined = new Y.Doc();
    defineMaps(defined);
    defined.on('afterTransaction', (tr: Y.Transaction) => seen.push(changedKeys(tr, defined.getMap(MAPS.threads))));
    Y.applyUpdate(defined, Y.encodeStateAsUpdate(source));
    expect(seen).toEqual([[], ['t1']]);
  });
});
