import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { v5 as referenceV5, validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { NAMESPACES, recordIdFor, SHOAL_RECORD_NAMESPACE, sha1, uuidv5 } from '../../sync/uuidv5';

const runs = Number(process.env.PROPERTY_RUNS ?? 500);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('sha1', () => {
  it('matches the FIPS 180 examples', () => {
    expect(hex(sha1(utf8('')))).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(hex(sha1(utf8('abc')))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(hex(sha1(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    );
    expect(hex(sha1(utf8('a'.repeat(1_000_000))))).toBe('34aa973cd4c4daa4f61eeb2bdbad27316534016f');
  });

  it('agrees with node:crypto on random bytes, including every padding boundary', () => {
    for (let n = 0; n <= 130; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      expect(hex(sha1(bytes))).toBe(createHash('sha1').update(bytes).digest('hex'));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(hex(sha1(bytes))).toBe(createHash('sha1').update(bytes).digest('hex'));
      }),
      { numRuns: runs },
    );
  });
});

describe('uuidv5', () => {
  it('matches the RFC test vectors', () => {
    // RFC 9562 Appendix A.4.
    expect(uuidv5('www.example.com', NAMESPACES.dns)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    // The example of Python's uuid documentation (RFC 4122 DNS namespace).
    expect(uuidv5('python.org', NAMESPACES.dns)).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });

  it('agrees with the uuid package for random names and namespaces', () => {
    const namespace = fc.oneof(fc.constantFrom(...Object.values(NAMESPACES), SHOAL_RECORD_NAMESPACE), fc.uuid());
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), namespace, (name, ns) => {
        expect(uuidv5(name, ns)).toBe(referenceV5(name, ns));
      }),
      { numRuns: runs },
    );
  });

  it('gives a valid version 5, RFC variant id and accepts upper-case namespaces', () => {
    const id = uuidv5('shoal', NAMESPACES.url.toUpperCase());
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(5);
    expect(id).toBe(referenceV5('shoal', NAMESPACES.url));
    expect(() => uuidv5('x', 'not-a-uuid')).toThrow(/Not a UUID/);
  });
});

describe('recordIdFor', () => {
  const org = '0b6c9b0e-6f1e-4c1c-9d53-0b9d7f1f2a10';

  it('is the uuidv5 of the org and the normalized address in the Shoal namespace', () => {
    expect(recordIdFor(org, 'ana@acme.com')).toBe(referenceV5(`${org}:ana@acme.com`, SHOAL_RECORD_NAMESPACE));
  });

  it('gives one id however the address is written, and different ids across orgs and addresses', () => {
    const id = recordIdFor(org, 'ana@acme.com');
    expect(recordIdFor(org, '  Ana@ACME.com ')).toBe(id);
    expect(recordIdFor(org.toUpperCase(), '<ana@acme.com>')).toBe(id);
    expect(recordIdFor(org, 'ana@acme.org')).not.toBe(id);
    expect(recordIdFor('1b6c9b0e-6f1e-4c1c-9d53-0b9d7f1f2a10', 'ana@acme.com')).not.toBe(id);
  });
});
