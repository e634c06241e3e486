/**
 * @module server/sync/host/maintenance
 * The host's clockwork: renew leases well before they expire (a document
 * whose lease cannot be renewed is dropped at once), take over documents
 * whose writer died while sockets here still follow them, evict idle
 * documents, and check replicas against Postgres in case a relayed update
 * was lost (pub/sub is at-most-once).
 */
import { findSyncDocHeads } from '../../../db/queries/sync-docs';
import type { Db } from '../../../db/types';
import type { DocLeases } from './leases';
import type { DocHostOptions } from './options';
import { RESIDENT_MODES, type ResidentDoc } from './resident';

export interface MaintainedHost {
  readonly options: DocHostOptions;
  readonly residents: ReadonlyMap<string, ResidentDoc>;
  readonly leases: DocLeases;
  readonly db: Db;
  hasSubscribers(userId: string): boolean;
  promote(r: ResidentDoc): Promise<boolean>;
  evict(r: ResidentDoc): void;
  forgetHandles(): void;
  recoverReviews(r: ResidentDoc): Promise<number>;
  reopenFollowed(): void;
  warn(message: string): (error: unknown) => void;
}

const byMode = (host: MaintainedHost, mode: string) => [...host.residents.values()].filter((r) => r.mode === mode);

/** Renews this process's leases; then tries to take the documents its sockets follow whose lease is free. */
export async function renewLeases(host: MaintainedHost): Promise<void> {
  const writers = byMode(host, RESIDENT_MODES.writer).filter((r) => r.lease !== null);
  const lost = new Set(await host.leases.renew(writers.map((r) => r.lease as NonNullable<typeof r.lease>)));
  for (const r of writers) {
    if (r.lease && lost.has(r.lease)) {
      r.drop('lease could not be renewed');
    }
  }
  for (const r of byMode(host, RESIDENT_MODES.replica)) {
    if (host.hasSubscribers(r.userId)) {
      await host.promote(r).catch(host.warn('sync takeover failed'));
    }
  }
  host.reopenFollowed();
}

/** Evicts idle documents nobody follows, retries failed reviews, and brings replicas that fell behind up to date. */
export async function sweep(host: MaintainedHost, now = Date.now()): Promise<void> {
  for (const r of byMode(host, RESIDENT_MODES.writer).filter((w) => w.needsReview)) {
    await host.recoverReviews(r).catch(host.warn('sync review retry failed'));
  }
  for (const r of [...host.residents.values()]) {
    if (!r.busy && !host.hasSubscribers(r.userId) && now - r.lastUsed >= host.options.idleMs) {
      host.evict(r);
    }
  }
  host.forgetHandles();
  const followed = byMode(host, RESIDENT_MODES.replica).filter((r) => host.hasSubscribers(r.userId));
  const heads = await findSyncDocHeads(host.db, followed.map((r) => r.userId));
  for (const r of followed) {
    const head = heads.get(r.userId);
    if (head && (head.epoch !== r.epoch || head.seq > r.lastSeq)) {
      await r.catchUp().catch(host.warn('sync catch-up failed'));
    }
  }
}

/** Runs renewals and sweeps on timers that never keep the process alive. @returns stop. */
export function startMaintenance(host: MaintainedHost): () => void {
  const every = (ms: number, task: () => Promise<void>) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) {
        return;
      }
      running = true;
      task()
        .catch(host.warn('sync maintenance failed'))
        .finally(() => (running = false));
    }, ms);
    timer.unref();
    return () => clearInterval(timer);
  };
  const stops = [every(host.options.lease.renewMs, () => renewLeases(host)), every(host.options.sweepMs, () => sweep(host))];
  return () => stops.forEach((stop) => stop());
}
