/**
 * @module tests/helpers/sync-host
 * Fixtures for the document host suites: people to own documents, a
 * builder that writes a known projection, a recording edit policy, fast
 * lease timings, a Db wrapper that records when updates reach Postgres, and
 * "processes" (hosts with their own bus connection, leases and Db pool).
 */
import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { openDb } from '../../db';
import { splitUpdates } from '../../db/queries/sync-docs-batch';
import type { Db, Queryable } from '../../db/types';
import { createLogger } from '../../server/logger';
import type { BuildDoc } from '../../server/sync/host/doc-store';
import type { DocHostOptions } from '../../server/sync/host/options';
import type { Author, EditPolicy, HostedDoc, ReviewContext } from '../../server/sync/types';
import { MAPS } from '../../sync/doc/schema';

export const quietLog = createLogger(process.env.SYNC_HOST_LOG ?? 'silent');

/** Lease and sweep timings short enough for a test to watch a takeover. */
export const FAST: Partial<DocHostOptions> = {
  lease: { ttlMs: 1_000, renewMs: 250, marginMs: 200 },
  sweepMs: 300,
  ackTimeoutMs: 500,
  forwardDeadlineMs: 8_000,
};

/** An organization with `n` people. @returns their ids. */
export async function insertPeople(q: Queryable, n: number): Promise<string[]> {
  const orgId = randomUUID();
  await q.query(`insert into organizations (id, name) values ($1, 'Sync host org')`, [orgId]);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    await q.query(`insert into users (id, org_id, email, name, password_hash, role) values ($1, $2, $3, $4, 'x', 'rep')`, [
      id,
      orgId,
      `${id}@host.test`,
      `Person ${i}`,
    ]);
    ids.push(id);
  }
  return ids;
}

/** A builder that writes `threads` keys t0…t{n-1} and counts its calls. */
export function testBuilder(threads = 3): BuildDoc & { calls: number } {
  const build = async (userId: string, hosted: HostedDoc) => {
    build.calls += 1;
    await hosted.write((doc) => {
      const map = doc.getMap<unknown>(MAPS.threads);
      for (let i = 0; i < threads; i++) {
        map.set(`t${i}`, { subject: `Thread ${i} of ${userId.slice(0, 8)}`, build: build.calls });
      }
    });
  };
  build.calls = 0;
  return build;
}

export interface Review {
  userId: string;
  author: Author;
  changed: Map<string, Set<string>>;
  context: ReviewContext | undefined;
}

/** Records every review; `compensate` may write back through the hosted document like the real policy. */
export function recordingPolicy(compensate?: (hosted: HostedDoc, changed: ReadonlyMap<string, ReadonlySet<string>>) => Promise<void>): EditPolicy & { reviews: Review[] } {
  const reviews: Review[] = [];
  return {
    reviews,
    async review(hosted, author, changed, context) {
      reviews.push({ userId: hosted.userId, author, changed: new Map([...changed].map(([k, v]) => [k, new Set(v)])), context });
      await compensate?.(hosted, changed);
    },
  };
}

export function author(userId: string, connectionId: string = randomUUID()): Author {
  return { userId, sessionId: 'session-' + connectionId.slice(0, 8), connectionId };
}

/** Everything a document shows, as JSON, to compare two copies. */
export function docJson(doc: Y.Doc): Record<string, unknown> {
  return Object.fromEntries(Object.values(MAPS).map((name) => [name, doc.getMap(name).toJSON()]));
}

/** The client ids of a document's state vector. */
export function clientIds(doc: Y.Doc): number[] {
  return [...Y.decodeStateVector(Y.encodeStateVector(doc)).keys()].sort((a, b) => a - b);
}

/** A client document that makes edits and hands out each one's update. */
export class TestClient {
  readonly doc = new Y.Doc({ gc: true });
  private readonly updates: Uint8Array[] = [];

  constructor() {
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') {
        this.updates.push(update);
      }
    });
  }

  /** Sets a `fields` key; @returns the update it made. */
  set(key: string, v: unknown): Uint8Array {
    this.doc.getMap<unknown>(MAPS.fields).set(key, { v, hlc: `${Date.now()}` });
    return this.updates.at(-1) as Uint8Array;
  }

  receive(update: Uint8Array): void {
    Y.applyUpdate(this.doc, update, 'remote');
  }
}

export interface RecordingDb extends Db {
  /** Every update that reached `sync_doc_updates`, in commit order. */
  readonly appended: Uint8Array[];
  /** Extra latency for each append, to widen races. */
  appendDelayMs: number;
}

/**
 * The updates an append statement stored: its one update, or those of the rows a batched append returned (arrays
 * of users and writers, and the updates joined in one text).
 */
function storedUpdates(text: string, params: readonly unknown[], rows: readonly object[]): Uint8Array[] {
  if (!text.includes('unnest(')) {
    return [params[2] as Uint8Array];
  }
  const stored = new Set(rows.map((r) => (r as { user_id?: string }).user_id));
  const [users, , joined] = params as [string[], string[], string];
  const updates = splitUpdates(joined);
  return users.flatMap((userId, i) => (stored.has(userId) ? [updates[i] as Uint8Array] : []));
}

/** Whether `log` holds an update with these bytes (a batched append stores a copy, so identity cannot tell). */
export function holdsUpdate(log: readonly Uint8Array[], update: Uint8Array): boolean {
  return log.some((u) => u.length === update.length && u.every((b, i) => b === update[i]));
}

/** Wraps a Db so a test sees when (and what) updates reach Postgres; several wrappers may share one log. */
export function recordingDb(db: Db, appended: Uint8Array[] = []): RecordingDb {
  const wrapped: RecordingDb = {
    ...db,
    appended,
    appendDelayMs: 0,
    async query<Row extends object>(text: string, params?: readonly unknown[]): Promise<Row[]> {
      const isAppend = text.includes('insert into sync_doc_updates');
      if (isAppend && wrapped.appendDelayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, wrapped.appendDelayMs));
      }
      const rows = await db.query<Row>(text, params);
      if (isAppend && rows.length > 0) {
        appended.push(...storedUpdates(text, params ?? [], rows));
      }
      return rows;
    },
  };
  return wrapped;
}

/** A second pool on the same Postgres database, as another process would open. */
export async function secondPool(db: Db, serverUrl: string): Promise<Db> {
  const [row] = await db.query<{ name: string }>('select current_database() as name');
  const url = new URL(serverUrl);
  url.pathname = `/${row?.name ?? ''}`;
  return openDb({ databaseUrl: url.toString() });
}

/** Deletes a namespace's Redis keys after a test. */
export async function dropRedisNamespace(url: string, namespace: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  const keys = await redis.keys(`${namespace}:*`);
  if (keys.length > 0) {
    await redis.del(...keys);
  }
  redis.disconnect();
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, label = 'condition'): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}
