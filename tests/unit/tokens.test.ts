import { describe, expect, it } from 'vitest';
import { hashSecret, issueOpaqueToken, issueToken, randomPart, secretMatches, splitToken } from '../../server/auth/tokens';

describe('session tokens', () => {
  it('are <id>.<secret> with 120 random bits in each part', () => {
    const { token, id } = issueToken();
    expect(token).toMatch(/^[a-z2-7]{24}\.[a-z2-7]{24}$/);
    expect(token.startsWith(`${id}.`)).toBe(true);
    // 24 base32 characters carry 24 × 5 = 120 bits.
    expect(randomPart()).toHaveLength(24);
  });

  it('never repeat across many draws', () => {
    const seen = new Set(Array.from({ length: 5000 }, () => issueToken().token));
    expect(seen.size).toBe(5000);
  });

  it('store only SHA-256 of the secret and verify it', () => {
    const { token, secretHash } = issueToken();
    const parts = splitToken(token);
    expect(parts).not.toBeNull();
    expect(secretHash).toHaveLength(32);
    expect(secretMatches(parts?.secret ?? '', secretHash)).toBe(true);
    expect(secretMatches('a'.repeat(24), secretHash)).toBe(false);
    expect(secretMatches(parts?.secret ?? '', new Uint8Array(31))).toBe(false);
  });

  it.each(['', 'abc', 'a.b.c', `${'a'.repeat(24)}.`, `${'a'.repeat(24)}.${'A'.repeat(24)}`, `${'a'.repeat(24)}.${'1'.repeat(24)}`, `${'a'.repeat(25)}.${'a'.repeat(24)}`])(
    'rejects the malformed token %j before any lookup',
    (bad) => {
      expect(splitToken(bad)).toBeNull();
    },
  );

  it('hashes deterministically', () => {
    expect(Array.from(hashSecret('x'))).toEqual(Array.from(hashSecret('x')));
  });

  it('invite tokens carry 160 bits and hash like session secrets', () => {
    const { token, hash } = issueOpaqueToken();
    expect(token).toMatch(/^[a-z2-7]{32}$/);
    expect(Array.from(hash)).toEqual(Array.from(hashSecret(token)));
  });
});
