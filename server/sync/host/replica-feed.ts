/**
 * @module server/sync/host/replica-feed
 * Keeps a replica current: the writer's relayed updates are applied in seq
 * order; a gap (a lost pub/sub message, a reconnect, updates published
 * while the replica loaded) or a new epoch is repaired from Postgres, which
 * holds every update before it is relayed.
 */
import { readSyncDoc, type SyncDocState } from '../../../db/queries/sync-docs';
import type { Db } from '../../../db/types';
import type { BusMessage, UpdateOrigin } from './bus';
import { readReplica, type LoadedDoc } from './doc-store';

export type DocUpdateMessage = Extract<BusMessage, { kind: 'doc-update' }>;

/** The replica as the feed sees it. */
export interface ReplicaTarget {
  readonly userId: string;
  readonly epoch: string;
  lastSeq: number;
  isReplica(): boolean;
  /** Applies updates so that listeners hear what was new to this copy. */
  applyRelayed(update: Uint8Array, origin: UpdateOrigin): void;
  applyStored(state: SyncDocState): void;
  /** Replaces the document (a new epoch) and tells listeners to reset. */
  replaceWith(loaded: LoadedDoc): void;
}

export async function relay(db: Db, r: ReplicaTarget, m: DocUpdateMessage): Promise<void> {
  if (!r.isReplica() || m.seq <= r.lastSeq) {
    return;
  }
  if (m.epoch === r.epoch && m.seq === r.lastSeq + 1) {
    r.applyRelayed(m.update, m.origin);
    r.lastSeq = m.seq;
    return;
  }
  await catchUp(db, r);
}

export async function catchUp(db: Db, r: ReplicaTarget): Promise<void> {
  if (!r.isReplica()) {
    return;
  }
  const state = await readSyncDoc(db, r.userId, r.lastSeq);
  if (!state) {
    return;
  }
  if (state.epoch !== r.epoch) {
    const loaded = await readReplica(db, r.userId);
    if (loaded && r.isReplica()) {
      r.replaceWith(loaded);
    }
    return;
  }
  r.applyStored(state);
  r.lastSeq = Math.max(r.lastSeq, state.tail.at(-1)?.seq ?? state.snapshotSeq);
}
