/**
 * @module server/sync/host/leases
 * One writer per document. Alone, this process holds every lease. With Redis,
 * a lease is the key `shoal:lease:doc:<userId>` taken with `SET NX PX` and
 * renewed well before it expires, so a process that dies loses its leases
 * within the TTL. The lease's token also fences the document in Postgres
 * (`sync_docs.writer`), so a process that stalled past its TTL cannot write
 * even before it notices.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export interface DocLease {
  readonly userId: string;
  /** Unique per acquisition: the fencing token in Postgres. */
  readonly token: string;
  /** Until when (ms since the epoch) this process may write without renewing. */
  validUntil: number;
}

export interface DocLeases {
  readonly processId: string;
  /** @returns the lease, or null when another process holds it. */
  acquire(userId: string): Promise<DocLease | null>;
  /** Extends the leases. @returns those that are lost (refused, or the renewal failed). */
  renew(leases: readonly DocLease[]): Promise<DocLease[]>;
  release(lease: DocLease): Promise<void>;
  /** The process holding a document's lease, or null when nobody does. */
  holder(userId: string): Promise<string | null>;
  close(): Promise<void>;
}

export const LEASE_TIMING = {
  ttlMs: 5_000,
  renewMs: 1_500,
  /** Stop writing this long before the TTL runs out: renewals take time, and clocks drift. */
  marginMs: 750,
} as const;

export type LeaseTiming = { ttlMs: number; renewMs: number; marginMs: number };

const SEPARATOR = '|';

/** Alone: every lease is ours, forever. */
export function createLocalLeases(processId: string): DocLeases {
  return {
    processId,
    acquire: async (userId) => ({ userId, token: `${processId}|${randomUUID()}`, validUntil: Number.POSITIVE_INFINITY }),
    renew: async () => [],
    release: async () => {},
    holder: async () => processId,
    close: async () => {},
  };
}

/**
 * Leases in this process's memory with a TTL, shared by several hosts in
 * one process: tests of the multi-process logic without Redis.
 */
export function createMemoryLeaseTable(timing: LeaseTiming = LEASE_TIMING): { connect(processId: string): DocLeases } {
  const table = new Map<string, { token: string; expires: number }>();
  const live = (userId: string) => {
    const entry = table.get(userId);
    return entry && entry.expires > Date.now() ? entry : null;
  };
  return {
    connect: (processId) => ({
      processId,
      async acquire(userId) {
        if (live(userId)) {
          return null;
        }
        const now = Date.now();
        const token = `${processId}${SEPARATOR}${randomUUID()}`;
        table.set(userId, { token, expires: now + timing.ttlMs });
        return { userId, token, validUntil: now + timing.ttlMs - timing.marginMs };
      },
      async renew(leases) {
        const now = Date.now();
        return leases.filter((lease) => {
          const entry = live(lease.userId);
          if (entry?.token !== lease.token) {
            return true;
          }
          entry.expires = now + timing.ttlMs;
          lease.validUntil = now + timing.ttlMs - timing.marginMs;
          return false;
        });
      },
      async release(lease) {
        if (table.get(lease.userId)?.token === lease.token) {
          table.delete(lease.userId);
        }
      },
      holder: async (userId) => live(userId)?.token.split(SEPARATOR)[0] ?? null,
      close: async () => {},
    }),
  };
}

// Compare-and-act, so a process never extends or deletes a lease that has since passed to another.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

export interface RedisLeasesOptions {
  url: string;
  processId: string;
  /** Key prefix; tests use their own. */
  prefix?: string;
  timing?: LeaseTiming;
  onError?: (error: unknown) => void;
}

export const DEFAULT_LEASE_PREFIX = 'shoal';

export async function createRedisLeases(options: RedisLeasesOptions): Promise<DocLeases> {
  const timing = options.timing ?? LEASE_TIMING;
  const prefix = options.prefix ?? DEFAULT_LEASE_PREFIX;
  const keyOf = (userId: string) => `${prefix}:lease:doc:${userId}`;
  // No offline queue and a short timeout: a renewal that cannot reach Redis must fail now, not after the TTL.
  const redis = new Redis(options.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: Math.floor(timing.renewMs / 2) });
  redis.on('error', options.onError ?? ((error: unknown) => console.error('[sync leases]', error)));
  await redis.connect();
  return {
    processId: options.processId,
    async acquire(userId) {
      const started = Date.now();
      const token = `${options.processId}${SEPARATOR}${randomUUID()}`;
      const ok = await redis.set(keyOf(userId), token, 'PX', timing.ttlMs, 'NX');
      return ok === 'OK' ? { userId, token, validUntil: started + timing.ttlMs - timing.marginMs } : null;
    },
    async renew(leases) {
      if (leases.length === 0) {
        return [];
      }
      const started = Date.now();
      const pipeline = redis.pipeline();
      for (const lease of leases) {
        pipeline.eval(RENEW, 1, keyOf(lease.userId), lease.token, timing.ttlMs);
      }
      const results = await pipeline.exec().catch(() => null);
      const lost: DocLease[] = [];
      leases.forEach((lease, i) => {
        const [error, renewed] = results?.[i] ?? [new Error('no reply'), 0];
        if (error || renewed !== 1) {
          lost.push(lease);
          return;
        }
        lease.validUntil = started + timing.ttlMs - timing.marginMs;
      });
      return lost;
    },
    async release(lease) {
      await redis.eval(RELEASE, 1, keyOf(lease.userId), lease.token);
    },
    async holder(userId) {
      const value = await redis.get(keyOf(userId));
      return value === null ? null : (value.split(SEPARATOR)[0] ?? null);
    },
    async close() {
      redis.disconnect();
    },
  };
}
