/**
 * @module server/sync/host/bus-handlers
 * What a host does with the bus's messages: replicas apply relayed updates
 * and reload on a reset; the holder of a document serves edits and rebuilds
 * forwarded by other processes and acknowledges them once stored.
 */
import type { Logger } from 'pino';
import type { Author } from '../types';
import type { BusEnvelope } from './bus';
import type { CapturedChanges } from './changed-keys';
import { DOC_HOST_ERRORS, DocHostError } from './errors';
import type { Requests } from './requests';
import { RESIDENT_MODES, type ResidentDoc } from './resident';

export interface BusHost {
  readonly processId: string;
  readonly residents: ReadonlyMap<string, ResidentDoc>;
  readonly requests: Requests;
  readonly log: Logger;
  writable(userId: string): Promise<ResidentDoc | null>;
  review(writer: ResidentDoc, author: Author, changes: CapturedChanges, stored: Promise<readonly number[]>): Promise<void>;
  /** Runs a person's edit ahead of background work. */
  inForeground<T>(work: () => Promise<T>): Promise<T>;
  warn(message: string): (error: unknown) => void;
}

type Served = Extract<BusEnvelope, { kind: 'client-update' } | { kind: 'rebuild-request' }>;

export function handleBusMessage(host: BusHost, m: BusEnvelope): void {
  switch (m.kind) {
    case 'doc-update':
      return relayUpdate(host, m);
    case 'reset': {
      const r = host.residents.get(m.userId);
      if (m.from !== host.processId && r?.mode === RESIDENT_MODES.replica) {
        r.catchUp().catch(host.warn('sync reload failed'));
      }
      return;
    }
    case 'client-update':
    case 'rebuild-request':
      if (m.to === host.processId) {
        void serve(host, m);
      }
      return;
    case 'ack':
      if (m.to === host.processId) {
        host.requests.settle(m);
      }
      return;
    case 'changes':
      return;
  }
}

function relayUpdate(host: BusHost, m: Extract<BusEnvelope, { kind: 'doc-update' }>): void {
  const r = host.residents.get(m.userId);
  if (!r || m.from === host.processId) {
    return;
  }
  if (r.mode === RESIDENT_MODES.replica) {
    r.relay(m);
    return;
  }
  if (r.mode === RESIDENT_MODES.writer && m.seq > r.lastSeq && !r.busy) {
    // Another process stored past us, so it claimed the document: our lease is gone.
    r.drop('another process writes this document');
  }
}

/** Does what another process asked of this one as the holder, and answers. */
async function serve(host: BusHost, m: Served): Promise<void> {
  let answered = false;
  const answer = async (ok: boolean, reason?: string) => {
    answered = true;
    await host.requests.answer(m, ok, reason).catch(host.warn('sync ack failed'));
  };
  try {
    const writer = await host.writable(m.userId);
    if (!writer) {
      await answer(false, DOC_HOST_ERRORS.notHolder);
      return;
    }
    if (m.kind === 'rebuild-request') {
      await writer.rebuild();
      await answer(true);
      return;
    }
    await host.inForeground(async () => {
      const applied = await writer.apply(m.update, m.author);
      const seqs = await applied.persisted;
      // Stored (with what it changed) and broadcast: the sender's socket may move on; the review is the holder's business, now or after a crash.
      await answer(true);
      await host.review(writer, m.author, applied.changes, Promise.resolve(seqs));
    });
  } catch (error) {
    host.log.warn({ err: error, userId: m.userId }, 'sync request from another process failed');
    if (!answered) {
      await answer(false, error instanceof DocHostError ? error.code : 'failed');
    }
  }
}
