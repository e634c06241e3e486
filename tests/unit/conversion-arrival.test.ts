/**
 * Which mail a conversion rule may fire for: what arrived once the rule
 * existed, to the second IMAP's INTERNALDATE has, and not old mail that a
 * server received only now (an import, an APPEND).
 */
import { describe, expect, it } from 'vitest';
import { arrivedAfter } from '../../server/conversion/apply-rules';

const rule = { createdAt: new Date('2026-12-06T22:49:01.084Z') };
const at = (iso: string) => new Date(iso);

describe('arrivedAfter', () => {
  it('counts mail that arrived in the second the rule was made (INTERNALDATE has no milliseconds)', () => {
    expect(arrivedAfter(rule, { receivedAt: at('2026-12-06T22:49:01Z'), sentAt: at('2026-12-06T22:49:00Z') })).toBe(true);
  });

  it('leaves out mail that arrived a second before the rule', () => {
    expect(arrivedAfter(rule, { receivedAt: at('2026-12-06T22:49:00Z'), sentAt: null })).toBe(false);
  });

  it('leaves out old mail received now, and keeps mail sent within a day of the rule', () => {
    expect(arrivedAfter(rule, { receivedAt: at('2026-12-06T23:00:00Z'), sentAt: at('2019-03-04T10:00:00Z') })).toBe(false);
    expect(arrivedAfter(rule, { receivedAt: at('2026-12-06T23:00:00Z'), sentAt: at('2026-12-06T08:00:00Z') })).toBe(true);
  });
});
