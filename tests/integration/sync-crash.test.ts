/**
 * `kill -9` of the whole server right after it acknowledged edits loses none
 * of them (issue 5). A child process runs Shoal as `npm start` does (boot,
 * migrations, the sync engine, `/sync`); a client edits thread fields and
 * waits for each acknowledgement: the SyncStep2 answering the SyncStep1 it
 * sent after the edit, which the server sends only once the update is stored
 * and the edit policy's transaction committed (and which carries the
 * canonical value back). Right after the last acknowledgement, with one more
 * edit in flight, the test SIGKILLs the server, starts another on the same
 * database, and a fresh client connects: every acknowledged edit is in the
 * canonical tables, in the write log and in the document, and the document
 * shows exactly what Postgres holds (the in-flight edit either made it
 * everywhere or nowhere). Several kills per run; seeded (SHOAL_TEST_SEED),
 * edits per round from SYNC_CRASH_EDITS. Postgres and file-backed PGlite.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { migrate, openDb, type Db } from '../../db';
import { createSession } from '../../server/auth/session';
import { fieldKey, MAPS, type ThreadField } from '../../sync/doc/schema';
import { formatStamp } from '../../sync/hlc';
import { TEST_ORIGIN } from '../helpers/app';
import { createPostgresDb, driverCases, type TestDb } from '../helpers/db';
import { seededRandom, testSeed } from '../helpers/fault-proxy';
import { waitFor } from '../helpers/mail-account';
import { seedPolicyOrg, type PolicyOrg } from '../helpers/sync-policy-org';
import { WireClient } from '../helpers/sync-wire-client';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../helpers/sync-server-child.ts', import.meta.url));
const EDITS = Number(process.env.SYNC_CRASH_EDITS ?? 25);
const ROUNDS = 3;
const FIELDS: readonly ThreadField[] = ['status', 'assignee', 'labels', 'snoozeUntil', 'read'];

interface Child {
  proc: ChildProcessWithoutNullStreams;
  port: Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string[];
}

/** Where the children's database lives and how the test reads it between them. */
interface Store {
  env: Record<string, string>;
  /** The database while a child runs (Postgres); null when only one process may open it (file-backed PGlite). */
  live: Db | null;
  /** Runs `fn` on the database; file-backed PGlite only while no child holds it. */
  use<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

async function postgresStore(): Promise<Store> {
  const t: TestDb = await createPostgresDb(process.env.TEST_DATABASE_URL as string);
  const [row] = await t.db.query<{ name: string }>('select current_database() as name');
  const url = new URL(process.env.TEST_DATABASE_URL as string);
  url.pathname = `/${row?.name}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-crash-'));
  return {
    env: { SHOAL_CHILD_DB_URL: url.toString(), SHOAL_CHILD_DATA_DIR: dataDir },
    live: t.db,
    use: (fn) => fn(t.db),
    async drop() {
      await t.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function pgliteStore(): Promise<Store> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-crash-'));
  const use = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
    const db = await openDb({ dataDir });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  };
  await use((db) => migrate(db));
  return { env: { SHOAL_CHILD_DATA_DIR: dataDir }, live: null, use, drop: () => rm(dataDir, { recursive: true, force: true }) };
}

const stores = [{ name: 'file-backed PGlite', make: pgliteStore }, ...driverCases().filter((d) => d.name === 'postgres').map(() => ({ name: 'Postgres', make: postgresStore }))];

/** A field edit as the app makes it: a valid value stamped by the device's clock. */
interface Edit {
  key: string;
  value: { v: unknown; hlc: string };
}

function editMaker(org: PolicyOrg, random: () => number) {
  let lastWall = 0;
  let counter = 0;
  const threads = [...org.shared, org.own];
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const valueFor = (threadId: string, field: ThreadField, i: number): unknown => {
    switch (field) {
      case 'status':
        return pick(['open', 'pending', 'done']);
      case 'assignee':
        // Ben sees the shared threads only; an assignee must see the thread.
        return pick(threadId === org.own ? [org.ana, null] : [org.ana, org.ben, null]);
      case 'labels':
        return [`l${i}`, pick(['hot', 'eu', 'renewal'])];
      case 'snoozeUntil':
        return random() < 0.3 ? null : new Date(Date.UTC(2027, 0, 1 + i)).toISOString();
      case 'read':
        return random() < 0.5;
    }
  };
  return (i: number): Edit => {
    const threadId = pick(threads);
    const field = pick(FIELDS);
    const now = Date.now();
    counter = now > lastWall ? 0 : counter + 1;
    lastWall = Math.max(now, lastWall);
    const hlc = formatStamp({ wallMs: lastWall, counter, node: 'crash-device' });
    return { key: fieldKey(threadId, field), value: { v: valueFor(threadId, field, i), hlc } };
  };
}

/** What Postgres holds for a field key of Ana's: shared fields per thread, `read` per person. */
async function canonical(db: Db, org: PolicyOrg): Promise<Map<string, { v: unknown; hlc: string }>> {
  const out = new Map<string, { v: unknown; hlc: string }>();
  const threads = [...org.shared, org.own];
  const shared = await db.query<{ threadId: string; field: ThreadField; value: unknown; hlc: string }>(
    'select thread_id as "threadId", field, value, hlc from thread_fields where thread_id = any($1::uuid[])',
    [threads],
  );
  const personal = await db.query<{ threadId: string; field: ThreadField; value: unknown; hlc: string }>(
    'select thread_id as "threadId", field, value, hlc from thread_user_fields where thread_id = any($1::uuid[]) and user_id = $2',
    [threads, org.ana],
  );
  [...shared, ...personal].forEach((r) => out.set(fieldKey(r.threadId, r.field), { v: r.value, hlc: r.hlc }));
  return out;
}

const fieldsOf = (doc: Y.Doc) => new Map(Object.entries(doc.getMap(MAPS.fields).toJSON() as Record<string, { v: unknown; hlc: string }>));

describe.each(stores)('kill -9 right after acknowledged edits, on $name', ({ make }) => {
  const children = new Set<Child>();
  let store: Store | null = null;

  function spawnServer(env: Record<string, string>): Child {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SHOAL_CHILD_ORIGIN: TEST_ORIGIN, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    proc.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    let out = '';
    const port = new Promise<number>((resolve, reject) => {
      proc.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /"event":"listening"[^\n]*"port":(\d+)/.exec(out);
        if (match) {
          resolve(Number(match[1]));
        }
      });
      void exited.then(({ code, signal }) => reject(new Error(`the server exited (${code ?? signal}) before listening: ${stderr.join('')}`)));
    });
    const child = { proc, port, exited, stderr };
    children.add(child);
    void exited.then(() => children.delete(child));
    return child;
  }

  afterAll(async () => {
    for (const child of children) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    await store?.drop();
  });

  it(`loses no acknowledged edit across ${ROUNDS} SIGKILLs`, async () => {
    const seed = testSeed('sync-crash');
    const random = seededRandom(seed);
    const place = await make();
    store = place;
    const { org, cookie } = await place.use(async (db) => {
      const seeded = await seedPolicyOrg(db);
      const { token } = await createSession(db, seeded.ana, new Date());
      return { org: seeded, cookie: `shoal_session=${token}` };
    });
    const nextEdit = editMaker(org, random);
    const acknowledged = new Map<string, Edit['value']>();
    let acks = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const server = spawnServer(place.env);
      const url = `ws://127.0.0.1:${await server.port}/sync`;
      const client = await WireClient.connect(url, { cookie, origin: TEST_ORIGIN });
      for (let i = 0; i < EDITS; i++) {
        const edit = nextEdit(round * EDITS + i);
        await client.edit((doc) => doc.getMap(MAPS.fields).set(edit.key, edit.value));
        acknowledged.set(edit.key, edit.value);
        acks += 1;
        if (place.live) {
          // What the acknowledgement promises: the edit policy's transaction committed.
          const [row] = await place.live.query<{ outcome: string }>('select outcome from sync_writes where user_id = $1 and key = $2 and hlc = $3', [
            org.ana,
            `${MAPS.fields}:${edit.key}`,
            edit.value.hlc,
          ]);
          expect(row?.outcome).toBe('applied');
        }
      }
      // One more edit in flight, then the kill, with no turn of the event loop in between.
      const inFlight = nextEdit(round * EDITS + EDITS);
      client.send((doc) => doc.getMap(MAPS.fields).set(inFlight.key, inFlight.value));
      server.proc.kill('SIGKILL');
      expect((await server.exited).signal).toBe('SIGKILL');
      client.close();
    }

    // A fresh process on the same database, and a fresh client.
    const server = spawnServer(place.env);
    const fresh = await WireClient.connect(`ws://127.0.0.1:${await server.port}/sync`, { cookie, origin: TEST_ORIGIN });
    const inDoc = fieldsOf(fresh.doc);
    fresh.close();
    server.proc.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);

    const { held, logged } = await place.use(async (db) => ({
      held: await canonical(db, org),
      logged: await db.query<{ key: string; hlc: string; outcome: string }>('select key, hlc, outcome from sync_writes where user_id = $1', [org.ana]),
    }));
    const lost = [...acknowledged].filter(([key, value]) => {
      const stored = held.get(key);
      // A later in-flight edit of the same key may have landed after its acknowledged one: never an older value.
      return !stored || stored.hlc < value.hlc || (stored.hlc === value.hlc && JSON.stringify(stored.v) !== JSON.stringify(value.v));
    });
    console.info(`[sync-crash] seed ${seed}: ${acks} acknowledged edits over ${ROUNDS} kills, ${acknowledged.size} keys, ${lost.length} lost`);
    expect(lost).toEqual([]);
    const appliedLog = new Set(logged.filter((r) => r.outcome === 'applied').map((r) => `${r.key}@${r.hlc}`));
    for (const [key, value] of acknowledged) {
      expect(appliedLog.has(`${MAPS.fields}:${key}@${value.hlc}`) || (held.get(key)?.hlc ?? '') > value.hlc, `${key} in the write log`).toBe(true);
    }
    // The document the fresh client got is exactly what Postgres holds, for every key Ana may edit.
    expect(Object.fromEntries([...inDoc].sort())).toEqual(Object.fromEntries([...held].sort()));
    await waitFor('nothing left running', () => children.size, (n) => n === 0, 5_000);
  }, 240_000);
});
