/**
 * @module server/sync/transport/connection
 * One `/sync` socket: bound to its person's document before it may do
 * anything, then speaking y-protocols. A client update goes only to
 * `DocHost.receive` (which persists it, broadcasts it and lets the policy
 * compensate), one at a time in arrival order; if storing one fails the
 * socket closes, so the client re-sends it on reconnect instead of it being
 * lost. A SyncStep1 is answered in that same order: its SyncStep2 is the
 * client's proof that everything it sent before was reviewed (how the app
 * acknowledges its writes).
 */
import { randomUUID } from 'node:crypto';
import type { WSEvents } from 'hono/ws';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { MAPS } from '../../../sync/doc/schema';
import type { Author, DocHost } from '../types';
import type { ChannelMember, DocChannel, DocChannels } from './doc-channels';
import { FrameDeflater } from './deflate';
import { decodeClientFrame, encodeSyncStep1, encodeSyncStep2, type ClientFrame } from './frames';
import type { PresenceHub, PresencePeer } from './presence';
import { CLOSE_CODES, type RegistryEntry, type SocketRegistry } from './registry';

/** An upgrade whose socket never opens gives its reservation back after this. */
const BIND_TIMEOUT_MS = 10_000;
/** A reader this far behind is cut off; it reconnects and catches up by state vector. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface ConnectionParts {
  host: DocHost;
  registry: SocketRegistry;
  entry: RegistryEntry;
  channels: DocChannels;
  channel: DocChannel;
  presence: PresenceHub;
  user: { id: string; orgId: string; name: string };
  log: Logger;
  /** Called once when the connection is gone, whatever the reason. */
  onGone(connection: SyncConnection): void;
}

/** Live frames go as they are (deflate.ts): one options object for the hundreds a fan-out sends. */
const PLAIN = { compress: false } as const;

type State = 'opening' | 'bound' | 'closed';

export class SyncConnection implements PresencePeer, ChannelMember {
  readonly connectionId = randomUUID();
  private state: State = 'opening';
  private socket: WebSocket | null = null;
  private deflater: FrameDeflater | null = null;
  /** Client updates are handed to the host one after another, in arrival order. */
  private receiving: Promise<void> = Promise.resolve();
  private answeredPing = true;
  private askedForEdits = false;
  private readonly bindTimer: NodeJS.Timeout;

  constructor(private readonly parts: ConnectionParts) {
    this.bindTimer = setTimeout(() => this.dispose(), BIND_TIMEOUT_MS);
    this.bindTimer.unref();
  }

  get orgId(): string {
    return this.parts.user.orgId;
  }

  get userId(): string {
    return this.parts.user.id;
  }

  get name(): string {
    return this.parts.user.name;
  }

  /** The Hono WebSocket events of this connection. */
  events(): WSEvents<WebSocket> {
    return {
      onOpen: (_event, ws) => this.open(ws.raw ?? null),
      onMessage: (event) => this.message(event.data),
      onClose: () => this.dispose(),
      onError: (event) => this.parts.log.warn({ connectionId: this.connectionId, err: event }, 'sync socket error'),
    };
  }

  canSee(threadId: string): boolean {
    return this.parts.channel.hosted.doc.getMap(MAPS.threads).has(threadId);
  }

  /** @param deflate deflate the frame when the socket negotiated it and the frame is large enough (deflate.ts). */
  sendFrame(frame: Uint8Array, deflate = false): void {
    const socket = this.socket;
    if (this.state !== 'bound' || !socket || socket.readyState !== socket.OPEN) {
      return;
    }
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(CLOSE_CODES.tryAgainLater, 'too far behind');
      return;
    }
    if (deflate && this.deflater) {
      this.deflater.send(frame);
      return;
    }
    socket.send(frame, PLAIN);
  }

  replaced(): void {
    this.close(CLOSE_CODES.documentReplaced, 'document replaced');
  }

  /** Closes the socket and leaves everything at once; frames still in flight are dropped. */
  close(code: number, reason: string): void {
    const socket = this.socket;
    this.dispose();
    socket?.close(code, reason);
  }

  /** One heartbeat: a socket that did not answer the last ping is cut (half-open connections). */
  heartbeat(): void {
    const socket = this.socket;
    if (this.state !== 'bound' || !socket) {
      return;
    }
    if (!this.answeredPing) {
      this.dispose();
      socket.terminate();
      return;
    }
    this.answeredPing = false;
    socket.ping();
  }

  private open(socket: WebSocket | null): void {
    clearTimeout(this.bindTimer);
    if (!socket || this.state !== 'opening') {
      socket?.close(CLOSE_CODES.tryAgainLater, 'try again');
      this.dispose();
      return;
    }
    this.socket = socket;
    this.deflater = new FrameDeflater(socket);
    if (!this.parts.registry.bind(this.parts.entry, this)) {
      return;
    }
    if (this.parts.channel.replaced) {
      this.replaced();
      return;
    }
    this.state = 'bound';
    socket.on('pong', () => {
      this.answeredPing = true;
    });
    this.parts.channel.add(this);
    this.parts.presence.join(this);
  }

  private message(data: unknown): void {
    if (this.state !== 'bound') {
      // Never applied: a frame counts only once the socket is bound to its person's document.
      this.parts.log.debug({ connectionId: this.connectionId, state: this.state }, 'sync frame dropped before binding');
      return;
    }
    if (!(data instanceof ArrayBuffer)) {
      this.close(CLOSE_CODES.unsupportedData, 'binary frames only');
      return;
    }
    let frame: ClientFrame;
    try {
      frame = decodeClientFrame(new Uint8Array(data));
    } catch {
      this.close(CLOSE_CODES.invalidFrame, 'malformed frame');
      return;
    }
    this.handle(frame);
  }

  private handle(frame: ClientFrame): void {
    try {
      switch (frame.kind) {
        case 'syncStep1':
          this.answerSyncStep1(frame.stateVector);
          return;
        case 'update':
          this.receive(frame.update);
          return;
        case 'awareness':
          this.parts.presence.receive(this, frame.update);
          return;
        case 'queryAwareness':
          this.parts.presence.query(this);
          return;
        case 'ignored':
          return;
      }
    } catch {
      // An awareness update that does not decode.
      this.close(CLOSE_CODES.invalidFrame, 'malformed frame');
    }
  }

  /**
   * Answers after every update this socket sent before it has been received
   * (persisted and reviewed), so the reply carries their compensations and
   * proves to the client that they were reviewed. The first answer also asks
   * for the client's offline edits (our SyncStep1); later ones (resyncs,
   * probes) are answered with the diff alone, as y-websocket's server does.
   */
  private answerSyncStep1(stateVector: Uint8Array): void {
    const first = !this.askedForEdits;
    this.askedForEdits = true;
    this.receiving = this.receiving.then(() => {
      const { doc } = this.parts.channel.hosted;
      try {
        // A first sync is the one large frame a socket gets: the only one worth deflating.
        this.sendFrame(encodeSyncStep2(doc, stateVector), true);
        if (first) {
          this.sendFrame(encodeSyncStep1(doc));
        }
      } catch {
        // A state vector that does not decode.
        this.close(CLOSE_CODES.invalidFrame, 'malformed frame');
      }
    });
  }

  private receive(update: Uint8Array): void {
    const { host, user, entry, log } = this.parts;
    const author: Author = { userId: user.id, sessionId: entry.sessionId, connectionId: this.connectionId };
    this.receiving = this.receiving
      .then(() => host.receive(user.id, update, author))
      .catch((error: unknown) => {
        log.error({ err: error, userId: user.id, connectionId: this.connectionId }, 'sync update not stored; closing so the client re-sends it');
        this.close(CLOSE_CODES.internalError, 'update not stored');
      });
  }

  private dispose(): void {
    if (this.state === 'closed') {
      return;
    }
    const wasBound = this.state === 'bound';
    this.state = 'closed';
    clearTimeout(this.bindTimer);
    const { registry, entry, channels, channel, presence } = this.parts;
    registry.release(entry);
    if (wasBound) {
      channel.remove(this);
      presence.leave(this);
    }
    channels.release(channel);
    this.parts.onGone(this);
  }
}
