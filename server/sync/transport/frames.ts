/**
 * @module server/sync/transport/frames
 * The y-protocols wire format as y-websocket speaks it: a varuint message
 * type (0 sync, 1 awareness, 2 auth, 3 query awareness), then the payload.
 * Decoding is strict (a truncated frame throws) so a malformed frame is
 * refused as a whole, never half-read.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import type * as Y from 'yjs';

export const MESSAGE = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const;

export type ClientFrame =
  | { kind: 'syncStep1'; stateVector: Uint8Array }
  /** SyncStep2 and Update carry the same thing: a Yjs update from the client. */
  | { kind: 'update'; update: Uint8Array }
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'queryAwareness' }
  /** Auth messages and unknown types: nothing for the server to do. */
  | { kind: 'ignored' };

/**
 * Reads one client frame.
 * @throws when the frame is truncated or its sync sub-type is unknown.
 */
export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  const decoder = decoding.createDecoder(bytes);
  const type = decoding.readVarUint(decoder);
  switch (type) {
    case MESSAGE.sync:
      return decodeSync(decoder);
    case MESSAGE.awareness:
      return { kind: 'awareness', update: decoding.readVarUint8Array(decoder) };
    case MESSAGE.queryAwareness:
      return { kind: 'queryAwareness' };
    default:
      return { kind: 'ignored' };
  }
}

function decodeSync(decoder: decoding.Decoder): ClientFrame {
  const step = decoding.readVarUint(decoder);
  const payload = decoding.readVarUint8Array(decoder);
  switch (step) {
    case syncProtocol.messageYjsSyncStep1:
      return { kind: 'syncStep1', stateVector: payload };
    case syncProtocol.messageYjsSyncStep2:
    case syncProtocol.messageYjsUpdate:
      return { kind: 'update', update: payload };
    default:
      throw new Error(`unknown sync message type ${step}`);
  }
}

/** SyncStep2 holding only what a client with `stateVector` lacks. */
export function encodeSyncStep2(doc: Y.Doc, stateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE.sync);
  syncProtocol.writeSyncStep2(encoder, doc, stateVector);
  return encoding.toUint8Array(encoder);
}

/** Our state vector, so the client answers with what we lack (its offline edits). */
export function encodeSyncStep1(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE.sync);
  syncProtocol.writeSyncStep1(encoder, doc);
  return encoding.toUint8Array(encoder);
}

export function encodeUpdateFrame(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE.sync);
  syncProtocol.writeUpdate(encoder, update);
  return encoding.toUint8Array(encoder);
}

export function encodeAwarenessFrame(awarenessUpdate: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE.awareness);
  encoding.writeVarUint8Array(encoder, awarenessUpdate);
  return encoding.toUint8Array(encoder);
}

/** One client's entry in an awareness update; `state` null means "gone". */
export interface AwarenessEntry {
  clientId: number;
  clock: number;
  state: unknown;
}

/**
 * Reads an awareness update (y-protocols layout: count, then id, clock, JSON).
 * @throws when truncated or a state is not JSON.
 */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const entries: AwarenessEntry[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const state: unknown = JSON.parse(decoding.readVarString(decoder));
    entries.push({ clientId, clock, state });
  }
  return entries;
}

export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, JSON.stringify(entry.state ?? null));
  }
  return encoding.toUint8Array(encoder);
}
