/**
 * @module sync/client/replay
 * Puts the outbox's pending writes back into a document that may not hold
 * them: a fresh one after the server rebuilt it under a new epoch, or the
 * device's stored copy after a crash between writing the outbox and the
 * document. A write is replayed with its original stamp, so the server's
 * idempotency log (user, key, hlc) recognizes one it already decided, and a
 * replay never outranks a later edit made elsewhere.
 */
import type * as Y from 'yjs';
import { stampOf } from './clock';
import { compareHlc, type Outbox, type OutboxEntry, type SettledWrite } from './outbox';
import { LOCAL_WRITE } from './write';

export interface ReplayOptions {
  /**
   * True when the document holds only what the server sent (a fresh copy
   * after an epoch change): a value with the write's own stamp then proves
   * the server has it, and the write settles without being resent.
   */
  authoritative: boolean;
  /** Replay only writes recorded up to here (those made before the reset). Default: all. */
  throughSeq?: number;
}

export interface ReplayResult {
  /** Writes put back into the document, to be sent again. */
  resent: OutboxEntry[];
  /** Writes the document showed already answered. */
  settled: SettledWrite[];
}

function readValue(doc: Y.Doc, entry: OutboxEntry): unknown {
  return doc.getMap<unknown>(entry.map).get(entry.key);
}

/** Replays pending writes into `doc` in one local transaction. */
export function replayOutbox(doc: Y.Doc, outbox: Outbox, options: ReplayOptions): ReplayResult {
  const limit = options.throughSeq ?? outbox.lastSeq;
  const pending = outbox.pending().filter((e) => e.seq <= limit);
  const answered: OutboxEntry[] = [];
  const resent: OutboxEntry[] = [];
  for (const entry of pending) {
    const order = compareHlc(stampOf(readValue(doc, entry)), entry.hlc);
    if (order > 0 || (order === 0 && options.authoritative)) {
      answered.push(entry);
    } else if (order < 0) {
      resent.push(entry);
    }
    // order === 0 on the device's own copy: the write is there, still waiting for the server.
  }
  const settled = outbox.settleEntries(answered, (entry) => readValue(doc, entry));
  // A conversion the fresh copy holds unanswered stays pending; it is not resent.
  if (resent.length > 0) {
    doc.transact(() => {
      for (const entry of resent) {
        doc.getMap<unknown>(entry.map).set(entry.key, entry.value);
      }
    }, LOCAL_WRITE);
  }
  return { resent, settled };
}
