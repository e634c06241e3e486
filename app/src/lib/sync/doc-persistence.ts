/**
 * @module app/lib/sync/doc-persistence
 * The document's IndexedDB copy: y-indexeddb's persistence and storage
 * format (so stored copies and its compaction keep working), without its
 * one wasted cost per load. y-indexeddb listens to the document's `update`
 * event from its constructor on, and Yjs encodes every transaction that has
 * an `update` listener, so applying a stored 5,000-thread copy also encoded
 * the whole of it once more (as long as the apply itself), only for
 * y-indexeddb to ignore it as its own. Here the listener is off until the
 * stored copy is in.
 *
 * Nothing is lost while it is off: y-indexeddb stores the document's whole
 * state right before it applies the stored updates, and the listener is back
 * in the same task, right after they are applied.
 */
import { IndexeddbPersistence } from 'y-indexeddb';
import type * as Y from 'yjs';

export class DocPersistence extends IndexeddbPersistence {
  constructor(name: string, doc: Y.Doc) {
    super(name, doc);
    doc.off('update', this._storeUpdate);
    // y-indexeddb emits 'synced' synchronously after its load transaction, and never once destroyed.
    this.once('synced', () => {
      if (!this._destroyed) {
        doc.on('update', this._storeUpdate);
      }
    });
  }
}

export function openDocPersistence(name: string, doc: Y.Doc): DocPersistence {
  return new DocPersistence(name, doc);
}
