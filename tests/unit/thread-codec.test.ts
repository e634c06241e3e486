/**
 * The compact thread layout: a summary survives encoding with the
 * document's refs, refs name the same entity for as long as a stored thread
 * uses them, and values of another layout are not read.
 */
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { refsAfter } from '../../server/sync/projection/refs';
import { MAPS, type ThreadSummary } from '../../sync/doc/schema';
import { decodeThread, encodeThread, heldRefs, readSummaries, refLookup, toSummaryTime } from '../../sync/doc/thread-codec';

const ANA = '00000000-0000-4000-8000-00000000000a';
const BEN = '00000000-0000-4000-8000-00000000000b';
const KIM = '00000000-0000-4000-8000-0000000000c1';
const LEE = '00000000-0000-4000-8000-0000000000c2';

const summary: ThreadSummary = {
  subject: 'Spring order',
  snippet: 'See the quote',
  lastMessageAt: '2026-11-23T09:00:07.000Z',
  messageCount: 3,
  unreadCount: 1,
  from: { address: 'kim@customer.test', name: 'Kim' },
  participants: [
    { address: 'ana@corp.test', name: null },
    { address: 'kim@customer.test', name: 'Kim' },
  ],
  mailboxOwnerIds: [ANA, BEN],
  recordIds: [KIM, LEE],
  lane: 'contacts_leads',
};

const tables = { people: new Map([[ANA, 1], [BEN, 2]]), records: new Map([[KIM, 7], [LEE, 3]]) };
const lookupOf = (t: typeof tables) => ({
  people: new Map([...t.people].map(([id, ref]) => [ref, id])),
  records: new Map([...t.records].map(([id, ref]) => [ref, id])),
});

describe('thread codec', () => {
  it('stores ids as refs and the sender as an index, and reads back the same summary', () => {
    const stored = encodeThread(summary, tables);
    expect(stored).toEqual({
      s: 'Spring order', n: 'See the quote', t: Date.parse(summary.lastMessageAt) / 1000, c: 3, u: 1,
      p: ['ana@corp.test', ['kim@customer.test', 'Kim']], f: 1, o: [1, 2], r: [7, 3], l: 'contacts_leads',
    });
    expect(decodeThread(stored, lookupOf(tables))).toEqual(summary);
  });

  it('keeps a sender that is not among the (capped) participants, or whose name differs, as a party', () => {
    const other = { ...summary, from: { address: 'new@customer.test', name: null } };
    expect(encodeThread(other, tables).f).toBe('new@customer.test');
    expect(decodeThread(encodeThread(other, tables), lookupOf(tables))?.from).toEqual(other.from);
    const renamed = { ...summary, from: { address: 'kim@customer.test', name: 'Kim K.' } };
    expect(decodeThread(encodeThread(renamed, tables), lookupOf(tables))?.from).toEqual(renamed.from);
    expect(decodeThread(encodeThread({ ...summary, from: null }, tables), lookupOf(tables))?.from).toBeNull();
  });

  it('leaves out ids without a ref when writing and refs nobody holds when reading', () => {
    expect(encodeThread(summary, { people: new Map([[BEN, 2]]), records: new Map() })).toMatchObject({ o: [2], r: [] });
    const read = decodeThread(encodeThread(summary, tables), { people: new Map([[2, BEN]]), records: new Map([[3, LEE]]) });
    expect(read).toMatchObject({ mailboxOwnerIds: [BEN], recordIds: [LEE] });
  });

  it('keeps whole seconds, so what is compared is what is stored', () => {
    expect(toSummaryTime(new Date('2026-11-23T09:00:07.989Z'))).toBe('2026-11-23T09:00:07.000Z');
  });

  it('does not read a value of another layout (schema 1 stored the summary itself)', () => {
    expect(decodeThread(summary, lookupOf(tables))).toBeNull();
    expect(decodeThread({ ...encodeThread(summary, tables), t: 'yesterday' }, lookupOf(tables))).toBeNull();
    expect(decodeThread(null, lookupOf(tables))).toBeNull();
  });
});

describe('refs in a document', () => {
  function docWith(records: Record<string, number>, threads: Record<string, number[]>): Y.Doc {
    const doc = new Y.Doc();
    doc.transact(() => {
      Object.entries(records).forEach(([id, ref]) => doc.getMap(MAPS.records).set(id, { ref, type: 'contact', name: id, company: '', ownerId: ANA, primaryEmail: null }));
      Object.entries(threads).forEach(([id, r]) => doc.getMap(MAPS.threads).set(id, { ...encodeThread(summary, tables), o: [], r }));
    });
    return doc;
  }

  it('keeps the refs of entries that stay and gives newcomers the lowest free ones', () => {
    const doc = docWith({ a: 1, b: 2, c: 4 }, { t1: [1, 4] });
    expect(refsAfter(doc, MAPS.records, ['a', 'c', 'y', 'x'])).toEqual(new Map([['a', 1], ['c', 4], ['x', 2], ['y', 3]]));
  });

  it('never gives a ref a stored thread still names, even when its record left', () => {
    const doc = docWith({ a: 1 }, { t1: [2] });
    expect(refsAfter(doc, MAPS.records, ['a', 'n'])).toEqual(new Map([['a', 1], ['n', 3]]));
  });

  it('reads refs one to one whatever a client wrote: invalid and repeated refs are not held', () => {
    const doc = docWith({ a: 1, b: 1, c: 0 }, {});
    doc.getMap(MAPS.records).set('d', { ref: 'x' });
    expect(heldRefs(doc.getMap(MAPS.records))).toEqual(new Map([['a', 1]]));
    expect(refsAfter(doc, MAPS.records, ['a', 'b', 'c'])).toEqual(new Map([['a', 1], ['b', 2], ['c', 3]]));
  });

  it('decodes every thread of a document against its records and people', () => {
    const doc = docWith({ [KIM]: 7, [LEE]: 3 }, { t1: [3, 7, 9] });
    doc.getMap(MAPS.people).set(ANA, { ref: 1, name: 'Ana', email: 'ana@corp.test', role: 'rep', managerId: null, active: true });
    doc.getMap(MAPS.threads).set('t2', { o: [1], r: [7], l: 'deals', t: 5, c: 1, u: 0, s: 'x', n: 'y', p: [], f: null });
    const read = readSummaries(doc, refLookup(doc));
    expect(read.get('t1')?.recordIds).toEqual([LEE, KIM]);
    expect(read.get('t2')).toMatchObject({ mailboxOwnerIds: [ANA], recordIds: [KIM], lastMessageAt: '1970-01-01T00:00:05.000Z', from: null });
  });
});
