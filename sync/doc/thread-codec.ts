/**
 * @module sync/doc/thread-codec
 * ThreadSummary ⇄ ThreadDoc, and the refs that let a thread name its
 * records and mailbox owners by a small number instead of a uuid. A ref
 * belongs to one document: the server gives it when a record or person
 * enters the document and keeps it while it stays, so a thread's encoding
 * never changes under it. Pure: both the server's writer and the client's
 * reads use it.
 */
import type * as Y from 'yjs';
import {
  MAPS,
  THREAD_LANES,
  type Party,
  type StoredParty,
  type ThreadDoc,
  type ThreadSummary,
} from './schema';

/** Ids to refs, for encoding. An id without a ref is left out of the thread. */
export interface RefTables {
  people: ReadonlyMap<string, number>;
  records: ReadonlyMap<string, number>;
}

/** Refs to ids, for decoding. A ref nothing holds is left out. */
export interface RefLookup {
  people: ReadonlyMap<number, string>;
  records: ReadonlyMap<number, string>;
}

function isRef(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/**
 * The refs a map's values hold, by key. A value without a valid ref, or
 * with one an earlier key (in key order) holds, is left out, so the result
 * is a one-to-one table whatever a client wrote into its copy.
 */
export function heldRefs(map: Pick<Y.Map<unknown>, 'keys' | 'get'>): Map<string, number> {
  const out = new Map<string, number>();
  const taken = new Set<number>();
  for (const key of [...map.keys()].sort()) {
    const ref = (map.get(key) as { ref?: unknown } | undefined)?.ref;
    if (isRef(ref) && !taken.has(ref)) {
      out.set(key, ref);
      taken.add(ref);
    }
  }
  return out;
}

function inverse(table: ReadonlyMap<string, number>): Map<number, string> {
  return new Map([...table].map(([id, ref]) => [ref, id]));
}

/** The lookup of a document's current records and people. */
export function refLookup(doc: Y.Doc): RefLookup {
  return {
    people: inverse(heldRefs(doc.getMap<unknown>(MAPS.people))),
    records: inverse(heldRefs(doc.getMap<unknown>(MAPS.records))),
  };
}

/** The tables of a document's current records and people. */
export function refTables(doc: Y.Doc): RefTables {
  return { people: heldRefs(doc.getMap<unknown>(MAPS.people)), records: heldRefs(doc.getMap<unknown>(MAPS.records)) };
}

/** Whole seconds, so what is stored and what is compared agree. */
export function toSummaryTime(at: Date): string {
  return new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString();
}

function storeParty(p: Party): StoredParty {
  return p.name === null ? p.address : [p.address, p.name];
}

function refsOf(ids: readonly string[], table: ReadonlyMap<string, number>): number[] {
  return ids.flatMap((id) => {
    const ref = table.get(id);
    return ref === undefined ? [] : [ref];
  });
}

export function encodeThread(summary: ThreadSummary, refs: RefTables): ThreadDoc {
  const from = summary.from;
  const at = from === null ? -1 : summary.participants.findIndex((p) => p.address === from.address && p.name === from.name);
  return {
    s: summary.subject,
    n: summary.snippet,
    t: Math.floor(Date.parse(summary.lastMessageAt) / 1000),
    c: summary.messageCount,
    u: summary.unreadCount,
    p: summary.participants.map(storeParty),
    f: from === null ? null : at >= 0 ? at : storeParty(from),
    o: refsOf(summary.mailboxOwnerIds, refs.people),
    r: refsOf(summary.recordIds, refs.records),
    l: summary.lane,
  };
}

function readParty(value: unknown): Party | null {
  if (typeof value === 'string') {
    return { address: value, name: null };
  }
  if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string') {
    return { address: value[0], name: value[1] };
  }
  return null;
}

function idsOf(refs: unknown, lookup: ReadonlyMap<number, string>): string[] | null {
  if (!Array.isArray(refs)) {
    return null;
  }
  return refs.flatMap((ref: unknown) => {
    const id = isRef(ref) ? lookup.get(ref) : undefined;
    return id === undefined ? [] : [id];
  });
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * The summary a stored thread stands for, or null when the value is not a
 * ThreadDoc (a copy of another layout: it is not read, the server's next
 * sync replaces it).
 */
export function decodeThread(value: unknown, lookup: RefLookup): ThreadSummary | null {
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const v = value as Partial<Record<keyof ThreadDoc, unknown>>;
  const participants = Array.isArray(v.p) ? v.p.map(readParty) : null;
  const owners = idsOf(v.o, lookup.people);
  const records = idsOf(v.r, lookup.records);
  if (
    typeof v.s !== 'string' || typeof v.n !== 'string' || !isCount(v.t) || !isCount(v.c) || !isCount(v.u) ||
    participants === null || participants.includes(null) || owners === null || records === null ||
    !(THREAD_LANES as readonly unknown[]).includes(v.l)
  ) {
    return null;
  }
  const parties = participants as Party[];
  const from = typeof v.f === 'number' ? (parties[v.f] ?? null) : readParty(v.f);
  return {
    subject: v.s,
    snippet: v.n,
    lastMessageAt: new Date(v.t * 1000).toISOString(),
    messageCount: v.c,
    unreadCount: v.u,
    from,
    participants: parties,
    mailboxOwnerIds: owners,
    recordIds: records,
    lane: v.l as ThreadSummary['lane'],
  };
}

/** Every thread a document holds, decoded (what the server compares a refresh against). */
export function readSummaries(doc: Y.Doc, lookup: RefLookup = refLookup(doc)): Map<string, ThreadSummary> {
  const out = new Map<string, ThreadSummary>();
  for (const [id, value] of doc.getMap<unknown>(MAPS.threads).entries()) {
    const summary = decodeThread(value, lookup);
    if (summary !== null) {
      out.set(id, summary);
    }
  }
  return out;
}
