/**
 * @module scripts/bench/sync-server
 * The server side of `npm run bench:sync`: Shoal's app with the whole sync
 * engine on a loopback port, wired as `createSyncEngine` wires it, except
 * that the edit policy and the host's `receive` are timed; and the baseline,
 * a bare y-protocols relay (one shared document, no authorization, no
 * persistence), as y-websocket's own server does it.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocketServer, type WebSocket } from 'ws';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import type { Db } from '../../db/types';
import { createApp } from '../../server/app';
import { createSession } from '../../server/auth/session';
import { SESSION_COOKIE } from '../../server/auth/cookie';
import { loadConfig } from '../../server/env';
import { createLogger } from '../../server/logger';
import { loadKeyring } from '../../server/secrets/keyring';
import { createDocHost, type DocHostOptions, type SyncDocHost } from '../../server/sync/host';
import type { AutoRebuild } from '../../server/sync/host/resident-deps';
import { createEditPolicy } from '../../server/sync/policy/edit-policy';
import type { AppliedChange } from '../../server/sync/policy/types';
import { createProjection, startChangeFeed, type ChangeFeed, type ChangeSink } from '../../server/sync/projection';
import { transportLinks } from '../../server/sync/transport/bus-links';
import { sessionEventsOn } from '../../server/sync/transport/session-events';
import { createSyncTransport } from '../../server/sync/transport/transport';
import type { DocHost, EditPolicy } from '../../server/sync/types';
import type { MapName } from '../../sync/doc/schema';

export const BENCH_ORIGIN = 'http://shoal.bench';

/** Durations (ms) of every review and every `receive`, in arrival order. */
export interface ServerTimings {
  reviews: number[];
  receives: number[];
}

export interface BenchServer {
  /** `ws://127.0.0.1:<port>/sync`. */
  syncUrl: string;
  host: SyncDocHost;
  projection: ReturnType<typeof createProjection>;
  feed: ChangeFeed;
  timings: ServerTimings;
  /** Every automatic rebuild of an outgrown document, in order. */
  rebuilds: AutoRebuild[];
  stop(): Promise<void>;
}

const timed = async <T>(into: number[], fn: () => Promise<T>): Promise<T> => {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    into.push(performance.now() - start);
  }
};

/** The DocHost the transport sees: the real one, with `receive` timed. */
function timedHost(host: SyncDocHost, into: number[]): DocHost {
  return new Proxy(host, {
    get(target, prop) {
      if (prop === 'receive') {
        return (...args: Parameters<DocHost['receive']>) => timed(into, () => target.receive(...args));
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function listen(fetch: Parameters<typeof serve>[0]['fetch']): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(server));
  });
}

const randomKey = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');

/** Starts Shoal's app with the sync engine over `db` on 127.0.0.1 (a free port); `host` tunes the document host (tests). */
export async function startShoal(db: Db, host: Partial<DocHostOptions> = {}): Promise<BenchServer> {
  const config = loadConfig({ NODE_ENV: 'production', ORIGIN: BENCH_ORIGIN, APP_DIR: '/nonexistent', MAIL_KEKS: `k1:${randomKey()}`, MESSAGE_ID_KEY: randomKey() });
  const log = createLogger('silent');
  const timings: ServerTimings = { reviews: [], receives: [] };
  const projection = createProjection(db, config);
  let sink: ChangeSink | null = null;
  const inner = createEditPolicy({
    db,
    log,
    now: () => Date.now(),
    canonicalValue: (hosted, map, key, previous) => projection.canonicalValue(hosted.userId, map as MapName, key, hosted.doc, previous),
    onApplied: (changes: AppliedChange[]) => changes.forEach((change) => sink?.publish(change)),
  });
  const policy: EditPolicy = { review: (...args) => timed(timings.reviews, () => inner.review(...args)) };
  const rebuilds: AutoRebuild[] = [];
  const docHost = await createDocHost({ db, log, policy, build: projection.build, refresh: projection.build, options: host, onRebuilt: (r) => rebuilds.push(r) });
  const { changes, feed } = startChangeFeed({ db, log, projection, host: docHost });
  sink = changes;
  const { sessionBus, presenceRelay } = transportLinks(docHost.bus, log);
  const sync = createSyncTransport({ docHost: timedHost(docHost, timings.receives), sessionBus, presenceRelay, log });
  const keyring = await loadKeyring(config);
  const now = () => new Date();
  const app = createApp({ db, config, log, keyring, now, sessionEvents: sessionEventsOn(sessionBus), sync, changes });
  const server = await listen(app.fetch);
  sync.injectWebSocket(server);
  const { port } = server.address() as AddressInfo;
  return {
    syncUrl: `ws://127.0.0.1:${port}/sync`,
    host: docHost,
    projection,
    feed,
    timings,
    rebuilds,
    async stop() {
      await sync.close();
      await feed.close();
      await docHost.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A session cookie (`name=value`) for each person, as a browser would hold after logging in. */
export async function sessionCookies(db: Db, userIds: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const userId of userIds) {
    const { token } = await createSession(db, userId, new Date());
    out.push(`${SESSION_COOKIE}=${token}`);
  }
  return out;
}

export interface RelayServer {
  /** `ws://127.0.0.1:<port>`, the provider's server URL. */
  url: string;
  doc: Y.Doc;
  stop(): Promise<void>;
}

const MESSAGE_SYNC = 0;

/**
 * The baseline: every socket shares one document; a client's update is
 * applied and sent to every other socket, nothing checked, nothing stored.
 * Awareness frames are ignored (the bench's clients send none).
 */
export async function startRelay(initial: Uint8Array | null): Promise<RelayServer> {
  const doc = new Y.Doc({ gc: true });
  if (initial) {
    Y.applyUpdate(doc, initial);
  }
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 16 * 1024 * 1024 });
  const sockets = new Set<WebSocket>();
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeUpdate(encoder, update);
    const frame = encoding.toUint8Array(encoder);
    sockets.forEach((ws) => ws !== origin && ws.send(frame));
  });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.binaryType = 'arraybuffer';
    ws.on('message', (data: ArrayBuffer) => {
      const decoder = decoding.createDecoder(new Uint8Array(data));
      if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) {
        return;
      }
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.readSyncMessage(decoder, encoder, doc, ws);
      if (encoding.length(encoder) > 1) {
        ws.send(encoding.toUint8Array(encoder));
      }
    });
    ws.on('close', () => sockets.delete(ws));
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeSyncStep1(encoder, doc);
    ws.send(encoding.toUint8Array(encoder));
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    doc,
    async stop() {
      sockets.forEach((ws) => ws.terminate());
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
