/**
 * @module server/sync/transport/transport
 * The `/sync` WebSocket (y-websocket's `WebsocketProvider` connects to
 * `<url>/<room>`; the room is ignored). At upgrade, before any socket
 * exists: the `Origin` must be ours (403), the session cookie valid (401),
 * and the person's document open. The document is always the session's
 * person's, never one named in the URL.
 */
import { createNodeWebSocket, type NodeWebSocket } from '@hono/node-ws';
import type { ServerType } from '@hono/node-server';
import type { Context, Hono } from 'hono';
import type { Logger } from 'pino';
import type { Server } from 'node:http';
import type { Db } from '../../../db';
import { ERROR_CODES } from '../../../sync/api';
import { readSessionCookie } from '../../auth/cookie';
import { validateSessionToken } from '../../auth/session';
import { splitToken } from '../../auth/tokens';
import type { AppEnv } from '../../context';
import { authRequired, HttpError } from '../../errors';
import { isAllowedOrigin } from '../../middleware/origin-check';
import type { DocHost } from '../types';
import type { PresenceRelay } from './bus-links';
import { SyncConnection } from './connection';
import { SYNC_DEFLATE } from './deflate';
import { DocChannels } from './doc-channels';
import { PresenceHub } from './presence';
import { CLOSE_CODES, SocketRegistry } from './registry';
import type { SessionEventBus } from './session-events';

/** Largest frame a client may send: a long offline stretch fits, a memory bomb does not. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** As y-websocket's server: a socket that misses one ping in this period is cut. */
const HEARTBEAT_MS = 30_000;
/** How long shutdown waits for close handshakes before cutting sockets. */
const CLOSE_GRACE_MS = 1_000;

export interface SyncTransportOptions {
  docHost: DocHost;
  /** Session events from every process (log-out, revocation, deactivation). */
  sessionBus: SessionEventBus;
  /** Presence to and from the other processes; absent when this process is alone. */
  presenceRelay?: PresenceRelay | undefined;
  log: Logger;
}

export interface SyncTransport {
  readonly registry: SocketRegistry;
  /** Adds `/sync` and `/sync/:room` to the app; its upgrade requests reach them through `injectWebSocket`. */
  mount(app: Hono<AppEnv>): void;
  injectWebSocket(server: ServerType): void;
  /** Closes every socket (1001) and stops the heartbeat. */
  close(): Promise<void>;
}

export function createSyncTransport(options: SyncTransportOptions): SyncTransport {
  const { docHost, log } = options;
  const registry = new SocketRegistry();
  const channels = new DocChannels(docHost);
  const presence = new PresenceHub(options.presenceRelay);
  const live = new Set<SyncConnection>();
  const stopEvents = options.sessionBus.subscribe((event) => registry.handle(event));
  const heartbeat = setInterval(() => live.forEach((c) => c.heartbeat()), HEARTBEAT_MS);
  heartbeat.unref();
  let nodeWs: NodeWebSocket | null = null;

  async function admit(db: Db, token: string, now: Date): Promise<SyncConnection | null> {
    const parts = splitToken(token);
    if (!parts) {
      return null;
    }
    // Reserved before validating, so a revocation from here on is caught (see registry).
    const entry = registry.reserve(parts.id);
    try {
      const valid = await validateSessionToken(db, token, now);
      if (!valid || entry.ended) {
        registry.release(entry);
        return null;
      }
      registry.identify(entry, valid.user.id);
      const channel = await channels.acquire(valid.user.id);
      if (entry.ended) {
        channels.release(channel);
        registry.release(entry);
        return null;
      }
      const user = { id: valid.user.id, orgId: valid.user.orgId, name: valid.user.name };
      const connection = new SyncConnection({
        host: docHost,
        registry,
        entry,
        channels,
        channel,
        presence,
        user,
        log,
        onGone: (c) => live.delete(c),
      });
      live.add(connection);
      return connection;
    } catch (error) {
      registry.release(entry);
      throw error;
    }
  }

  return {
    registry,
    mount(app) {
      nodeWs = createNodeWebSocket({ app });
      nodeWs.wss.options.maxPayload = MAX_FRAME_BYTES;
      nodeWs.wss.options.perMessageDeflate = SYNC_DEFLATE;
      const upgrade = nodeWs.upgradeWebSocket(async (c: Context<AppEnv>) => {
        if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
          throw new HttpError(426, ERROR_CODES.badRequest, 'Connect to /sync with a WebSocket');
        }
        const { config, db, now } = c.var.deps;
        if (!isAllowedOrigin(config.origins, c.req.header('origin'))) {
          throw new HttpError(403, ERROR_CODES.originRejected, 'This connection did not come from the Shoal app');
        }
        const token = readSessionCookie(c);
        const connection = token ? await admit(db, token, now()) : null;
        if (!connection) {
          throw authRequired();
        }
        return connection.events();
      });
      app.get('/sync', upgrade);
      app.get('/sync/:room', upgrade);
    },
    injectWebSocket(server) {
      if (!nodeWs) {
        throw new Error('mount the sync transport on the app before injecting it into the server');
      }
      nodeWs.injectWebSocket(server as Server);
    },
    async close() {
      clearInterval(heartbeat);
      stopEvents();
      registry.closeAll(CLOSE_CODES.goingAway, 'server shutting down');
      const clients = nodeWs ? [...nodeWs.wss.clients] : [];
      const deadline = Date.now() + CLOSE_GRACE_MS;
      while (clients.some((ws) => ws.readyState !== ws.CLOSED) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      clients.forEach((ws) => ws.terminate());
      presence.close();
    },
  };
}
