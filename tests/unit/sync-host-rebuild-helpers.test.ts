/**
 * The pieces of the automatic rebuild that need no server: telling an
 * update of another history from one that fits, and measuring what a
 * document would encode to if built afresh.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { belongsTo } from '../../server/sync/host/foreign-update';
import { bloated, freshSize } from '../../server/sync/host/fresh-size';

function serverDoc(values: number): Y.Doc {
  const doc = new Y.Doc({ gc: true });
  doc.transact(() => {
    doc.getMap('meta').set('epoch', `e${values}`);
    for (let k = 0; k < values; k++) {
      doc.getMap('fields').set(`k${k}`, { v: 0 });
    }
  });
  return doc;
}

function clientOf(server: Y.Doc): Y.Doc {
  const client = new Y.Doc();
  Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
  return client;
}

function edit(doc: Y.Doc, fn: (fields: Y.Map<unknown>) => void): Uint8Array {
  let update: Uint8Array | null = null;
  const take = (u: Uint8Array) => (update = u);
  doc.on('update', take);
  doc.transact(() => fn(doc.getMap('fields')));
  doc.off('update', take);
  if (update === null) {
    throw new Error('the edit produced no update');
  }
  return update;
}

describe('belongsTo', () => {
  it('accepts a client’s edits, one by one and as a diff against the server’s state vector', () => {
    const server = serverDoc(10);
    const client = clientOf(server);
    const first = edit(client, (f) => f.set('k1', { v: 1 }));
    const second = edit(client, (f) => f.set('k2', { v: 2 }));
    expect(belongsTo(server, 'e10', first)).toBe(true);
    // The second builds on the first: it fits once the first is in, or together with it.
    expect(belongsTo(server, 'e10', Y.mergeUpdates([first, second]))).toBe(true);
    Y.applyUpdate(server, first);
    expect(belongsTo(server, 'e10', second)).toBe(true);
    expect(belongsTo(server, 'e10', Y.encodeStateAsUpdate(client, Y.encodeStateVector(server)))).toBe(true);
  });

  it('refuses an old copy’s edits after the document was rebuilt: they build on items the new one never had', () => {
    const old = serverDoc(10);
    const client = clientOf(old);
    edit(client, (f) => f.set('k1', { v: 1 }));
    const rebuilt = serverDoc(10);
    rebuilt.getMap('meta').set('epoch', 'e10-rebuilt');
    const overwrite = edit(client, (f) => f.set('k3', { v: 3 }));
    expect(belongsTo(rebuilt, 'e10-rebuilt', overwrite)).toBe(false);
    // The whole old copy, as a client that never resets would send it, neither.
    expect(belongsTo(rebuilt, 'e10-rebuilt', Y.encodeStateAsUpdate(client, Y.encodeStateVector(rebuilt)))).toBe(false);
    expect(belongsTo(old, 'e10', overwrite)).toBe(false);
  });
});

describe('freshSize', () => {
  it('measures the live content only: overwrites leave deleted items that a fresh build does not have', () => {
    const doc = serverDoc(200);
    const before = Y.encodeStateAsUpdate(doc).length;
    expect(Math.abs(freshSize(doc) - before) / before).toBeLessThan(0.05);
    for (let round = 1; round <= 20; round++) {
      doc.transact(() => {
        for (let k = 0; k < 200; k++) {
          doc.getMap('fields').set(`k${k}`, { v: round });
        }
      });
    }
    const encoded = Y.encodeStateAsUpdate(doc).length;
    const fresh = freshSize(doc);
    expect(encoded).toBeGreaterThan(2 * fresh);
    expect(Math.abs(fresh - before) / before).toBeLessThan(0.1);
    expect(bloated(encoded, fresh, { rebuildRatio: 1.5, rebuildMinBytes: 0 })).toBe(true);
    expect(bloated(encoded, fresh, { rebuildRatio: 1.5, rebuildMinBytes: encoded })).toBe(false);
    expect(bloated(fresh, fresh, { rebuildRatio: 1.5, rebuildMinBytes: 0 })).toBe(false);
  });
});
