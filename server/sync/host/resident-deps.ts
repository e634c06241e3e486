/**
 * @module server/sync/host/resident-deps
 * What a resident document is given by its host: storage, the bus, the
 * builder, the change collector, compaction limits, and the hooks through
 * which it reports to the host.
 */
import type { Logger } from 'pino';
import type { Db } from '../../../db/types';
import type { AppendBatcher } from './append-batcher';
import type { BackgroundPacer } from './background';
import type { Bus, UpdateOrigin } from './bus';
import type { CollectChanges } from './changed-keys';
import type { BuildDoc } from './doc-store';
import type { ResidentDoc } from './resident';

export const RESIDENT_MODES = { writer: 'writer', replica: 'replica', dropped: 'dropped' } as const;
export type ResidentMode = (typeof RESIDENT_MODES)[keyof typeof RESIDENT_MODES];

export interface ResidentHooks {
  notify(userId: string, update: Uint8Array, origin: UpdateOrigin): void;
  notifyReset(userId: string, epoch: string): void;
  /** The resident left service (lease lost, write failed, evicted, closed). */
  dropped(resident: ResidentDoc, reason: string): void;
  /** Tries to make a replica the writer. @returns whether it now is. */
  promote(resident: ResidentDoc): Promise<boolean>;
  /** The document outgrew its content and was rebuilt under a new epoch. */
  rebuilt?(rebuild: AutoRebuild): void;
}

/** What an automatic rebuild found and left (encoded sizes in bytes). */
export interface AutoRebuild {
  userId: string;
  /** The fold's snapshot that set it off: the whole old document. */
  snapshotBytes: number;
  /** The live content's encoding, measured then. */
  freshBytes: number;
  /** The new epoch's snapshot. */
  rebuiltBytes: number;
}

export interface ResidentDeps {
  db: Db;
  log: Logger;
  bus: Bus;
  build: BuildDoc;
  hooks: ResidentHooks;
  collectChanges: CollectChanges;
  compactUpdates: number;
  compactBytes: number;
  compactTailRatio: number;
  compactMinBytes: number;
  compactDelayMs: number;
  rebuildRatio: number;
  rebuildMinBytes: number;
  /** Stores server writes of many documents together. */
  appender?: AppendBatcher;
  /** Paces folds behind foreground work. */
  pacer: BackgroundPacer;
}
