/**
 * The document host's pure parts: bus messages survive the Redis text
 * encoding, the in-process hub delivers later and in order, requests time
 * out or settle once, changes of several transactions merge, writer ids are
 * never reused, and the in-memory lease table expires, renews and fences
 * like the Redis one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { createLocalHub, decodeBusMessage, encodeBusMessage, type BusEnvelope } from '../../server/sync/host/bus';
import { mergeChanges, type CapturedChanges } from '../../server/sync/host/changed-keys';
import { assignWriterId } from '../../server/sync/host/doc-store';
import { createMemoryLeaseTable } from '../../server/sync/host/leases';
import { REQUEST_OUTCOMES, Requests } from '../../server/sync/host/requests';

describe('bus messages', () => {
  it('round-trip through the text encoding with their bytes intact', () => {
    const update = new Uint8Array([0, 1, 2, 250, 255]);
    const sliced = new Uint8Array(new Uint8Array([9, 9, 1, 2, 3, 9]).buffer, 2, 3);
    const messages: BusEnvelope[] = [
      { kind: 'doc-update', from: 'p1', userId: 'u', epoch: 'e', seq: 7, update, origin: { userId: 'u', sessionId: 's', connectionId: 'c' } },
      { kind: 'client-update', from: 'p2', to: 'p1', requestId: 'r', userId: 'u', update: sliced, author: { userId: 'u', sessionId: 's', connectionId: 'c' } },
      { kind: 'ack', from: 'p1', to: 'p2', requestId: 'r', ok: false, reason: 'not_holder' },
      { kind: 'changes', from: 'p1', payload: { kind: 'thread-fields', threadIds: ['a', 'b'], nested: { n: 1 } } },
    ];
    for (const m of messages) {
      expect(decodeBusMessage(encodeBusMessage(m))).toEqual(m);
    }
    expect((decodeBusMessage(encodeBusMessage(messages[1] as BusEnvelope)) as { update: Uint8Array }).update).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('refuses text that is not one of ours', () => {
    expect(decodeBusMessage('not json')).toBeNull();
    expect(decodeBusMessage('{"kind":"doc-update"}')).toBeNull();
    expect(decodeBusMessage('null')).toBeNull();
  });

  it('are delivered by the in-process hub later, in order, to every member including the sender', async () => {
    const hub = createLocalHub();
    const a = hub.connect('a');
    const b = hub.connect('b');
    const seen: string[] = [];
    a.subscribe((m) => seen.push(`a<${m.from}:${(m as { payload: number }).payload}`));
    b.subscribe((m) => seen.push(`b<${m.from}:${(m as { payload: number }).payload}`));
    await a.publish({ kind: 'changes', payload: 1 });
    await b.publish({ kind: 'changes', payload: 2 });
    expect(seen).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['a<a:1', 'b<a:1', 'a<b:2', 'b<b:2']);
    await b.close();
    await a.publish({ kind: 'changes', payload: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen.slice(4)).toEqual(['a<a:3']);
  });
});

describe('requests over the bus', () => {
  it('settle with the answer of the process they were sent to, or time out', async () => {
    const hub = createLocalHub();
    const asking = hub.connect('asking');
    const holder = hub.connect('holder');
    const requests = new Requests(asking);
    const answering = new Requests(holder);
    asking.subscribe((m) => m.kind === 'ack' && m.to === 'asking' && requests.settle(m));
    holder.subscribe((m) => {
      if (m.kind === 'client-update' && m.to === 'holder') {
        void answering.answer(m, m.update.length > 0, 'empty');
      }
    });
    const author = { userId: 'u', sessionId: 's', connectionId: 'c' };
    expect(await requests.send('holder', { kind: 'client-update', userId: 'u', update: new Uint8Array([1]), author }, 1_000)).toBe(REQUEST_OUTCOMES.ok);
    expect(await requests.send('holder', { kind: 'client-update', userId: 'u', update: new Uint8Array(), author }, 1_000)).toBe(REQUEST_OUTCOMES.refused);
    expect(await requests.send('nobody', { kind: 'rebuild-request', userId: 'u' }, 30)).toBe(REQUEST_OUTCOMES.timeout);
    const pending = requests.send('nobody', { kind: 'rebuild-request', userId: 'u' }, 60_000);
    requests.close();
    expect(await pending).toBe(REQUEST_OUTCOMES.timeout);
  });
});

describe('changed keys', () => {
  it('merge later transactions: keys join, the first previous value stays, written values add up', () => {
    const into: CapturedChanges = { changed: new Map([['fields', new Set(['a'])]]), previous: new Map([['fields', new Map([['a', 1]])]]), written: new Map([['fields', new Map([['a', [2]]])]]) };
    mergeChanges(into, { changed: new Map([['fields', new Set(['a', 'b'])]]), previous: new Map([['fields', new Map<string, unknown>([['a', 2], ['b', undefined]])]]), written: new Map([['fields', new Map([['a', [3]]])]]) });
    expect([...(into.changed.get('fields') ?? [])]).toEqual(['a', 'b']);
    expect([...(into.previous?.get('fields') ?? [])]).toEqual([['a', 1], ['b', undefined]]);
    expect(into.written?.get('fields')?.get('a')).toEqual([2, 3]);
  });
});

describe('writer ids', () => {
  it('never reuse a client id the document already holds', () => {
    const doc = new Y.Doc();
    const other = new Y.Doc();
    other.getMap('m').set('k', 1);
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(other));
    doc.clientID = other.clientID;
    const id = assignWriterId(doc);
    expect(id).not.toBe(other.clientID);
    expect(doc.clientID).toBe(id);
    expect(assignWriterId(doc)).toBe(id);
  });
});

describe('the in-memory lease table', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('grants one holder until the TTL runs out, renews only the current token and releases only its own', async () => {
    const table = createMemoryLeaseTable({ ttlMs: 1_000, renewMs: 300, marginMs: 100 });
    const a = table.connect('a');
    const b = table.connect('b');
    const lease = await a.acquire('u');
    expect(lease?.validUntil).toBe(1_000_000 + 900);
    expect(await b.acquire('u')).toBeNull();
    expect(await b.holder('u')).toBe('a');
    vi.advanceTimersByTime(800);
    expect(await a.renew([lease as NonNullable<typeof lease>])).toEqual([]);
    vi.advanceTimersByTime(800);
    expect(await b.acquire('u')).toBeNull();
    vi.advanceTimersByTime(300);
    const taken = await b.acquire('u');
    expect(taken).not.toBeNull();
    expect(await a.renew([lease as NonNullable<typeof lease>])).toEqual([lease]);
    await a.release(lease as NonNullable<typeof lease>);
    expect(await a.holder('u')).toBe('b');
    await b.release(taken as NonNullable<typeof taken>);
    expect(await a.holder('u')).toBeNull();
  });
});
