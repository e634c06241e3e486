/**
 * @module server/ingest/backoff
 * Reconnect delays: exponential with full jitter, so many accounts that lost
 * the same server do not return in lock-step; a server's own throttle hint wins.
 */

export const BACKOFF = { baseMs: 1_000, maxMs: 5 * 60_000 } as const;

export interface BackoffLimits {
  baseMs: number;
  maxMs: number;
}

/**
 * The wait before reconnect attempt `attempt` (0-based).
 * @param random a [0, 1) source, injectable for tests.
 * @param throttleMs the server's suggested wait, when it sent one.
 * @param limits first delay and cap; fault-injection tests shrink them.
 */
export function reconnectDelay(
  attempt: number,
  random: () => number = Math.random,
  throttleMs: number | null = null,
  limits: BackoffLimits = BACKOFF,
): number {
  const ceiling = Math.min(limits.maxMs, limits.baseMs * 2 ** Math.min(attempt, 20));
  const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2));
  if (throttleMs !== null && throttleMs > 0) {
    return Math.min(limits.maxMs, Math.max(throttleMs, jittered));
  }
  return jittered;
}

/** Reads a throttle hint from imapflow's ETHROTTLE error (`throttleReset` ms) or an O365 message. */
export function throttleHint(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) {
    return null;
  }
  const e = error as { code?: unknown; throttleReset?: unknown; message?: unknown };
  if (typeof e.throttleReset === 'number') {
    return e.throttleReset;
  }
  const match = typeof e.message === 'string' ? /Backoff Time: (\d+) milliseconds/i.exec(e.message) : null;
  return match?.[1] ? Number(match[1]) : null;
}
