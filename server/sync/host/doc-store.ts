/**
 * @module server/sync/host/doc-store
 * Turns stored bytes into Y.Docs and back: load (snapshot + tail), take over
 * as writer (claim the fencing token, or build and store a new document), and
 * build a fresh document under a new epoch.
 */
import { randomInt, randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { claimSyncDoc, insertSyncDoc, readSyncDoc, type SyncDocState } from '../../../db/queries/sync-docs';
import type { Db } from '../../../db/types';
import { DOC_SCHEMA_VERSION, MAPS } from '../../../sync/doc/schema';
import type { HostedDoc } from '../types';

/** Writes a new or rebuilt document's content (the projection's builder). */
export type BuildDoc = (userId: string, hosted: HostedDoc) => Promise<void>;

export interface LoadedDoc {
  doc: Y.Doc;
  epoch: string;
  /** The last seq the document holds. */
  seq: number;
  tail: { count: number; bytes: number };
  /** Size of the stored snapshot (the tail is compacted relative to it); unknown for an empty replica. */
  snapshotBytes?: number;
  /** Freshly built here: its client id already is this lease's writer id. */
  built?: boolean;
}

export function newEpoch(): string {
  return randomUUID();
}

const MAX_CLIENT_ID = 2 ** 32 - 1;

/**
 * Gives the document a random writer id that no stored item uses yet: a
 * reused id would make Yjs take our writes for a replay and drop them.
 */
export function assignWriterId(doc: Y.Doc): number {
  let id = doc.clientID;
  while (doc.store.clients.has(id)) {
    id = randomInt(1, MAX_CLIENT_ID);
  }
  doc.clientID = id;
  return id;
}

/** Applies stored bytes to a document in one transaction. */
export function applyState(doc: Y.Doc, state: Pick<SyncDocState, 'snapshot' | 'tail'>, origin: unknown = null): void {
  doc.transact(() => {
    if (state.snapshot) {
      Y.applyUpdate(doc, state.snapshot, origin);
    }
    for (const row of state.tail) {
      Y.applyUpdate(doc, row.update, origin);
    }
  }, origin);
}

export function loadedFrom(state: SyncDocState, into = new Y.Doc({ gc: true })): LoadedDoc {
  applyState(into, state);
  const last = state.tail.at(-1);
  return {
    doc: into,
    epoch: state.epoch,
    seq: last ? last.seq : state.snapshotSeq,
    tail: { count: state.tail.length, bytes: state.tail.reduce((sum, r) => sum + r.update.length, 0) },
    snapshotBytes: state.snapshot?.length ?? 0,
  };
}

/**
 * A new document: `meta` first (so the builder can read the epoch), then the
 * builder's content. Nothing is persisted or broadcast here: the caller stores
 * the result as one snapshot.
 */
export async function buildFreshDoc(userId: string, epoch: string, build: BuildDoc): Promise<Y.Doc> {
  const doc = new Y.Doc({ gc: true });
  doc.transact(() => {
    const meta = doc.getMap<unknown>(MAPS.meta);
    meta.set('schema', DOC_SCHEMA_VERSION);
    meta.set('userId', userId);
    meta.set('epoch', epoch);
  });
  const building: HostedDoc & { epoch: string } = {
    userId,
    doc,
    epoch,
    async write(fn) {
      const updates: Uint8Array[] = [];
      const collect = (update: Uint8Array) => updates.push(update);
      doc.on('update', collect);
      try {
        doc.transact(() => fn(doc));
      } finally {
        doc.off('update', collect);
      }
      return mergeAll(updates);
    },
  };
  await build(userId, building);
  return doc;
}

/** One update from several, or null when there are none. */
export function mergeAll(updates: readonly Uint8Array[]): Uint8Array | null {
  if (updates.length <= 1) {
    return updates[0] ?? null;
  }
  return Y.mergeUpdates([...updates]);
}

/**
 * Takes a document over as its writer under `token`: claims it in Postgres,
 * then reads it (so every append of the previous writer is seen), or builds
 * and stores it when it never existed.
 * @param into a replica being promoted: the stored state is applied to it, so
 *   its sockets keep their document (unless the epoch changed).
 */
export async function takeDoc(db: Db, userId: string, token: string, build: BuildDoc, into?: { doc: Y.Doc; epoch: string }): Promise<LoadedDoc & { created: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if ((await claimSyncDoc(db, userId, token)) !== null) {
      const state = await readSyncDoc(db, userId);
      if (state) {
        const reuse = into && into.epoch === state.epoch ? into.doc : undefined;
        return { ...loadedFrom(state, reuse), created: false };
      }
    }
    const epoch = newEpoch();
    const doc = await buildFreshDoc(userId, epoch, build);
    const snapshot = Y.encodeStateAsUpdate(doc);
    if (await insertSyncDoc(db, { userId, epoch, snapshot, writer: token })) {
      return { doc, epoch, seq: 0, tail: { count: 0, bytes: 0 }, snapshotBytes: snapshot.length, built: true, created: true };
    }
    // Another writer stored it first (a lease that changed hands meanwhile): claim theirs.
  }
  throw new Error(`could not take the sync document of ${userId}`);
}

/** A read-only copy for a process that does not hold the lease; null when the document does not exist yet. */
export async function readReplica(db: Db, userId: string): Promise<LoadedDoc | null> {
  const state = await readSyncDoc(db, userId);
  return state ? loadedFrom(state) : null;
}
