/**
 * @module server/sync/types
 * The seams of the sync engine, so transport, document hosting and the
 * domain rules can be built and tested apart:
 *
 *   socket (transport.ts) ──client update──▶ DocHost.receive ──▶ hosted doc
 *        ▲                                        │ persist, then
 *        └──────────── broadcast ◀────────────────┤ EditPolicy.review → compensate
 *                                                 ▼
 *   Postgres change (ingest, sharing, records) ─▶ ProjectionWriter → hosted doc
 *
 * Every update that reaches a hosted document is in Postgres before any
 * socket sees it. Only the process holding a document's lease writes it.
 */
import type * as Y from 'yjs';

/** Who sent an update: the person and the socket's session. */
export interface Author {
  userId: string;
  sessionId: string;
  /** Identifies the socket, so a broadcast skips the sender. */
  connectionId: string;
}

/** A person's document as the writing process holds it. */
export interface HostedDoc {
  readonly userId: string;
  readonly doc: Y.Doc;
  /** The document's epoch (also `meta.epoch`); optional so that simple test doubles need none. */
  readonly epoch?: string;
  /**
   * Writes as the server (stable client id for this lease) in one
   * transaction; the resulting update is persisted, then broadcast.
   * @returns the update, or null when `fn` changed nothing.
   */
  write(fn: (doc: Y.Doc) => void): Promise<Uint8Array | null>;
}

/**
 * Decides a person's edits. Called after their update was applied to the
 * server's replica and persisted, with the keys it changed; writes the
 * canonical value back (through `hosted.write`) for every refused or losing
 * key, so the author's document converges on what Postgres holds.
 */
export interface EditPolicy {
  review(hosted: HostedDoc, author: Author, changed: ReadonlyMap<string, ReadonlySet<string>>, context?: ReviewContext): Promise<void>;
}

/**
 * What the update carried, captured while it was applied (before gc purges
 * overwritten content): `collectChanges` in server/sync/policy/changed-keys.ts
 * builds it with `changed` in an `afterTransaction` handler. Optional, but
 * without `written` a value Yjs ordered behind a concurrent write (by client
 * id, not by time) is never decided in Postgres, and without `previous` a
 * forged server-map key can only be deleted unless the policy has a
 * canonical source.
 */
export interface ReviewContext {
  /** Per server map: the value each changed key held before the update (`undefined`: it was absent). */
  previous?: ReadonlyMap<string, ReadonlyMap<string, unknown>>;
  /** Per root map: every value the update wrote to a key, the last one of each writing client. */
  written?: ReadonlyMap<string, ReadonlyMap<string, readonly unknown[]>>;
}

/** Receives every update of a document (server writes and accepted client updates), for sockets. */
export type UpdateListener = (update: Uint8Array, origin: Author | 'server') => void;

/**
 * Told that a document was replaced (rebuilt under a new epoch, or reloaded
 * after a takeover): `open` it again and have its sockets sync from scratch;
 * a client whose `meta.epoch` changed resets and replays its pending edits.
 */
export type ResetListener = (epoch: string) => void;

export interface DocHost {
  /** The hosted document of a person, loading it (snapshot + tail) and taking its lease if needed. */
  open(userId: string): Promise<HostedDoc>;
  /** Applies a client's update: persist, broadcast, then let the policy review it. */
  receive(userId: string, update: Uint8Array, author: Author): Promise<void>;
  subscribe(userId: string, listener: UpdateListener, onReset?: ResetListener): () => void;
  /** Rebuilds a document from canonical state under a new epoch (clients reset and replay their pending edits). */
  rebuild(userId: string): Promise<void>;
  /** The document if this process holds its lease and has it in memory, never loading it: fan-out writes only there. */
  findWritable?(userId: string): HostedDoc | null;
  /** The people whose documents this process writes now. */
  writableUserIds?(): string[];
  close(): Promise<void>;
}
