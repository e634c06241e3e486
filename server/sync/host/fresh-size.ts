/**
 * @module server/sync/host/fresh-size
 * What a document would encode to if it were built afresh from what it holds
 * now, and whether it has outgrown that enough to be rebuilt. A Y.Map
 * overwrite leaves a deleted item of about 10 B that gc never merges (the
 * next value's origin points at it), so a document whose keys are rewritten
 * often grows without bound though its content does not; only a new document
 * (a rebuild under a new epoch) sheds them.
 */
import * as Y from 'yjs';

/**
 * Encoded size of a copy holding only the live entries of every root map,
 * written by one client as a build writes them. Costs about 1.5× one
 * `encodeStateAsUpdate` of the document (70 ms for 3 MB), so it is taken only
 * when the stored size already looks too large.
 */
export function freshSize(doc: Y.Doc): number {
  const copy = new Y.Doc({ gc: true });
  try {
    copy.transact(() => {
      for (const [name, type] of doc.share) {
        if (!(type instanceof Y.Map)) {
          continue;
        }
        const target = copy.getMap<unknown>(name);
        // Nested types are not part of the layout; their JSON is a close enough stand-in.
        type.forEach((value: unknown, key: string) => target.set(key, value instanceof Y.AbstractType ? (value.toJSON() as unknown) : value));
      }
    });
    return Y.encodeStateAsUpdate(copy).length;
  } finally {
    copy.destroy();
  }
}

export interface RebuildLimits {
  /** Rebuild once the snapshot passes this multiple of a fresh encoding… */
  rebuildRatio: number;
  /** …and is at least this many bytes larger, so small documents never churn. */
  rebuildMinBytes: number;
}

/** Whether a snapshot of `snapshotBytes` is bloated against a fresh encoding of `fresh` bytes. */
export function bloated(snapshotBytes: number, fresh: number, limits: RebuildLimits): boolean {
  return snapshotBytes > fresh * limits.rebuildRatio && snapshotBytes - fresh > limits.rebuildMinBytes;
}
