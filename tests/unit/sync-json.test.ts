/**
 * Comparing document values: `sameJson` agrees with comparing key-sorted
 * JSON texts (the oracle) on JSON values, in any key order, and never
 * throws on content a client can forge (lib0 encodes bigint, binary,
 * undefined, NaN), which equals only itself. `isPlainJson` tells that
 * content apart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { isPlainJson, sameJson } from '../../sync/doc/json';
import { canonicalJson } from '../helpers/canonical-json';

const runs = Number(process.env.PROPERTY_RUNS ?? 300);

/** The same value with every object's keys in reverse order. */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(reordered);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reordered(v)]));
  }
  return value;
}

const json = fc.jsonValue({ maxDepth: 3 });
const forged = fc.constantFrom<unknown>(10n, new Uint8Array([1]), undefined, Number.NaN, Number.NEGATIVE_INFINITY, { v: 1n }, [undefined], new Y.Map(), new Date(0));

describe('sameJson', () => {
  it('agrees with comparing key-sorted JSON texts, whatever the key order', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(sameJson(a, b)).toBe(canonicalJson(a) === canonicalJson(b));
        expect(sameJson(a, reordered(a))).toBe(true);
        expect(sameJson(reordered(a), b)).toBe(sameJson(a, b));
      }),
      { numRuns: runs },
    );
  });

  it('leaves out properties holding undefined, as JSON does', () => {
    expect(sameJson({ v: 'done', hlc: '1', extra: undefined }, { hlc: '1', v: 'done' })).toBe(true);
    expect(sameJson({ v: 'done' }, { v: 'done', hlc: undefined })).toBe(true);
    expect(sameJson({ v: 'done' }, { v: 'open' })).toBe(false);
  });

  it('never throws on forged content, which equals only itself', () => {
    fc.assert(
      fc.property(forged, json, (bad, good) => {
        expect(sameJson(bad, bad)).toBe(true);
        expect(sameJson(bad, good)).toBe(false);
        expect(sameJson(good, bad)).toBe(false);
        expect(sameJson({ v: bad, hlc: '1' }, { v: good, hlc: '1' })).toBe(false);
      }),
      { numRuns: runs },
    );
    expect(sameJson(10n, 10n)).toBe(true);
    expect(sameJson({ v: 1n }, { v: 1n })).toBe(true);
  });
});

describe('isPlainJson', () => {
  it('holds for JSON values and for nothing JSON would refuse or change', () => {
    fc.assert(
      fc.property(json, forged, (good, bad) => {
        expect(isPlainJson(good)).toBe(true);
        expect(isPlainJson(bad)).toBe(false);
        expect(isPlainJson({ v: bad, hlc: '1' })).toBe(false);
        expect(isPlainJson([good, bad])).toBe(false);
      }),
      { numRuns: runs },
    );
  });
});
