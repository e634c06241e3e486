/**
 * @module server/context
 * What every request handler can reach: the dependencies built at boot and
 * the per-request values middleware sets.
 */
import type { Logger } from 'pino';
import type { UserWithGroupsRow } from '../db/queries/users';
import type { Db } from '../db/types';
import type { SessionInfo } from './auth/session';
import type { MailSync } from './ingest/sync-manager';
import type { Keyring } from './secrets/keyring';
import type { ChangeSink } from './sync/projection/changes';
import type { SessionEvents } from './sync/transport/session-events';
import type { SyncTransport } from './sync/transport/transport';
import type { Config } from './env';

/** Built once at boot and shared by all requests. */
export interface Deps {
  db: Db;
  config: Config;
  log: Logger;
  /** Keys for mailbox secrets and signed Message-IDs. */
  keyring: Keyring;
  /** Starts and stops mailbox sync; absent in processes (and tests) that do not sync. */
  mailSync?: MailSync;
  /** The clock, injectable so tests can move time (session expiry, invite expiry, throttling). */
  now: () => Date;
  /** Where commands publish domain changes for the sync fan-out, after commit; absent where nothing listens. */
  changes?: ChangeSink;
  /** Told when sessions end, so live sync sockets close (all processes); absent where nothing listens. */
  sessionEvents?: SessionEvents;
  /** The `/sync` WebSocket; absent in processes (and tests) without a document host. */
  sync?: SyncTransport;
}

export interface Auth {
  session: SessionInfo;
  user: UserWithGroupsRow;
}

/** Hono environment type for every route. */
export interface AppEnv {
  Variables: {
    deps: Deps;
    requestId: string;
    log: Logger;
    auth: Auth | null;
  };
}
