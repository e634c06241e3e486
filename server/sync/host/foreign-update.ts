/**
 * @module server/sync/host/foreign-update
 * Whether a client's update belongs to this document's history. After a
 * rebuild under a new epoch, a socket of the old epoch may still have
 * updates on the way (sent before it heard of the reset, or queued behind
 * the rebuild); they build on items the new document never had. Applied,
 * Yjs would keep them pending forever and fold them into every snapshot;
 * and a client that never resets sends its whole old copy, which holds
 * together on its own but carries the old `meta.epoch`. Such an update is
 * not this document's: it is left out, and the client (which
 * resets, keeping its unsent writes) sends its writes again in the new epoch.
 */
import * as Y from 'yjs';
import { isForeignEpoch } from '../../../sync/client/epoch';

/** Whether `id` is in the document (`known`) or among the update's own structs. */
function resolves(id: Y.ID | null, known: Map<number, number>, own: Map<number, number>): boolean {
  if (id === null) {
    return true;
  }
  return id.clock < (known.get(id.client) ?? 0) || id.clock < (own.get(id.client) ?? 0);
}

/**
 * True when `update` sets no other epoch than `epoch`, every struct of it
 * starts where the document's state for its client ends (or before), and
 * every item's neighbours and parent are in the document or in the update.
 */
export function belongsTo(doc: Y.Doc, epoch: string, update: Uint8Array): boolean {
  return fitsHistory(doc, update) && !isForeignEpoch(update, epoch);
}

function fitsHistory(doc: Y.Doc, update: Uint8Array): boolean {
  const { structs } = Y.decodeUpdate(update);
  const known = Y.decodeStateVector(Y.encodeStateVector(doc));
  const own = new Map<number, number>();
  for (const struct of structs) {
    const { client, clock } = struct.id;
    const start = own.get(client) ?? known.get(client) ?? 0;
    if (clock > start) {
      // A gap: the update builds on items of this client the document lacks.
      return false;
    }
    own.set(client, Math.max(start, clock + struct.length));
  }
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) {
      continue;
    }
    // Decoded items hold their parent as an ID (a nested type), a root name (string) or null (it follows origin).
    const parent = struct.parent instanceof Y.ID ? struct.parent : null;
    if (!resolves(struct.origin, known, own) || !resolves(struct.rightOrigin, known, own) || !resolves(parent, known, own)) {
      return false;
    }
  }
  return true;
}
