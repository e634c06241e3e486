/**
 * @module tests/helpers/sync-client
 * A real Shoal HTTP server on a loopback port with the `/sync` transport
 * over a given DocHost, and y-websocket's `WebsocketProvider` in Node (the
 * `ws` package as its WebSocket, carrying the cookie and Origin a browser
 * would send) around a real Y.Doc.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { WebSocket, type RawData } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { Db } from '../../db';
import { createApp } from '../../server/app';
import type { Deps } from '../../server/context';
import { createDocHost, SyncDocHost } from '../../server/sync/host';
import { createLocalHub, type Bus } from '../../server/sync/host/bus';
import { createMemoryLeaseTable } from '../../server/sync/host/leases';
import { transportLinks } from '../../server/sync/transport/bus-links';
import { sessionEventsOn } from '../../server/sync/transport/session-events';
import { createSyncTransport, type SyncTransport } from '../../server/sync/transport/transport';
import type { DocHost } from '../../server/sync/types';
import { client, createHarness, TEST_ORIGIN, type Client } from './app';
import { waitFor } from './mail-account';
import { MemoryDocHost, RecordingDocHost } from './memory-doc-host';
import { quietLog, recordingPolicy } from './sync-host';

export interface HostKind {
  name: string;
  create(db: Db): Promise<RecordingDocHost>;
}

/** The hosts transport suites run over: the in-memory double and the real document host (in-process bus, empty builder). */
export function hostKinds(): HostKind[] {
  return [
    { name: 'memory host', create: async () => new RecordingDocHost(new MemoryDocHost()) },
    {
      name: 'document host',
      create: async (db) => new RecordingDocHost(await createDocHost({ db, log: quietLog, build: async () => {}, policy: recordingPolicy() })),
    },
  ];
}

/** Document hosts for several "processes" in this one: their own bus connection and leases, over an in-process hub or Redis. */
export async function processHosts(db: Db, count: number, redis?: { url: string; namespace: string }): Promise<SyncDocHost[]> {
  const build = async () => {};
  if (redis) {
    return Promise.all(Array.from({ length: count }, () => createDocHost({ db, log: quietLog, build, policy: recordingPolicy(), redisUrl: redis.url, namespace: redis.namespace })));
  }
  const hub = createLocalHub();
  const leases = createMemoryLeaseTable();
  return Array.from({ length: count }, (_, i) => {
    const processId = `process-${i}`;
    return new SyncDocHost({ db, log: quietLog, bus: hub.connect(processId), leases: leases.connect(processId), build, policy: recordingPolicy() });
  });
}

export interface SyncServer {
  /** `ws://127.0.0.1:<port>/sync`, the provider's server URL. */
  syncUrl: string;
  api: Client;
  deps: Deps;
  transport: SyncTransport;
  logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts the app with `/sync` over `host` on a free loopback port, wired as
 * boot wires it (`bus`: the host's bus, linking this "process" to others).
 */
export async function startSyncServer(db: Db, host: DocHost, env: Record<string, string> = {}, bus?: Bus): Promise<SyncServer> {
  const harness = await createHarness(db, env);
  const { sessionBus, presenceRelay } = transportLinks(bus, harness.deps.log);
  const transport = createSyncTransport({ docHost: host, sessionBus, presenceRelay, log: harness.deps.log });
  // Real time: sockets, pings and awareness timeouts run on the wall clock.
  const deps: Deps = { ...harness.deps, now: () => new Date(), sessionEvents: sessionEventsOn(sessionBus), sync: transport };
  const app = createApp(deps);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  transport.injectWebSocket(server);
  const { port } = server.address() as AddressInfo;
  return {
    syncUrl: `ws://127.0.0.1:${port}/sync`,
    api: client(app),
    deps,
    transport,
    logs: harness.logs,
    async stop() {
      await transport.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface SyncClientOptions {
  cookie: string | null;
  /** The Origin header; ours unless told otherwise. */
  origin?: string;
  /** The room in the URL (ignored by the server). */
  room?: string;
  doc?: Y.Doc;
  /** Whether the client offers permessage-deflate, as browsers and `ws` do (default). */
  deflate?: boolean;
}

export interface SyncClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** Payload sizes of every SyncStep2 the server sent, per connection in order. */
  syncStep2Bytes: number[];
  /** Update frames the server pushed (not counting SyncStep2). */
  updateFrames: number[];
  /** Close codes the server sent, in order. */
  closeCodes: number[];
  /** Bytes read off the current connection's TCP socket so far (frames as they travelled, deflated or not). */
  wireBytes(): number;
  /** The extensions the current connection negotiated ('' when none). */
  extensions(): string;
  /** Resolves once the provider has the server's SyncStep2. */
  synced(): Promise<void>;
  destroy(): void;
}

interface Recorder {
  syncStep2Bytes: number[];
  updateFrames: number[];
  closeCodes: number[];
}

interface Wire {
  socket: Socket | null;
  extensions: string;
}

/** A `ws` WebSocket that sends our headers and records what the server sends. */
function instrumentedSocket(headers: Record<string, string>, seen: Recorder, wire: Wire, deflate: boolean) {
  return class extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers, perMessageDeflate: deflate });
      this.once('upgrade', (res: IncomingMessage) => (wire.socket = res.socket));
      this.once('open', () => (wire.extensions = this.extensions));
      this.on('message', (data: RawData) => {
        const bytes = new Uint8Array(data as Buffer);
        // [0 = sync, 1 = SyncStep2 | 2 = Update, varuint length, payload]
        if (bytes[0] === 0 && bytes[1] === 1) {
          seen.syncStep2Bytes.push(bytes.length - 2);
        }
        if (bytes[0] === 0 && bytes[1] === 2) {
          seen.updateFrames.push(bytes.length - 2);
        }
      });
      this.on('close', (code: number) => seen.closeCodes.push(code));
    }
  };
}

/** Connects a WebsocketProvider with a browser's cookie and Origin. BroadcastChannel is off: same-process clients must meet only through the server. */
export function connectSyncClient(syncUrl: string, options: SyncClientOptions): SyncClient {
  const headers: Record<string, string> = { origin: options.origin ?? TEST_ORIGIN };
  if (options.cookie) {
    headers.cookie = options.cookie;
  }
  const doc = options.doc ?? new Y.Doc();
  const seen: Recorder = { syncStep2Bytes: [], updateFrames: [], closeCodes: [] };
  const wire: Wire = { socket: null, extensions: '' };
  const provider = new WebsocketProvider(syncUrl, options.room ?? 'inbox', doc, {
    WebSocketPolyfill: instrumentedSocket(headers, seen, wire, options.deflate ?? true) as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    maxBackoffTime: 200,
  });
  return {
    doc,
    provider,
    ...seen,
    wireBytes: () => wire.socket?.bytesRead ?? 0,
    extensions: () => wire.extensions,
    synced: () => waitFor('the first sync', () => provider.synced, (s) => s, 10_000, 10).then(() => undefined),
    destroy: () => provider.destroy(),
  };
}

/**
 * Attempts a bare upgrade to `/sync`.
 * @returns 101 when a socket opened (it is closed again), else the HTTP status of the refusal.
 */
export function tryUpgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('upgrade', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}
