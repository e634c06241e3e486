/**
 * @module server/auth/throttle
 * Login back-off (Lucia guide, "throttling"): each failure locks the key for
 * longer. State lives in Postgres so several processes share it.
 */
import { clearThrottle, findThrottle, recordFailure } from '../../db/queries/login-throttle';
import type { Queryable } from '../../db/types';

/** Lock after the n-th consecutive failure of one account, in ms (n = index + 1). */
export const ACCOUNT_LOCK_MS = [1, 2, 4, 8, 16, 30, 60, 180, 300].map((s) => s * 1000);
/** One address may try many accounts, so it gets ten free failures before the same curve. */
export const IP_LOCK_MS = [...Array<number>(10).fill(0), ...ACCOUNT_LOCK_MS];

/**
 * The lock that follows a number of consecutive failures.
 * @param failures consecutive failures so far (≥ 0).
 * @param schedule one of the schedules above.
 */
export function lockAfter(failures: number, schedule: readonly number[]): number {
  if (failures <= 0) {
    return 0;
  }
  return schedule[Math.min(failures, schedule.length) - 1] ?? 0;
}

export interface ThrottleKeys {
  account: string;
  ip: string;
}

/** Builds the keys for one attempt (normalized email and client address). */
export function throttleKeys(email: string, ip: string): ThrottleKeys {
  return { account: `account:${email}`, ip: `ip:${ip}` };
}

/**
 * How long until an attempt is allowed.
 * @returns 0 when allowed now, otherwise milliseconds to wait.
 */
export async function waitBeforeAttempt(q: Queryable, keys: ThrottleKeys, now: Date): Promise<number> {
  const [account, ip] = await Promise.all([findThrottle(q, keys.account), findThrottle(q, keys.ip)]);
  const until = Math.max(account?.lockedUntil.getTime() ?? 0, ip?.lockedUntil.getTime() ?? 0);
  return Math.max(0, until - now.getTime());
}

/** Counts a failed attempt against both keys. */
export async function recordFailedAttempt(q: Queryable, keys: ThrottleKeys, now: Date): Promise<void> {
  await recordFailure(q, keys.account, now, ACCOUNT_LOCK_MS);
  await recordFailure(q, keys.ip, now, IP_LOCK_MS);
}

/** Resets the account's counter after a success (the address keeps its count). */
export async function recordSuccessfulAttempt(q: Queryable, keys: ThrottleKeys): Promise<void> {
  await clearThrottle(q, keys.account);
}
