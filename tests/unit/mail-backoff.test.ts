/**
 * Reconnect delays of a mailbox worker: exponential with jitter, capped, and
 * never shorter than a throttling server asked for.
 */
import { describe, expect, it } from 'vitest';
import { BACKOFF, reconnectDelay, throttleHint } from '../../server/ingest/backoff';

const low = () => 0;
const high = () => 0.999_999;

describe('reconnectDelay', () => {
  it('doubles per attempt between half and all of the ceiling, from one second', () => {
    expect([0, 1, 2, 3].map((n) => reconnectDelay(n, low))).toEqual([500, 1_000, 2_000, 4_000]);
    expect([0, 1, 2, 3].map((n) => reconnectDelay(n, high))).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('stops growing at the five-minute cap, however many attempts failed', () => {
    for (const attempt of [9, 20, 1_000]) {
      expect(reconnectDelay(attempt, high)).toBe(BACKOFF.maxMs);
      expect(reconnectDelay(attempt, low)).toBe(BACKOFF.maxMs / 2);
    }
  });

  it('spreads accounts that failed together over the whole upper half (jitter)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const delays = Array.from({ length: 200 }, () => reconnectDelay(4, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(8_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(16_000);
    expect(new Set(delays).size).toBeGreaterThan(150);
  });

  it('waits at least as long as a throttling server asked, within the cap', () => {
    expect(reconnectDelay(0, low, 45_000)).toBe(45_000);
    // The server's hint is a floor, not a ceiling: a longer back-off still wins.
    expect(reconnectDelay(8, high, 1_000)).toBe(256_000);
    expect(reconnectDelay(0, low, 60 * 60_000)).toBe(BACKOFF.maxMs);
    expect(reconnectDelay(0, low, 0)).toBe(500);
  });

  it('uses the limits a caller gives', () => {
    expect(reconnectDelay(3, high, null, { baseMs: 100, maxMs: 500 })).toBe(500);
    expect(reconnectDelay(1, low, null, { baseMs: 100, maxMs: 500 })).toBe(100);
  });
});

describe('throttleHint', () => {
  it('reads imapflow’s throttleReset on an ETHROTTLE error', () => {
    expect(throttleHint(Object.assign(new Error('Request is throttled'), { code: 'ETHROTTLE', throttleReset: 12_000 }))).toBe(12_000);
  });

  it('reads Office 365’s "Suggested Backoff Time" from the message', () => {
    expect(throttleHint(new Error('Request is throttled. Suggested Backoff Time: 5150 milliseconds'))).toBe(5_150);
  });

  it('has no hint for other failures', () => {
    expect(throttleHint(new Error('connect ECONNREFUSED 127.0.0.1:993'))).toBeNull();
    expect(throttleHint(null)).toBeNull();
    expect(throttleHint('throttled')).toBeNull();
  });
});
