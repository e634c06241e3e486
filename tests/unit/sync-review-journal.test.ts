/**
 * The review journal: what a client's update changed, stored as JSON beside
 * it until decided. Forged content JSON cannot hold (or would change) turns
 * into the FORGED_CONTENT marker when written and is left out when it was
 * the earlier value; JSON values come back as they went.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { decodeChanges, encodeChanges, FORGED_CONTENT } from '../../server/sync/host/review-journal';

describe('review journal', () => {
  it('keeps JSON values and marks or leaves out forged content, without throwing', () => {
    const written = new Map<string, unknown[]>([
      ['t1|status', [{ v: 'done', hlc: '1' }, { v: 1n, hlc: '2' }]],
      ['t2|labels', [{ v: [undefined], hlc: '1' }]],
      ['t3|read', [new Uint8Array([1]), Number.NaN, undefined, new Y.Map()]],
    ]);
    const previous = new Map<string, unknown>([
      ['a', { subject: 'kept' }],
      ['b', 10n],
      ['c', { subject: Number.POSITIVE_INFINITY }],
    ]);
    const text = encodeChanges({
      changed: new Map([
        ['fields', new Set(written.keys())],
        ['threads', new Set(previous.keys())],
      ]),
      previous: new Map([['threads', previous]]),
      written: new Map([['fields', written]]),
    });
    const back = decodeChanges(JSON.parse(text));
    expect([...(back.changed.get('fields') ?? [])]).toEqual(['t1|status', 't2|labels', 't3|read']);
    expect(Object.fromEntries(back.written?.get('fields') ?? [])).toEqual({
      't1|status': [{ v: 'done', hlc: '1' }, FORGED_CONTENT],
      't2|labels': [FORGED_CONTENT],
      't3|read': [FORGED_CONTENT, FORGED_CONTENT, FORGED_CONTENT, FORGED_CONTENT],
    });
    expect(Object.fromEntries(back.previous?.get('threads') ?? [])).toEqual({ a: { subject: 'kept' } });
  });
});
