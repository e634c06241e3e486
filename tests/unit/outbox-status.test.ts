/**
 * What the outbox says about a message: the status words in the thread
 * and the indicator, the one-line summary, and the counts.
 */
import { describe, expect, it } from 'vitest';
import { entryStatus, entrySummary, outboxCounts } from '../../app/src/lib/outbox/status-text';
import type { Draft } from '../../app/src/lib/outbox/types';

const draft = (over: Partial<Draft> = {}): Draft => ({
  key: 'new:x',
  mode: 'new',
  threadId: null,
  replyToMessageId: null,
  accountId: 'a',
  from: 'rita@acme.test',
  to: [{ address: 'carol@customer.test', name: 'Carol' }],
  cc: [],
  bcc: [],
  subject: 'Pricing',
  text: '',
  updatedAt: 0,
  ...over,
});

describe('outbox words', () => {
  it('says where each message stands, offline and online', () => {
    expect(entryStatus({ status: 'queued', error: null }, false)).toEqual({ label: 'Queued (offline)', tone: 'warning' });
    expect(entryStatus({ status: 'queued', error: null }, true)).toEqual({ label: 'Sending…', tone: 'neutral' });
    expect(entryStatus({ status: 'queued', error: 'Shoal ran into a problem.' }, true).label).toBe('Queued: will retry (Shoal ran into a problem.)');
    expect(entryStatus({ status: 'sending', error: null }, true).label).toBe('Sending…');
    expect(entryStatus({ status: 'sent', error: null }, false)).toEqual({ label: 'Sent', tone: 'success' });
    expect(entryStatus({ status: 'failed', error: 'to: must be an email address' }, true)).toEqual({ label: 'Failed: to: must be an email address', tone: 'danger' });
    expect(entryStatus({ status: 'unconfirmed', error: 'Check your Sent folder.' }, true).label).toBe('Not confirmed: Check your Sent folder.');
  });

  it('summarizes recipients (two, then a count) and the subject of new mail and forwards only', () => {
    expect(entrySummary({ draft: draft() })).toBe('To Carol <carol@customer.test> · Pricing');
    const many = draft({ mode: 'reply', cc: [{ address: 'dave@customer.test', name: '' }], bcc: [{ address: 'boss@acme.test', name: '' }] });
    expect(entrySummary({ draft: many })).toBe('To Carol <carol@customer.test>, dave@customer.test +1');
  });

  it('counts what waits and what needs attention', () => {
    const statuses = ['queued', 'sending', 'sent', 'failed', 'unconfirmed'] as const;
    expect(outboxCounts(statuses.map((status) => ({ status })))).toEqual({ waiting: 2, failed: 2 });
    expect(outboxCounts([])).toEqual({ waiting: 0, failed: 0 });
  });
});
