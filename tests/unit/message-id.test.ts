import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOutgoingMessageId, extractMessageIds, findSignedThreadId, verifyOwnMessageId } from '../../server/ingest/message-id';

const runs = Number(process.env.PROPERTY_RUNS ?? 200);
const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
const otherKey = new Uint8Array(32).fill(9);
const threadId = '0b6f3c2e-9d4a-4e7b-8f10-2a3b4c5d6e7f';

/** Replaces the character at `index` with a different one from the same alphabet. */
function flip(id: string, index: number): string {
  const current = id[index] ?? '';
  const replacement = current === 'a' ? 'b' : 'a';
  return id.slice(0, index) + replacement + id.slice(index + 1);
}

describe('createOutgoingMessageId', () => {
  it('has the documented shape and verifies back to its thread', () => {
    const id = createOutgoingMessageId(key, threadId, 'mail.shoal.test', () => 'abcde12345');
    expect(id).toMatch(/^<s\.0b6f3c2e9d4a4e7b8f102a3b4c5d6e7f\.abcde12345\.[0-9a-f]{16}@mail\.shoal\.test>$/u);
    expect(verifyOwnMessageId(key, id)).toEqual({ threadId });
  });

  it('uses fresh randomness for every send', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => createOutgoingMessageId(key, threadId, 'shoal.test')));
    expect(ids.size).toBe(1000);
  });

  it('tolerates missing brackets, whitespace and a relay upper-casing the id', () => {
    const id = createOutgoingMessageId(key, threadId, 'shoal.test');
    expect(verifyOwnMessageId(key, id.slice(1, -1))).toEqual({ threadId });
    expect(verifyOwnMessageId(key, `  ${id}\r\n`)).toEqual({ threadId });
    expect(verifyOwnMessageId(key, id.toUpperCase())).toEqual({ threadId });
  });

  it('refuses bad input instead of minting a weak id', () => {
    expect(() => createOutgoingMessageId(new Uint8Array(8), threadId, 'shoal.test')).toThrow(/key/u);
    expect(() => createOutgoingMessageId(key, 'not-a-uuid', 'shoal.test')).toThrow(/UUID/u);
    expect(() => createOutgoingMessageId(key, threadId, 'shoal.test', () => 'short')).toThrow(/random/u);
    expect(() => createOutgoingMessageId(key, threadId, 'bad domain>')).toThrow(/domain/u);
  });
});

describe('verifyOwnMessageId', () => {
  const id = createOutgoingMessageId(key, threadId, 'shoal.test', () => 'abcde12345');
  const [, thread = '', rand = '', mac = ''] = /^<s\.([^.]+)\.([^.]+)\.([^@]+)@/u.exec(id) ?? [];
  const macStart = id.indexOf(mac);

  it.each([
    ['the hmac', flip(id, macStart + 3)],
    ['the thread id', flip(id, id.indexOf(thread) + 5)],
    ['the random part', id.replace(`.${rand}.`, '.abcde12346.')],
    ['a truncated hmac', id.replace(`.${mac}@`, `.${mac.slice(0, 15)}@`)],
    ['a swapped thread id', id.replace(thread, 'ffffffffffff4fffbfffffffffffffff')],
  ])('rejects a tampered id (%s)', (_what, tampered) => {
    expect(tampered).not.toBe(id);
    expect(verifyOwnMessageId(key, tampered)).toBeNull();
  });

  it('rejects the right id under another key', () => {
    expect(verifyOwnMessageId(otherKey, id)).toBeNull();
  });

  it.each([
    '<CAH0uQ1=abc@mail.gmail.com>',
    '<1029945287.4797.TMDA@deepeddy.vircio.com>',
    '<FS_reply-123-abcdef0123456789@freescout.example>',
    '<conversation/0b6f3c2e-9d4a-4e7b-8f10-2a3b4c5d6e7f/messages/1@chatwoot.example>',
    '',
    '<>',
    `<s.${'0'.repeat(32)}.aaaaaaaaaa.${'0'.repeat(16)}@shoal.test>`,
    `<s.${'0'.repeat(32)}.aaaaaaaaaa.${'0'.repeat(16)}@x@shoal.test>`,
    `<s.${'a'.repeat(1000)}>`,
  ])('rejects the foreign or malformed id %j', (foreign) => {
    expect(verifyOwnMessageId(key, foreign)).toBeNull();
  });

  it('property: every created id verifies to its thread, under its key only', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.domain(), (uuid, secret, domain) => {
        const created = createOutgoingMessageId(secret, uuid, domain);
        expect(verifyOwnMessageId(secret, created)).toEqual({ threadId: uuid.toLowerCase() });
        expect(verifyOwnMessageId(otherKey, created)).toBeNull();
      }),
      { numRuns: runs },
    );
  });

  it('property: random strings, and random ids of the right shape, never verify', () => {
    const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
    const shaped = fc
      .tuple(hex(32), fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz234567'), minLength: 10, maxLength: 10 }), hex(16))
      .map(([thread, rand, mac]) => `<s.${thread}.${rand}.${mac}@shoal.test>`);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), shaped), (candidate) => {
        expect(verifyOwnMessageId(key, candidate)).toBeNull();
      }),
      { numRuns: runs * 5 },
    );
  });
});

describe('findSignedThreadId', () => {
  it('takes In-Reply-To first, then References newest first, and skips forgeries', () => {
    const other = '9f9f9f9f-1111-4222-8333-444455556666';
    const mine = createOutgoingMessageId(key, threadId, 'shoal.test').slice(1, -1);
    const older = createOutgoingMessageId(key, other, 'shoal.test').slice(1, -1);
    const forged = flip(mine, mine.indexOf('@') - 2);
    expect(findSignedThreadId(key, { inReplyTo: forged, references: [older, 'x@y', mine] })).toBe(threadId);
    expect(findSignedThreadId(key, { inReplyTo: older, references: [mine] })).toBe(other);
    expect(findSignedThreadId(key, { inReplyTo: forged, references: ['a@b'] })).toBeNull();
  });
});

describe('extractMessageIds', () => {
  it.each([
    ['<a@b>', ['a@b']],
    ['<a@b> <c@d>,<e@f>', ['a@b', 'c@d', 'e@f']],
    ['  <Case.Sensitive@Example.COM>  ', ['Case.Sensitive@Example.COM']],
    ['<folded@exa\r\n mple.com>', ['folded@example.com']],
    ['Your message of "Thu, 22 Aug 2002" <id@host>', ['id@host']],
    ['<id@host>; from joe@example.com on Thu, Aug 29, 2002', ['id@host']],
    ['bare@host', ['bare@host']],
    ["joe@example.com's message of \"Wed, 4 Sep 2002\"", []],
    ['no ids here', []],
    ['<>', []],
  ])('%j → %j', (value, ids) => {
    expect(extractMessageIds(value)).toEqual(ids);
  });
});
