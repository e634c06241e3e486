/**
 * @module tests/helpers/fake-sync-server
 * An in-memory stand-in for the sync server, for client tests: one Y.Doc per
 * person, a "Postgres" of canonical values, and a review that behaves like
 * the real policy — a write is applied when its stamp beats the canonical one
 * (nothing is written back), overruled or refused writes get the canonical
 * value written back, and conversion requests are answered in place with the
 * deterministic record id. Tests can refuse chosen writes and rebuild a
 * person's document under a new epoch.
 */
import * as Y from 'yjs';
import { compareStamps, tryParseStamp } from '../../sync/hlc';
import { checkFieldValue, DOC_SCHEMA_VERSION, isStamped, MAPS, parseFieldKey, type ConversionDoc, type MapName, type ThreadDoc, type ThreadSummary } from '../../sync/doc/schema';
import { encodeThread } from '../../sync/doc/thread-codec';
import { defineMaps } from '../../sync/client/epoch';
import { changedKeys } from '../../sync/client/read';
import { recordIdFor } from '../../sync/uuidv5';

/** Origin of everything a client applies from the fake server. */
export const FROM_SERVER = 'fake-server';

export interface Delivery {
  deliver(update: Uint8Array): void;
  /** The document was rebuilt under a new epoch: the link is cut. */
  reset?(): void;
}

export interface ReviewedWrite {
  userId: string;
  map: MapName;
  key: string;
  /** The written value's stamp, when it had a readable one. */
  hlc: string | null;
  outcome: 'applied' | 'lost' | 'refused';
}

const ALL_MAPS = Object.values(MAPS);

/** Items a transaction integrated, from the store ranges between its before and after states. */
function* addedItems(transaction: Y.Transaction): Generator<Y.Item> {
  for (const [client, after] of transaction.afterState) {
    const before = transaction.beforeState.get(client) ?? 0;
    const structs = transaction.doc.store.clients.get(client);
    if (after <= before || structs === undefined) {
      continue;
    }
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const struct = structs[i];
      if (struct === undefined || struct.id.clock >= after) {
        break;
      }
      if (struct instanceof Y.Item) {
        yield struct;
      }
    }
  }
}

function stampIn(value: unknown): string | null {
  const hlc = typeof value === 'object' && value !== null ? (value as { hlc?: unknown }).hlc : null;
  return typeof hlc === 'string' ? hlc : null;
}

function later(a: unknown, b: unknown): boolean {
  const left = typeof a === 'string' ? tryParseStamp(a) : null;
  const right = typeof b === 'string' ? tryParseStamp(b) : null;
  return left !== null && (right === null || compareStamps(left, right) > 0);
}

/** A stored thread (no owners or records: the fake's documents hold no people or records to name). */
export function threadSummary(subject: string, lastMessageAt: string, extra: Partial<ThreadSummary> = {}): ThreadDoc {
  return encodeThread({
    subject,
    snippet: `About ${subject}`,
    lastMessageAt,
    messageCount: 1,
    unreadCount: 1,
    from: { address: 'buyer@acme.test', name: 'Buyer' },
    participants: [],
    mailboxOwnerIds: [],
    recordIds: [],
    lane: 'not_in_crm',
    ...extra,
  }, { people: new Map(), records: new Map() });
}

export class FakeSyncServer {
  readonly orgId: string;
  readonly threads = new Map<string, ThreadDoc>();
  /** Canonical values by `${scope}|${key}`: the fake's Postgres. */
  readonly canonical = new Map<string, unknown>();
  /** Leads/contacts created by conversions, by record id. */
  readonly records = new Map<string, { type: string; address: string; createdBy: string }>();
  /** Every decided write, in order. */
  readonly log: ReviewedWrite[] = [];
  /** Return true to refuse a write the review would otherwise decide by stamp. */
  refuse: (userId: string, map: MapName, key: string, value: unknown) => boolean = () => false;
  readonly #docs = new Map<string, { doc: Y.Doc; epoch: string }>();
  readonly #links = new Map<string, Set<Delivery>>();
  #epochs = 0;

  constructor(orgId: string) {
    this.orgId = orgId;
  }

  /** The person's server-side document (built on first use). */
  docOf(userId: string): Y.Doc {
    return this.#hosted(userId).doc;
  }

  epochOf(userId: string): string {
    return this.#hosted(userId).epoch;
  }

  addThread(threadId: string, summary: ThreadDoc): void {
    this.threads.set(threadId, summary);
    for (const userId of this.#docs.keys()) {
      this.#write(userId, (doc) => doc.getMap(MAPS.threads).set(threadId, summary));
    }
  }

  /** The canonical value of a key in a person's document. */
  canonicalFor(userId: string, map: MapName, key: string): unknown {
    if (map === MAPS.threads) {
      return this.threads.get(key);
    }
    if (map === MAPS.meta) {
      return { schema: DOC_SCHEMA_VERSION, epoch: this.#hosted(userId).epoch, userId }[key];
    }
    return this.canonical.get(this.#slot(userId, map, key));
  }

  /** Rebuilds a person's document from canonical state under a new epoch (every link must reconnect). */
  rebuild(userId: string): void {
    const old = this.#docs.get(userId);
    old?.doc.destroy();
    this.#docs.delete(userId);
    const links = [...(this.#links.get(userId) ?? [])];
    this.#links.get(userId)?.clear();
    for (const link of links) {
      link.reset?.();
    }
    this.#hosted(userId);
  }

  link(userId: string, delivery: Delivery): () => void {
    const set = this.#links.get(userId) ?? new Set<Delivery>();
    this.#links.set(userId, set);
    set.add(delivery);
    return () => set.delete(delivery);
  }

  /**
   * Applies a client's update with the link as origin, then reviews every
   * value it wrote. The written values, not the visible ones: concurrent sets
   * of a key are ordered by Yjs by client id, so the visible value may be
   * someone else's older one while the author's later one lost that race.
   */
  receive(userId: string, update: Uint8Array, from: Delivery): void {
    const doc = this.docOf(userId);
    const written = new Map<string, { map: MapName; key: string; values: unknown[] }>();
    const collect = (transaction: Y.Transaction): void => {
      for (const name of ALL_MAPS) {
        for (const key of changedKeys(transaction, doc.getMap(name))) {
          const slot = `${name}|${key}`;
          written.set(slot, written.get(slot) ?? { map: name, key, values: [] });
        }
      }
      for (const item of addedItems(transaction)) {
        const name = ALL_MAPS.find((n) => (item.parent as unknown) === doc.getMap(n));
        if (name !== undefined && item.parentSub !== null && item.content instanceof Y.ContentAny) {
          written.get(`${name}|${item.parentSub}`)?.values.push(item.content.getContent().at(-1));
        }
      }
    };
    doc.on('afterTransaction', collect);
    Y.applyUpdate(doc, update, from);
    doc.off('afterTransaction', collect);
    for (const { map, key, values } of written.values()) {
      this.#review(userId, map, key, values);
    }
  }

  #review(userId: string, map: MapName, key: string, values: unknown[]): void {
    if (map === MAPS.conversions) {
      values.forEach((value) => this.#reviewConversion(userId, key, value));
    } else if (map === MAPS.fields || map === MAPS.shareFlags) {
      values.forEach((value) => this.#reviewStamped(userId, map, key, value));
    }
    // Whatever was written or deleted, the document must end on the canonical value.
    const visible = this.docOf(userId).getMap(map).get(key);
    if (JSON.stringify(visible) !== JSON.stringify(this.canonicalFor(userId, map, key))) {
      this.#restore(userId, map, key);
    }
  }

  #reviewStamped(userId: string, map: MapName, key: string, value: unknown): void {
    const parsed = map === MAPS.fields ? parseFieldKey(key) : null;
    const valid =
      isStamped(value) &&
      tryParseStamp(value.hlc) !== null &&
      (map === MAPS.shareFlags ? typeof value.v === 'boolean' : parsed !== null && this.threads.has(parsed.threadId) && checkFieldValue(parsed.field, value.v) === null);
    if (!valid || this.refuse(userId, map, key, value)) {
      this.log.push({ userId, map, key, hlc: stampIn(value), outcome: 'refused' });
      return;
    }
    const current = this.canonicalFor(userId, map, key);
    if (!later(value.hlc, isStamped(current) ? current.hlc : null)) {
      this.log.push({ userId, map, key, hlc: stampIn(value), outcome: 'lost' });
      return;
    }
    this.canonical.set(this.#slot(userId, map, key), value);
    this.log.push({ userId, map, key, hlc: stampIn(value), outcome: 'applied' });
    // Shared fields reach everyone else's document too.
    if (map === MAPS.fields && parsed?.field !== 'read') {
      for (const other of this.#docs.keys()) {
        if (other !== userId) {
          this.#write(other, (d) => d.getMap(map).set(key, value));
        }
      }
    }
  }

  #reviewConversion(userId: string, address: string, value: unknown): void {
    const request = value as Partial<ConversionDoc> | undefined;
    const current = this.canonicalFor(userId, MAPS.conversions, address) as ConversionDoc | undefined;
    const valid = request !== undefined && (request.type === 'lead' || request.type === 'contact') && request.status === 'pending';
    if (!valid || this.refuse(userId, MAPS.conversions, address, value)) {
      this.log.push({ userId, map: MAPS.conversions, key: address, hlc: stampIn(value), outcome: 'refused' });
      return;
    }
    if (!later(request.hlc, current?.hlc ?? null)) {
      this.log.push({ userId, map: MAPS.conversions, key: address, hlc: stampIn(value), outcome: 'lost' });
      return;
    }
    const recordId = recordIdFor(this.orgId, address);
    if (!this.records.has(recordId)) {
      this.records.set(recordId, { type: request.type as string, address, createdBy: userId });
    }
    const answer: ConversionDoc = { type: request.type as 'lead', hlc: request.hlc as string, status: 'done', recordId, reason: null };
    this.canonical.set(this.#slot(userId, MAPS.conversions, address), answer);
    this.log.push({ userId, map: MAPS.conversions, key: address, hlc: stampIn(value), outcome: 'applied' });
  }

  /** Compensates: writes the canonical value back (or deletes the key). */
  #restore(userId: string, map: MapName, key: string): void {
    const canonical = this.canonicalFor(userId, map, key);
    this.#write(userId, (doc) => {
      if (canonical === undefined) {
        doc.getMap(map).delete(key);
      } else {
        doc.getMap(map).set(key, canonical);
      }
    });
  }

  #write(userId: string, fn: (doc: Y.Doc) => void): void {
    const doc = this.docOf(userId);
    doc.transact(() => fn(doc), 'server');
  }

  #slot(userId: string, map: MapName, key: string): string {
    const personal = map !== MAPS.fields || parseFieldKey(key)?.field === 'read';
    return `${personal ? userId : '*'}|${map}|${key}`;
  }

  #hosted(userId: string): { doc: Y.Doc; epoch: string } {
    const existing = this.#docs.get(userId);
    if (existing !== undefined) {
      return existing;
    }
    this.#epochs += 1;
    const hosted = { doc: new Y.Doc(), epoch: `epoch-${this.#epochs}` };
    defineMaps(hosted.doc);
    this.#docs.set(userId, hosted);
    hosted.doc.transact(() => {
      const meta = hosted.doc.getMap(MAPS.meta);
      meta.set('schema', 1);
      meta.set('epoch', hosted.epoch);
      meta.set('userId', userId);
      for (const [id, summary] of this.threads) {
        hosted.doc.getMap(MAPS.threads).set(id, summary);
      }
      for (const [slot, value] of this.canonical) {
        const [scope, map, ...rest] = slot.split('|');
        if (scope === '*' || scope === userId) {
          hosted.doc.getMap(map as string).set(rest.join('|'), value);
        }
      }
    }, 'server');
    hosted.doc.on('update', (update: Uint8Array, origin: unknown) => {
      for (const link of this.#links.get(userId) ?? []) {
        if (link !== origin) {
          link.deliver(update);
        }
      }
    });
    return hosted;
  }
}

/**
 * A client document wired to the fake server in memory, like a socket:
 * online, local updates go up at once and server updates come down at once.
 */
export class DirectLink implements Delivery {
  online = false;
  readonly #server: FakeSyncServer;
  readonly #userId: string;
  readonly #doc: Y.Doc;
  #unlink: (() => void) | null = null;

  constructor(server: FakeSyncServer, userId: string, doc: Y.Doc) {
    this.#server = server;
    this.#userId = userId;
    this.#doc = doc;
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (this.online && origin !== FROM_SERVER) {
        this.#server.receive(this.#userId, update, this);
      }
    });
  }

  /**
   * Connects like the client's sync handshake: the server's diff is looked
   * at first (`accept` may refuse it, e.g. for another epoch), then the
   * client's diff goes up, and only then is the server's diff applied. Up
   * before down matters: applied first, a concurrent server value can win
   * the key by client id, and gc then empties the device's own unsent item,
   * so its value would never reach the server.
   * @returns false when `accept` refused the server's diff.
   */
  connect(accept: (diff: Uint8Array) => boolean = () => true, afterSync: () => void = () => {}): boolean {
    const serverDoc = this.#server.docOf(this.#userId);
    const down = Y.encodeStateAsUpdate(serverDoc, Y.encodeStateVector(this.#doc));
    if (!accept(down)) {
      return false;
    }
    const up = Y.encodeStateAsUpdate(this.#doc, Y.encodeStateVector(serverDoc));
    this.online = true;
    this.#unlink = this.#server.link(this.#userId, this);
    this.#server.receive(this.#userId, up, this);
    Y.applyUpdate(this.#doc, down, FROM_SERVER);
    afterSync();
    return true;
  }

  /** Connects the naive way, down before up, to show what goes wrong. */
  connectDownFirst(): void {
    const serverDoc = this.#server.docOf(this.#userId);
    Y.applyUpdate(this.#doc, Y.encodeStateAsUpdate(serverDoc, Y.encodeStateVector(this.#doc)), FROM_SERVER);
    this.online = true;
    this.#unlink = this.#server.link(this.#userId, this);
    this.#server.receive(this.#userId, Y.encodeStateAsUpdate(this.#doc, Y.encodeStateVector(serverDoc)), this);
  }

  disconnect(): void {
    this.online = false;
    this.#unlink?.();
    this.#unlink = null;
  }

  reset(): void {
    this.disconnect();
  }

  deliver(update: Uint8Array): void {
    if (this.online) {
      Y.applyUpdate(this.#doc, update, FROM_SERVER);
    }
  }
}
