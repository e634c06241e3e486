import { describe, expect, it } from 'vitest';
import { ACCOUNT_LOCK_MS, IP_LOCK_MS, lockAfter, throttleKeys } from '../../server/auth/throttle';

describe('login back-off schedule', () => {
  it('follows the Lucia schedule per account: 1, 2, 4, 8, 16, 30, 60, 180, 300 s, then stays at 300 s', () => {
    const seconds = Array.from({ length: 12 }, (_, i) => lockAfter(i, ACCOUNT_LOCK_MS) / 1000);
    expect(seconds).toEqual([0, 1, 2, 4, 8, 16, 30, 60, 180, 300, 300, 300]);
  });

  it('never shrinks as failures grow', () => {
    for (const schedule of [ACCOUNT_LOCK_MS, IP_LOCK_MS]) {
      for (let n = 1; n < 40; n += 1) {
        expect(lockAfter(n + 1, schedule)).toBeGreaterThanOrEqual(lockAfter(n, schedule));
      }
    }
  });

  it('gives one address ten free failures before backing off', () => {
    expect(lockAfter(10, IP_LOCK_MS)).toBe(0);
    expect(lockAfter(11, IP_LOCK_MS)).toBe(1000);
    expect(lockAfter(100, IP_LOCK_MS)).toBe(300_000);
  });

  it('keys accounts and addresses apart', () => {
    expect(throttleKeys('a@b.test', '10.0.0.1')).toEqual({ account: 'account:a@b.test', ip: 'ip:10.0.0.1' });
  });
});
