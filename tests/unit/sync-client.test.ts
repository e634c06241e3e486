import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { FIELD_DEFAULTS, fieldKey, MAPS } from '../../sync/doc/schema';
import { compareStamps, formatStamp, parseStamp } from '../../sync/hlc';
import { createNodeId, NODE_ID_LENGTH } from '../../sync/client/clock';
import { SyncClient } from '../../sync/client/client';
import { readField, readThreads } from '../../sync/client/read';
import { watchEntries, watchThreads, type ThreadsChange } from '../../sync/client/watch';
import { LOCAL_WRITE, SyncWriteError, WRITE_ERROR_CODES } from '../../sync/client/write';
import { FROM_SERVER, threadSummary } from '../helpers/fake-sync-server';

const ORG = '0b6c5a52-3c1c-4d56-9a4e-1a2b3c4d5e6f';
const PERSON = '7d9f1c2e-1111-4aaa-8bbb-123456789abc';
const T = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const iso = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

/** A document as the server would have sent it, applied with the server's origin. */
function serverDoc(threads: [string, number][], fields: [string, unknown][] = []): Y.Doc {
  const source = new Y.Doc();
  source.transact(() => {
    source.getMap(MAPS.meta).set('epoch', 'e1');
    for (const [id, minute] of threads) {
      source.getMap(MAPS.threads).set(id, threadSummary(`Subject ${id.slice(-2)}`, iso(minute)));
    }
    for (const [key, value] of fields) {
      source.getMap(MAPS.fields).set(key, value);
    }
  });
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(source), FROM_SERVER);
  return doc;
}

function client(doc: Y.Doc, now = () => Date.UTC(2026, 0, 1)): SyncClient {
  return new SyncClient({ doc, orgId: ORG, node: 'deviceA', now, isServerOrigin: (o) => o === FROM_SERVER });
}

describe('reading the document', () => {
  it('lists threads newest first with their fields merged over the defaults', () => {
    const stamp = formatStamp({ wallMs: 5, counter: 0, node: 'srv' });
    const doc = serverDoc(
      [
        [T(1), 10],
        [T(2), 30],
        [T(3), 20],
      ],
      [
        [fieldKey(T(3), 'status'), { v: 'done', hlc: stamp }],
        [fieldKey(T(3), 'labels'), { v: ['eu'], hlc: stamp }],
        // Invalid values read as the default instead of reaching the UI.
        [fieldKey(T(1), 'status'), { v: 'archived', hlc: stamp }],
        [fieldKey(T(1), 'assignee'), 'not stamped'],
      ],
    );
    const threads = readThreads(doc);
    expect(threads.map((t) => t.id)).toEqual([T(2), T(3), T(1)]);
    expect(threads[1]?.fields).toEqual({ ...FIELD_DEFAULTS, status: 'done', labels: ['eu'] });
    expect(threads[2]?.fields).toEqual(FIELD_DEFAULTS);
    expect(readField(doc, T(3), 'status')).toBe('done');
    expect(readField(doc, T(9), 'read')).toBe(false);
    expect(client(doc).epoch).toBe('e1');
  });

  it('re-reads only touched threads and keeps the others identical', () => {
    const doc = serverDoc(Array.from({ length: 100 }, (_, i) => [T(i), i] as [string, number]));
    const calls: ThreadsChange[] = [];
    const stop = watchThreads(doc, (change) => calls.push(change));
    expect(calls[0]?.threads).toHaveLength(100);
    const before = calls[0]?.threads as readonly { id: string }[];
    const c = client(doc);
    c.setField(T(5), 'status', 'pending');
    const after = calls[1];
    expect(after?.changed).toEqual(new Set([T(5)]));
    expect(after?.threads).not.toBe(before);
    const changedIndex = after?.threads.findIndex((t) => t.id === T(5)) as number;
    expect(after?.threads[changedIndex]?.fields.status).toBe('pending');
    after?.threads.forEach((t, i) => {
      if (i !== changedIndex) {
        expect(t).toBe(before[i]);
      }
    });
    // New activity moves a thread to the top; a removed one leaves the list.
    doc.transact(() => {
      doc.getMap(MAPS.threads).set(T(7), threadSummary('moved', iso(500)));
      doc.getMap(MAPS.threads).delete(T(8));
    });
    expect(calls[2]?.threads[0]?.id).toBe(T(7));
    expect(calls[2]?.threads).toHaveLength(99);
    expect(calls[2]?.threads).toEqual(readThreads(doc));
    // A transaction on another map does not call the listener.
    doc.transact(() => doc.getMap(MAPS.people).set(PERSON, { name: 'A' }));
    expect(calls).toHaveLength(3);
    stop();
    c.setField(T(1), 'read', true);
    expect(calls).toHaveLength(3);
  });

  it('stays equal to a full read through many random changes', () => {
    const doc = serverDoc(Array.from({ length: 40 }, (_, i) => [T(i), i] as [string, number]));
    let latest: readonly unknown[] = [];
    watchThreads(doc, (change) => {
      latest = change.threads;
    });
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let step = 0; step < 300; step++) {
      const id = T(next() % 50);
      doc.transact(() => {
        const roll = next() % 3;
        if (roll === 0) {
          doc.getMap(MAPS.threads).delete(id);
        } else if (roll === 1) {
          doc.getMap(MAPS.threads).set(id, threadSummary(`s${step}`, iso(next() % 60)));
        } else {
          doc.getMap(MAPS.fields).set(fieldKey(id, 'status'), { v: 'done', hlc: formatStamp({ wallMs: step, counter: 0, node: 'x' }) });
        }
      });
      expect(latest).toEqual(readThreads(doc));
    }
  });

  it('watches other maps with the changed keys', () => {
    const doc = serverDoc([]);
    const seen: string[][] = [];
    watchEntries(doc, 'people', (_entries, changed) => seen.push([...changed]));
    doc.transact(() => doc.getMap(MAPS.people).set(PERSON, { name: 'Ann', email: 'a@x.test', role: 'rep', managerId: null, active: true }));
    expect(seen).toEqual([[], [PERSON]]);
  });
});

describe('local writes', () => {
  it('validates, stamps with the device clock and writes one local transaction', () => {
    const doc = serverDoc([[T(1), 1]]);
    const c = client(doc);
    const origins: unknown[] = [];
    doc.on('afterTransaction', (tr: Y.Transaction) => origins.push(tr.origin));
    const entry = c.setField(T(1), 'assignee', PERSON);
    expect(origins).toEqual([LOCAL_WRITE]);
    expect(entry?.map).toBe('fields');
    expect(parseStamp(entry?.hlc as string).node).toBe('deviceA');
    expect(doc.getMap(MAPS.fields).get(fieldKey(T(1), 'assignee'))).toEqual({ v: PERSON, hlc: entry?.hlc });
    expect(c.field(T(1), 'assignee')).toBe(PERSON);
    expect(c.pendingCount).toBe(1);
    // The same value again writes nothing; a default needs no write either.
    expect(c.setField(T(1), 'assignee', PERSON)).toBeNull();
    expect(c.setField(T(1), 'status', 'open')).toBeNull();
    expect(origins).toHaveLength(1);
  });

  it('refuses invalid values and unknown threads before writing', () => {
    const doc = serverDoc([[T(1), 1]]);
    const c = client(doc);
    const attempts: [() => unknown, string][] = [
      [() => c.setField(T(1), 'status', 'archived' as 'done'), WRITE_ERROR_CODES.invalidValue],
      [() => c.setField(T(1), 'assignee', 'bob'), WRITE_ERROR_CODES.invalidValue],
      [() => c.setField(T(1), 'labels', ['ok', '']), WRITE_ERROR_CODES.invalidValue],
      [() => c.setField(T(1), 'snoozeUntil', 'tomorrow'), WRITE_ERROR_CODES.invalidValue],
      [() => c.setField(T(2), 'read', true), WRITE_ERROR_CODES.unknownThread],
      [() => c.setShareFlag('record-1', true), WRITE_ERROR_CODES.invalidRecord],
      [() => c.requestConversion('not an address', 'lead'), WRITE_ERROR_CODES.invalidAddress],
      [() => c.requestConversion('a@b.test', 'deal' as 'lead'), WRITE_ERROR_CODES.invalidValue],
    ];
    for (const [attempt, code] of attempts) {
      expect(attempt).toThrow(SyncWriteError);
      try {
        attempt();
      } catch (error) {
        expect((error as SyncWriteError).code).toBe(code);
      }
    }
    expect(doc.getMap(MAPS.fields).size).toBe(0);
    expect(c.pendingCount).toBe(0);
  });

  it('writes share flags and conversion requests keyed by the normalized address', () => {
    const c = client(serverDoc([]));
    const record = T(42);
    expect(c.setShareFlag(record, false)).toBeNull();
    expect(c.setShareFlag(record, true)?.value).toMatchObject({ v: true });
    const request = c.requestConversion('  <Buyer@ACME.test> ', 'lead');
    expect(request.address).toBe('buyer@acme.test');
    expect(c.entries('conversions').get('buyer@acme.test')).toMatchObject({ type: 'lead', status: 'pending', recordId: null });
    // Asking again while pending writes nothing; asking for the other type does.
    expect(c.requestConversion('buyer@acme.test', 'lead').entry).toBeNull();
    expect(c.requestConversion('buyer@acme.test', 'contact').entry).not.toBeNull();
    expect(c.pendingCount).toBe(2);
  });
});

describe('the device clock', () => {
  it('moves past every stamp in incoming updates, so the next local write sorts later', () => {
    const wall = Date.UTC(2026, 0, 1);
    const doc = serverDoc([[T(1), 1]]);
    const c = client(doc, () => wall);
    const ahead = formatStamp({ wallMs: wall + 60_000, counter: 9, node: 'teammate' });
    const remote = new Y.Doc();
    remote.getMap(MAPS.shareFlags).set(T(5), { v: true, hlc: ahead });
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote), FROM_SERVER);
    const entry = c.setField(T(1), 'read', true);
    expect(compareStamps(parseStamp(entry?.hlc as string), parseStamp(ahead))).toBe(1);
  });

  it('starts ahead of the stamps the document and the outbox already hold', () => {
    const wall = Date.UTC(2026, 0, 1);
    const stored = formatStamp({ wallMs: wall + 1000, counter: 3, node: 'deviceA' });
    const doc = serverDoc([[T(1), 1]], [[fieldKey(T(1), 'status'), { v: 'done', hlc: stored }]]);
    const c = client(doc, () => wall);
    expect(compareStamps(c.clock.peek() ?? { wallMs: 0, counter: 0, node: 'a' }, parseStamp(stored))).toBe(1);
  });

  it('clamps a stamp from far in the future instead of following it', () => {
    const wall = Date.UTC(2026, 0, 1);
    const doc = serverDoc([[T(1), 1]]);
    const c = client(doc, () => wall);
    const remote = new Y.Doc();
    remote.getMap(MAPS.fields).set(fieldKey(T(1), 'status'), { v: 'done', hlc: formatStamp({ wallMs: wall + 10 * 86_400_000, counter: 0, node: 'liar' }) });
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote), FROM_SERVER);
    expect((c.clock.peek()?.wallMs ?? 0) - wall).toBeLessThanOrEqual(5 * 60_000);
  });

  it('creates node ids that the HLC accepts', () => {
    const id = createNodeId();
    expect(id).toMatch(new RegExp(`^[A-Za-z0-9_-]{${NODE_ID_LENGTH}}$`));
    expect(createNodeId()).not.toBe(id);
    expect(() => client(new Y.Doc())).not.toThrow();
  });
});
