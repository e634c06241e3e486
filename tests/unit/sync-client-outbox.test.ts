import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { fieldKey, MAPS } from '../../sync/doc/schema';
import { SyncClient } from '../../sync/client/client';
import { epochIn, isForeignEpoch } from '../../sync/client/epoch';
import { judgeWrite, type OutboxEntry, type SettledWrite } from '../../sync/client/outbox';
import { readEpoch } from '../../sync/client/read';
import { formatStamp } from '../../sync/hlc';
import { recordIdFor } from '../../sync/uuidv5';
import { DirectLink, FakeSyncServer, FROM_SERVER, threadSummary } from '../helpers/fake-sync-server';

const ORG = '0b6c5a52-3c1c-4d56-9a4e-1a2b3c4d5e6f';
const ANN = '7d9f1c2e-1111-4aaa-8bbb-000000000001';
const BOB = '7d9f1c2e-1111-4aaa-8bbb-000000000002';
const T1 = '00000000-0000-4000-8000-000000000001';
const T2 = '00000000-0000-4000-8000-000000000002';
const RECORD = '00000000-0000-4000-8000-0000000000aa';

interface Device {
  client: SyncClient;
  link: DirectLink;
  settled: SettledWrite[];
  /** Simulates the transport's acknowledgement: everything sent so far was reviewed. */
  acknowledge(): SettledWrite[];
}

function device(server: FakeSyncServer, userId: string, node: string, clock: { now: number }, clientID?: number): Device {
  const doc = new Y.Doc();
  if (clientID !== undefined) {
    doc.clientID = clientID;
  }
  const client = new SyncClient({ doc, orgId: ORG, node, now: () => clock.now, isServerOrigin: (o) => o === FROM_SERVER });
  const link = new DirectLink(server, userId, doc);
  const settled: SettledWrite[] = [];
  client.outbox.subscribe({ settled: (writes) => settled.push(...writes) });
  return { client, link, settled, acknowledge: () => client.acknowledge(client.outbox.lastSeq) };
}

function setup() {
  const server = new FakeSyncServer(ORG);
  server.addThread(T1, threadSummary('Quote', '2026-01-01T10:00:00.000Z'));
  server.addThread(T2, threadSummary('Renewal', '2026-01-02T10:00:00.000Z'));
  const clock = { now: Date.UTC(2026, 0, 3) };
  return { server, clock };
}

function outcomes(writes: readonly SettledWrite[]): string[] {
  return writes.map((w) => `${w.entry.key}:${w.outcome}`);
}

describe('outbox settlement', () => {
  it('keeps an accepted write pending until the server is known to have reviewed it', () => {
    const { server, clock } = setup();
    const ann = device(server, ANN, 'annPhone', clock);
    ann.link.connect();
    ann.client.setField(T1, 'status', 'done');
    // The server applied it and wrote nothing back: the local copy alone proves nothing.
    expect(server.log.at(-1)).toMatchObject({ key: fieldKey(T1, 'status'), outcome: 'applied' });
    expect(ann.client.pendingCount).toBe(1);
    expect(outcomes(ann.acknowledge())).toEqual([`${fieldKey(T1, 'status')}:applied`]);
    expect(ann.client.pendingCount).toBe(0);
  });

  it('reports a write that lost to a later one from someone else, with the winning value', () => {
    const { server, clock } = setup();
    const ann = device(server, ANN, 'annPhone', clock);
    const bob = device(server, BOB, 'bobLaptop', clock);
    ann.link.connect();
    bob.link.connect();
    ann.link.disconnect();
    ann.client.setField(T1, 'status', 'done');
    clock.now += 60_000;
    bob.client.setField(T1, 'status', 'pending');
    ann.link.connect();
    expect(outcomes(ann.settled)).toEqual([`${fieldKey(T1, 'status')}:lost`]);
    expect(ann.settled[0]?.canonical).toMatchObject({ v: 'pending' });
    expect(ann.client.field(T1, 'status')).toBe('pending');
    expect(ann.client.pendingCount).toBe(0);
    // Bob's own write: answered by nothing, acknowledged as applied.
    expect(outcomes(bob.acknowledge())).toEqual([`${fieldKey(T1, 'status')}:applied`]);
  });

  it('settles as applied when the later value is this device’s own', () => {
    const entry: OutboxEntry = { map: 'fields', key: 'k', value: null, hlc: formatStamp({ wallMs: 1, counter: 0, node: 'me' }), seq: 1 };
    const mineLater = { v: 1, hlc: formatStamp({ wallMs: 2, counter: 0, node: 'me' }) };
    const theirsLater = { v: 1, hlc: formatStamp({ wallMs: 2, counter: 0, node: 'them' }) };
    const older = { v: 1, hlc: formatStamp({ wallMs: 0, counter: 0, node: 'them' }) };
    expect(judgeWrite(entry, mineLater, 'answer')).toBe('applied');
    expect(judgeWrite(entry, theirsLater, 'answer')).toBe('lost');
    expect(judgeWrite(entry, { v: 1, hlc: entry.hlc }, 'answer')).toBeNull();
    expect(judgeWrite(entry, { v: 1, hlc: entry.hlc }, 'replay')).toBe('applied');
    expect(judgeWrite(entry, older, 'answer')).toBeNull();
    expect(judgeWrite(entry, older, 'reviewed')).toBe('refused');
    expect(judgeWrite(entry, undefined, 'reviewed')).toBe('refused');
  });

  it('reports a refused write once reviewed, and shows the canonical value', () => {
    const { server, clock } = setup();
    const ann = device(server, ANN, 'annPhone', clock);
    ann.link.connect();
    server.refuse = (_user, map) => map === MAPS.shareFlags;
    ann.client.setShareFlag(RECORD, true);
    // The compensation removed the flag: not an answer yet (it could be a stale copy).
    expect(ann.client.entries('shareFlags').has(RECORD)).toBe(false);
    expect(ann.client.pendingCount).toBe(1);
    expect(outcomes(ann.acknowledge())).toEqual([`${RECORD}:refused`]);
  });

  it('answers conversion requests in place; two offline people converting one sender get one record', () => {
    const { server, clock } = setup();
    const ann = device(server, ANN, 'annPhone', clock);
    const bob = device(server, BOB, 'bobLaptop', clock);
    const annAsk = ann.client.requestConversion('Buyer@Acme.test', 'lead');
    clock.now += 1000;
    const bobAsk = bob.client.requestConversion(' buyer@acme.test ', 'lead');
    // Offline, both already know the same key and the same record id.
    expect(annAsk.address).toBe(bobAsk.address);
    expect(annAsk.recordId).toBe(bobAsk.recordId);
    expect(annAsk.recordId).toBe(recordIdFor(ORG, 'buyer@acme.test'));
    bob.link.connect();
    ann.link.connect();
    expect(server.records.size).toBe(1);
    for (const person of [ann, bob]) {
      expect(person.client.entries('conversions').get('buyer@acme.test')).toMatchObject({ status: 'done', recordId: annAsk.recordId });
      expect(outcomes(person.settled)).toEqual(['buyer@acme.test:applied']);
    }
  });

  it('keeps an unanswered conversion pending even after review', () => {
    const { server, clock } = setup();
    const ann = device(server, ANN, 'annPhone', clock);
    ann.client.requestConversion('x@y.test', 'contact');
    expect(ann.acknowledge()).toEqual([]);
    expect(ann.client.pendingCount).toBe(1);
    server.refuse = () => true;
    ann.link.connect();
    expect(ann.acknowledge().map((w) => w.outcome)).toEqual(['refused']);
  });
});

describe('reconnecting', () => {
  function race(downFirst: boolean) {
    const { server, clock } = setup();
    // The phone's client id is the lowest, so Yjs ranks its item below any concurrent one.
    const phone = device(server, ANN, 'annPhone', clock, 1);
    const laptop = device(server, ANN, 'annLaptop', clock, 2 ** 31);
    phone.link.connect();
    laptop.link.connect();
    phone.link.disconnect();
    laptop.client.setField(T1, 'status', 'pending');
    clock.now += 60_000;
    phone.client.setField(T1, 'status', 'done');
    if (downFirst) {
      phone.link.connectDownFirst();
    } else {
      phone.link.connect();
    }
    return { server, phone, settled: phone.acknowledge() };
  }

  it('sends the device’s writes up before applying the server’s diff, so a later offline edit wins', () => {
    const { server, phone, settled } = race(false);
    expect(outcomes(settled)).toEqual([`${fieldKey(T1, 'status')}:applied`]);
    expect(phone.client.field(T1, 'status')).toBe('done');
    expect(server.canonicalFor(ANN, MAPS.fields, fieldKey(T1, 'status'))).toMatchObject({ v: 'done' });
  });

  it('would lose that edit the other way round: gc empties the local item before it is sent', () => {
    const { server, phone, settled } = race(true);
    expect(server.log.filter((w) => w.hlc?.endsWith('annPhone'))).toEqual([]);
    expect(phone.client.field(T1, 'status')).toBe('pending');
    expect(outcomes(settled)).toEqual([`${fieldKey(T1, 'status')}:refused`]);
  });
});

describe('epoch reset', () => {
  it('replays pending writes into the fresh document and never resends settled ones', () => {
    const { server, clock } = setup();
    const ann = device(server, ANN, 'annPhone', clock);
    ann.link.connect();
    const localEpoch = readEpoch(ann.client.doc);
    ann.client.setField(T1, 'status', 'pending');
    ann.acknowledge();
    // The server has this one but the device never heard so.
    ann.client.setField(T2, 'assignee', BOB);
    ann.link.disconnect();
    clock.now += 1000;
    ann.client.setField(T1, 'labels', ['eu']);
    ann.client.setField(T2, 'read', true);
    expect(ann.client.pendingCount).toBe(3);

    server.rebuild(ANN);
    // Merged into the old copy, the new epoch might not even show (Yjs picks by client id): look before applying.
    expect(ann.link.connect((diff) => !isForeignEpoch(diff, localEpoch))).toBe(false);
    expect(readEpoch(ann.client.doc)).toBe(localEpoch);

    // The device drops its copy, keeps its clock and outbox, and replays what the fresh copy lacks.
    const fresh = new Y.Doc();
    const next = new SyncClient({ doc: fresh, orgId: ORG, clock: ann.client.clock, outbox: ann.client.outbox, isServerOrigin: (o) => o === FROM_SERVER });
    ann.client.destroy();
    const throughSeq = next.outbox.lastSeq;
    const reviewedBefore = server.log.length;
    let replayed: ReturnType<SyncClient['replay']> | null = null;
    new DirectLink(server, ANN, fresh).connect(
      (diff) => epochIn(diff) === server.epochOf(ANN),
      () => {
        replayed = next.replay({ authoritative: true, throughSeq });
      },
    );
    const result = replayed as unknown as ReturnType<SyncClient['replay']>;
    expect(result.resent.map((e) => e.key)).toEqual([fieldKey(T1, 'labels'), fieldKey(T2, 'read')]);
    expect(outcomes(result.settled)).toEqual([`${fieldKey(T2, 'assignee')}:applied`]);
    // Only the two replayed writes reached the review again.
    expect(server.log.slice(reviewedBefore).map((w) => w.key).sort()).toEqual([fieldKey(T1, 'labels'), fieldKey(T2, 'read')].sort());
    next.acknowledge(throughSeq);
    expect(next.pendingCount).toBe(0);
    expect(next.field(T1, 'status')).toBe('pending');
    expect(next.field(T1, 'labels')).toEqual(['eu']);
    expect(next.field(T2, 'read')).toBe(true);
    expect(fresh.getMap(MAPS.fields).toJSON()).toEqual(server.docOf(ANN).getMap(MAPS.fields).toJSON());
  });

  it('replays into the device’s own copy only what it lacks, and settles nothing by its own stamp', () => {
    const { server, clock } = setup();
    const ann = device(server, ANN, 'annPhone', clock);
    ann.link.connect();
    ann.link.disconnect();
    ann.client.setField(T1, 'read', true);
    // A crash lost the document write but not the outbox entry.
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(server.docOf(ANN)), 'indexeddb');
    const restored = new SyncClient({ doc: copy, orgId: ORG, node: 'annPhone', outbox: ann.client.outbox, isServerOrigin: (o) => o === FROM_SERVER });
    expect(restored.replay({ authoritative: false }).resent).toHaveLength(1);
    expect(restored.replay({ authoritative: false })).toEqual({ resent: [], settled: [] });
    expect(restored.pendingCount).toBe(1);
  });
});
