/**
 * @module server/boot
 * Starts Shoal: configuration, database (durability check, migrations),
 * HTTP on one port, and periodic housekeeping. Returns a handle that shuts
 * everything down in order.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from 'pino';
import { migrate, openDb, type Db } from '../db';
import { pruneThrottle } from '../db/queries/login-throttle';
import { deleteExpiredSessions } from '../db/queries/sessions';
import { createApp } from './app';
import type { Config } from './env';
import { SyncManager } from './ingest/sync-manager';
import { createSyncEngine } from './sync/engine';
import { loadKeyring } from './secrets/keyring';
import type { Bus } from './sync/host/bus';
import { transportLinks } from './sync/transport/bus-links';
import { sessionEventsOn } from './sync/transport/session-events';
import { createSyncTransport } from './sync/transport/transport';
import type { DocHost } from './sync/types';

const HOUSEKEEPING_MS = 15 * 60_000;
const THROTTLE_IDLE_MS = 24 * 3_600_000;

export interface Running {
  /** Where people open Shoal: the public origin, or localhost with the bound port. */
  url: string;
  /** The port actually bound (differs from the configured one when that was 0). */
  port: number;
  db: Db;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Builds the document host `/sync` serves (closed at stop); without one the
   * process has no `/sync`. Its bus, when it has one, also carries ended
   * sessions and presence between processes.
   */
  createDocHost?: (db: Db, log: Logger) => (DocHost & { readonly bus?: Bus }) | Promise<DocHost & { readonly bus?: Bus }>;
}

/**
 * Opens the database, applies migrations and listens.
 * @throws when the database is unreachable, unsafe (fsync off) or a migration fails.
 */
export async function start(config: Config, log: Logger, options: StartOptions = {}): Promise<Running> {
  const db = await openDb({ databaseUrl: config.databaseUrl, prepare: config.databasePrepare, dataDir: config.dataDir });
  const applied = await migrate(db);
  log.info({ driver: db.driver, applied }, 'database ready');
  const keyring = await loadKeyring(config, log);
  const now = () => new Date();
  // Without an injected host (tests), the process runs the whole engine: /sync, projection, edit policy and fan-out.
  const engine = options.createDocHost ? null : await createSyncEngine(db, config, log);
  const changes = engine?.changes;
  const mailSync = new SyncManager({ db, keyring, log, now, changes, allowPrivateHosts: config.mailAllowPrivateHosts });
  const docHost = options.createDocHost ? await options.createDocHost(db, log) : engine?.host;
  const { sessionBus, presenceRelay } = transportLinks(docHost?.bus, log);
  const sync = docHost ? createSyncTransport({ docHost, sessionBus, presenceRelay, log }) : undefined;
  const app = createApp({ db, config, log, keyring, mailSync, now, sessionEvents: sessionEventsOn(sessionBus), sync, changes });
  const server = await listen(app.fetch, config);
  sync?.injectWebSocket(server);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = config.origins[0] === `http://localhost:${config.port}` ? `http://localhost:${port}` : config.publicUrl;
  await mailSync.startAll();
  const timer = setInterval(() => void housekeeping(db, log), HOUSEKEEPING_MS);
  timer.unref();
  return {
    url,
    port,
    db,
    async stop() {
      clearInterval(timer);
      await mailSync.stopAll();
      await sync?.close();
      await (engine ?? docHost)?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}

function listen(fetch: Parameters<typeof serve>[0]['fetch'], config: Config): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port: config.port, hostname: config.host }, () => resolve(server));
    server.once('error', reject);
  });
}

async function housekeeping(db: Db, log: Logger): Promise<void> {
  try {
    const now = new Date();
    const sessions = await deleteExpiredSessions(db, now);
    const throttles = await pruneThrottle(db, new Date(now.getTime() - THROTTLE_IDLE_MS));
    log.debug({ sessions, throttles }, 'housekeeping');
  } catch (error) {
    log.warn({ err: error }, 'housekeeping failed');
  }
}
