/**
 * @module app/lib/sync/handshake
 * Wraps y-websocket's sync message handler with the order Shoal needs on
 * every (re)connection:
 *
 * 1. Hold every sync message from the server until both its state vector
 *    (SyncStep1) and its diff (SyncStep2) are here.
 * 2. Look at the diff before applying it: a document of another epoch is
 *    never merged into this copy (the session drops the copy instead).
 * 3. Send the device's own diff up, then apply the server's. Up first,
 *    because applied first a concurrent server value can win a key by Yjs
 *    client id, and gc then empties the device's unsent offline edit.
 *
 * It also acknowledges writes: once live, a probe (SyncStep1) sent after some
 * writes is answered by a SyncStep2 after the server processed everything
 * before it on this socket, including its review of those writes.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { messageSync, type WebsocketProvider } from 'y-websocket';

export interface HandshakeHooks {
  /** Look at a server update before it is applied; false stops this connection (the session resets). */
  acceptUpdate(update: Uint8Array): boolean;
  /** The device's state went up and the server's was applied. */
  live(): void;
  /** The server answered a probe: everything recorded up to `seq` has been reviewed. */
  acknowledged(seq: number): void;
}

export interface Handshake {
  readonly live: boolean;
  /** Sends a probe covering writes up to `seq`. @returns false when not live. */
  probe(seq: number): boolean;
  uninstall(): void;
}

/** How long to wait for the server's state vector after its diff before sending the whole local state. */
export const HANDSHAKE_TIMEOUT_MS = 3000;

type Phase = 'idle' | 'handshake' | 'live' | 'stopped';
type Handler = WebsocketProvider['messageHandlers'][number];

function syncTypeOf(message: Uint8Array): number {
  return decoding.readVarUint(decoding.createDecoder(message));
}

function updateOf(message: Uint8Array): Uint8Array {
  const decoder = decoding.createDecoder(message);
  decoding.readVarUint(decoder);
  return decoding.readVarUint8Array(decoder);
}

function send(provider: WebsocketProvider, bytes: Uint8Array): boolean {
  const ws = provider.ws;
  if (ws === null || ws.readyState !== ws.OPEN) {
    return false;
  }
  ws.send(bytes);
  return true;
}

export function installHandshake(provider: WebsocketProvider, hooks: HandshakeHooks): Handshake {
  const original = provider.messageHandlers[messageSync] as Handler;
  let phase: Phase = 'idle';
  let serverVector: Uint8Array | null = null;
  let held: Uint8Array[] = [];
  let probes: number[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;

  const clearTimer = (): void => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  };

  const apply = (message: Uint8Array): void => {
    const encoder = encoding.createEncoder();
    original(encoder, decoding.createDecoder(message), provider, true, messageSync);
    if (encoding.length(encoder) > 1) {
      send(provider, encoding.toUint8Array(encoder));
    }
  };

  const accepts = (message: Uint8Array): boolean => {
    const type = syncTypeOf(message);
    if (type === syncProtocol.messageYjsSyncStep1 || hooks.acceptUpdate(updateOf(message))) {
      return true;
    }
    phase = 'stopped';
    clearTimer();
    return false;
  };

  // `force`: the server never sent its state vector; send everything instead.
  const complete = (force: boolean): void => {
    if (phase !== 'handshake' || !held.some((m) => syncTypeOf(m) === syncProtocol.messageYjsSyncStep2)) {
      return;
    }
    if (serverVector === null && !force) {
      timer ??= setTimeout(() => complete(true), HANDSHAKE_TIMEOUT_MS);
      return;
    }
    clearTimer();
    if (!held.every(accepts)) {
      return;
    }
    const up = encoding.createEncoder();
    encoding.writeVarUint(up, messageSync);
    if (serverVector === null) {
      syncProtocol.writeUpdate(up, Y.encodeStateAsUpdate(provider.doc));
    } else {
      syncProtocol.writeSyncStep2(up, provider.doc, updateOf(serverVector));
    }
    send(provider, encoding.toUint8Array(up));
    const messages = held;
    held = [];
    serverVector = null;
    phase = 'live';
    messages.forEach(apply);
    hooks.live();
  };

  const handler: Handler = (encoder, decoder, _provider, emitSynced, messageType) => {
    const message = decoder.arr.subarray(decoder.pos);
    if (phase === 'stopped') {
      return;
    }
    if (phase !== 'handshake') {
      if (!accepts(message)) {
        return;
      }
      const type = syncTypeOf(message);
      original(encoder, decoder, provider, emitSynced, messageType);
      const seq = type === syncProtocol.messageYjsSyncStep2 && phase === 'live' ? probes.shift() : undefined;
      if (seq !== undefined) {
        hooks.acknowledged(seq);
      }
      return;
    }
    // Copied: the decoder's buffer belongs to the socket event.
    const copy = message.slice();
    if (syncTypeOf(copy) === syncProtocol.messageYjsSyncStep1) {
      serverVector = copy;
    } else {
      held.push(copy);
    }
    complete(false);
  };

  const onStatus = ({ status }: { status: 'connected' | 'disconnected' | 'connecting' }): void => {
    if (phase === 'stopped') {
      return;
    }
    clearTimer();
    held = [];
    serverVector = null;
    probes = [];
    phase = status === 'connected' ? 'handshake' : 'idle';
  };

  provider.messageHandlers[messageSync] = handler;
  provider.on('status', onStatus);
  return {
    get live() {
      return phase === 'live';
    },
    probe(seq: number): boolean {
      if (phase !== 'live') {
        return false;
      }
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, messageSync);
      syncProtocol.writeSyncStep1(encoder, provider.doc);
      if (!send(provider, encoding.toUint8Array(encoder))) {
        return false;
      }
      probes.push(seq);
      return true;
    },
    uninstall(): void {
      clearTimer();
      phase = 'stopped';
      provider.off('status', onStatus);
      provider.messageHandlers[messageSync] = original;
    },
  };
}
