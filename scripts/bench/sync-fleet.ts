/**
 * @module scripts/bench/sync-fleet
 * The clients of `npm run bench:sync`, in a process of their own so the
 * server's CPU and heap are measured apart from theirs: y-websocket's
 * `WebsocketProvider` over `ws` (cookie and Origin as a browser sends them),
 * each around its own Y.Doc, and the app's write helpers (`SyncClient`) for
 * edits. Where the server may rebuild a document under a new epoch ((e)),
 * the members are the app's own SyncSession instead
 * (tests/helpers/node-sync-session.ts), which resets to the new epoch and
 * keeps its unsent writes as the app does. The parent sends one command at a time over IPC
 * (`sync-fleet-protocol.ts`) and gets one reply each; every time here is
 * `performance.now()` of this process, so the editor's write and the
 * recipients' observations share one clock.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { SyncClient } from '../../sync/client/client';
import { fieldKey, MAPS, THREAD_STATUSES, type FieldValues, type ThreadField } from '../../sync/doc/schema';
import { openNodeSession, type NodeSession } from '../../tests/helpers/node-sync-session';
import type { AppMembers, FleetCommand, FleetEdit, FleetReply, OverwriteCommand } from './sync-fleet-protocol';

/** A bare provider around its own Y.Doc. */
interface BareMember {
  kind: 'bare';
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** performance.now() of the last change to a watched `fields` key. */
  lastChange: number;
}

/** The app's session: its Y.Doc changes when it resets to a new epoch. */
interface AppMember {
  kind: 'app';
  app: NodeSession;
  readonly doc: Y.Doc;
  lastChange: number;
}

type Member = BareMember | AppMember;

let members: Member[] = [];
// Each provider listens for the process's exit.
process.setMaxListeners(0);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A `ws` WebSocket with our headers; `onSocket` gets each connection's TCP socket (to count what travelled). */
function socketClass(headers: Record<string, string>, onSocket: (socket: Socket) => void = () => {}) {
  return class extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
      this.once('upgrade', (res: IncomingMessage) => onSocket(res.socket));
    }
  };
}

async function until(label: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    }
    await sleep(1);
  }
}

const appMember = (app: NodeSession): AppMember => ({
  kind: 'app',
  app,
  get doc() {
    return app.session.doc;
  },
  lastChange: 0,
});

/** Opens one app session per cookie; first sync is the time until each is online with the server's state applied. */
async function connectApps(url: string, cookies: readonly (string | null)[], origin: string, app: AppMembers): Promise<{ firstSyncMs: number[]; totalMs: number }> {
  const started = performance.now();
  const opened = await Promise.all(
    cookies.map(async (cookie, i) => {
      const start = performance.now();
      const session = await openNodeSession({ url, cookie: cookie ?? '', origin, userId: app.userIds[i] as string, orgId: app.orgId, persist: false });
      await until('an app session online', () => session.session.status === 'online', 120_000);
      return { member: appMember(session), ms: performance.now() - start };
    }),
  );
  members.push(...opened.map((o) => o.member));
  return { firstSyncMs: opened.map((o) => o.ms), totalMs: performance.now() - started };
}

/** Connects one provider per cookie (none: the relay); awareness stays empty, so only document frames flow. */
async function connect(url: string, cookies: readonly (string | null)[], origin: string): Promise<{ firstSyncMs: number[]; totalMs: number; firstSyncWireBytes: number[] }> {
  const started = performance.now();
  const fresh = cookies.map((cookie) => {
    const headers: Record<string, string> = { origin };
    if (cookie) {
      headers.cookie = cookie;
    }
    const doc = new Y.Doc();
    const wire: { socket: Socket | null } = { socket: null };
    const provider = new WebsocketProvider(url, 'inbox', doc, {
      WebSocketPolyfill: socketClass(headers, (socket) => (wire.socket = socket)) as unknown as typeof globalThis.WebSocket,
      disableBc: true,
      connect: false,
      maxBackoffTime: 200,
    });
    provider.awareness.setLocalState(null);
    const member: BareMember = { kind: 'bare', doc, provider, lastChange: 0 };
    doc.getMap(MAPS.fields).observe(() => (member.lastChange = performance.now()));
    return { member, wire, start: performance.now(), syncedAt: 0, wireBytes: 0 };
  });
  for (const f of fresh) {
    f.start = performance.now();
    f.member.provider.once('sync', () => {
      f.syncedAt = performance.now();
      f.wireBytes = f.wire.socket?.bytesRead ?? 0;
    });
    f.member.provider.connect();
  }
  await until('every first sync', () => fresh.every((f) => f.syncedAt > 0), 120_000);
  members.push(...fresh.map((f) => f.member));
  return { firstSyncMs: fresh.map((f) => f.syncedAt - f.start), totalMs: performance.now() - started, firstSyncWireBytes: fresh.map((f) => f.wireBytes) };
}

async function disconnectAll(): Promise<void> {
  const all = members;
  members = [];
  for (const m of all) {
    if (m.kind === 'app') {
      await m.app.close();
    } else {
      m.provider.destroy();
      m.doc.destroy();
    }
  }
}

function bareMember(index: number): BareMember {
  const member = members[index];
  if (member?.kind !== 'bare') {
    throw new Error(`member ${index} is not a bare provider`);
  }
  return member;
}

function editorOf(index: number, orgId: string): SyncClient {
  const member = bareMember(index);
  return new SyncClient({ doc: member.doc, orgId, node: `bench${index}`, isServerOrigin: (origin) => origin === member.provider });
}

/** The editor sets `status` of one thread per round; each other member records when its document shows it. */
async function fanOut(editor: number, orgId: string, threadIds: readonly string[], rounds: number, gapMs: number): Promise<{ latencies: number[][] }> {
  const client = editorOf(editor, orgId);
  const latencies: number[][] = [];
  for (let r = 0; r < rounds; r++) {
    const threadId = threadIds[r % threadIds.length] as string;
    const key = fieldKey(threadId, 'status');
    const next = THREAD_STATUSES[(THREAD_STATUSES.indexOf(client.field(threadId, 'status')) + 1) % THREAD_STATUSES.length] as FieldValues['status'];
    const seen: number[] = [];
    let start = 0;
    const others = members.filter((_, i) => i !== editor);
    const stops = others.map((m) => {
      const map = m.doc.getMap<{ v: unknown }>(MAPS.fields);
      let done = false;
      const observer = () => {
        if (!done && map.get(key)?.v === next) {
          done = true;
          seen.push(performance.now() - start);
        }
      };
      map.observe(observer);
      return () => map.unobserve(observer);
    });
    start = performance.now();
    client.setField(threadId, 'status', next);
    try {
      await until(`round ${r} at every recipient`, () => seen.length === others.length, 30_000);
    } finally {
      stops.forEach((stop) => stop());
    }
    latencies.push(seen);
    await sleep(gapMs);
  }
  client.destroy();
  return { latencies };
}

/** The editor goes offline, makes the edits, reconnects; @returns when it reconnected. */
async function offline(editor: number, orgId: string, edits: readonly FleetEdit[]): Promise<{ reconnectedAt: number; writeMs: number }> {
  const member = bareMember(editor);
  member.provider.disconnect();
  const client = editorOf(editor, orgId);
  const start = performance.now();
  // One stamped write each, as the app makes them.
  for (const e of edits) {
    client.setField(e.threadId, e.field, e.value as never);
  }
  const writeMs = performance.now() - start;
  client.destroy();
  members.forEach((m) => (m.lastChange = 0));
  const reconnectedAt = performance.now();
  member.provider.connect();
  return { reconnectedAt, writeMs };
}

/**
 * Waits until every member's `fields` equal what each should hold, then
 * reports when the last of them last changed, from `since`.
 */
async function settle(expected: readonly Record<string, unknown>[], since: number): Promise<{ convergedMs: number; mismatched: number }> {
  const matches = (m: Member, want: Record<string, unknown>) => {
    const map = m.doc.getMap<unknown>(MAPS.fields);
    return Object.entries(want).every(([key, value]) => JSON.stringify(map.get(key)) === JSON.stringify(value));
  };
  try {
    await until('every member converged', () => members.every((m, i) => matches(m, expected[i] ?? {})), 30_000);
  } catch {
    return { convergedMs: -1, mismatched: members.filter((m, i) => !matches(m, expected[i] ?? {})).length };
  }
  const last = Math.max(...members.map((m) => m.lastChange));
  return { convergedMs: last - since, mismatched: 0 };
}

/** The writes of one member: a bare provider's own SyncClient, or the app session's current one (it changes on a reset). */
interface Writer {
  /** Waits until writes to the thread can go in: a session that is resetting has an empty copy until the server's state is in. */
  ready(threadId: string): Promise<void>;
  client(): SyncClient;
  doc(): Y.Doc;
  /**
   * After each transaction. A session waits until the server acknowledged it:
   * unpaced, the server falls behind by many transactions, and a rebuild
   * leaves those queued from the old epoch out (the session then replays
   * only each key's last value), so fewer overwrites would reach the server.
   */
  paced(): Promise<void>;
  /** @returns how many times the member reset to a new epoch. */
  done(): Promise<number>;
}

function writerOf(index: number, orgId: string): Writer {
  const member = members[index];
  if (member?.kind === 'app') {
    const { app } = member;
    const resets = app.resets.length;
    return {
      ready: async (threadId) => {
        await app.session.settledReset();
        await until('the thread in the session’s copy', () => app.session.client.thread(threadId) !== null, 60_000);
      },
      client: () => app.session.client,
      doc: () => app.session.doc,
      paced: () => until('the transaction acknowledged', () => app.session.status === 'online' && app.session.pendingCount === 0, 120_000),
      // Every write acknowledged (reviewed) by the server, in whichever epoch.
      done: async () => {
        await until('every write acknowledged', () => app.session.status === 'online' && app.session.pendingCount === 0, 240_000);
        await app.session.settledReset();
        return app.resets.length - resets;
      },
    };
  }
  const bare = editorOf(index, orgId);
  return {
    ready: async () => {},
    client: () => bare,
    doc: () => bare.doc,
    paced: async () => {},
    done: async () => {
      bare.destroy();
      return 0;
    },
  };
}

/** Overwrites every field of the given threads `total / keys` times, `batch` edits per transaction. */
async function overwrite(c: OverwriteCommand): Promise<{ transactions: number; edits: number; resets: number }> {
  const writer = writerOf(c.editor, c.orgId);
  const fields: ThreadField[] = ['status', 'assignee', 'labels', 'read'];
  let edits = 0;
  let transactions = 0;
  for (let round = 0; edits < c.total; round++) {
    const values: FieldValues = {
      status: THREAD_STATUSES[round % 3] as FieldValues['status'],
      assignee: c.people[round % c.people.length] as string,
      labels: [`label-${round % 5}`],
      read: round % 2 === 0,
      snoozeUntil: null,
    };
    for (let start = 0; start < c.threadIds.length * fields.length && edits < c.total; start += c.batch) {
      const before = edits;
      await writer.ready(c.threadIds[0] as string);
      const client = writer.client();
      writer.doc().transact(() => {
        for (let k = start; k < Math.min(start + c.batch, c.threadIds.length * fields.length) && edits < c.total; k++) {
          const field = fields[k % fields.length] as ThreadField;
          if (client.setField(c.threadIds[Math.floor(k / fields.length)] as string, field, values[field] as never)) {
            edits += 1;
          }
        }
      });
      // A transaction that changed nothing sends nothing.
      transactions += edits > before ? 1 : 0;
      await writer.paced();
      // Let the socket drain: the provider sends each transaction as one frame.
      await sleep(c.pauseMs);
    }
  }
  const resets = await writer.done();
  return { transactions, edits, resets };
}

async function handle(command: FleetCommand): Promise<FleetReply> {
  switch (command.op) {
    case 'connect':
      return { op: 'connect', ...(await (command.app ? connectApps(command.url, command.cookies, command.origin, command.app) : connect(command.url, command.cookies, command.origin))) };
    case 'fields':
      return { op: 'fields', fields: members.map((m) => m.doc.getMap(MAPS.fields).toJSON()) };
    case 'fan-out':
      return { op: 'fan-out', ...(await fanOut(command.editor, command.orgId, command.threadIds, command.rounds, command.gapMs)) };
    case 'offline':
      return { op: 'offline', ...(await offline(command.editor, command.orgId, command.edits)) };
    case 'settle':
      return { op: 'settle', ...(await settle(command.expected, command.since)) };
    case 'overwrite':
      return { op: 'overwrite', ...(await overwrite(command)) };
    case 'disconnect':
      await disconnectAll();
      return { op: 'disconnect' };
  }
}

process.on('message', (command: FleetCommand) => {
  handle(command).then(
    (reply) => process.send?.(reply),
    (error: unknown) => process.send?.({ op: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) } satisfies FleetReply),
  );
});
process.on('disconnect', () => process.exit(0));
