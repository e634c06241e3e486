/**
 * @module server/sync/host/requests
 * Requests to another process over the bus (forward an edit to a document's
 * holder, ask it to rebuild), each answered by an `ack`. Pub/sub may lose
 * either, so a request that hears nothing in time reports a timeout and the
 * caller asks again; the holder's work is idempotent (a Yjs update applied
 * twice changes nothing the second time).
 */
import { randomUUID } from 'node:crypto';
import type { Bus, BusEnvelope, BusMessage } from './bus';

export const REQUEST_OUTCOMES = { ok: 'ok', refused: 'refused', timeout: 'timeout' } as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[keyof typeof REQUEST_OUTCOMES];

type Ack = Extract<BusEnvelope, { kind: 'ack' }>;
type Request = Extract<BusMessage, { kind: 'client-update' } | { kind: 'rebuild-request' }>;
type Unaddressed<T> = T extends unknown ? Omit<T, 'to' | 'requestId'> : never;
/** A request before it is addressed and numbered. */
export type RequestBody = Unaddressed<Request>;

export class Requests {
  private readonly waiting = new Map<string, (ack: Ack | null) => void>();

  constructor(private readonly bus: Bus) {}

  async send(to: string, body: RequestBody, timeoutMs: number): Promise<RequestOutcome> {
    const requestId = randomUUID();
    const answered = new Promise<Ack | null>((resolve) => {
      const timer = setTimeout(() => this.finish(requestId, null), timeoutMs);
      timer.unref();
      this.waiting.set(requestId, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
    });
    try {
      await this.bus.publish({ ...body, to, requestId } as Request);
    } catch {
      this.finish(requestId, null);
    }
    const ack = await answered;
    if (!ack) {
      return REQUEST_OUTCOMES.timeout;
    }
    return ack.ok ? REQUEST_OUTCOMES.ok : REQUEST_OUTCOMES.refused;
  }

  /** Hands an `ack` addressed to this process to its request. */
  settle(ack: Ack): void {
    this.finish(ack.requestId, ack);
  }

  /** Answers a request this process received. */
  answer(request: Extract<BusEnvelope, { kind: 'client-update' } | { kind: 'rebuild-request' }>, ok: boolean, reason?: string): Promise<void> {
    return this.bus.publish({ kind: 'ack', to: request.from, requestId: request.requestId, ok, ...(reason ? { reason } : {}) });
  }

  /** Every pending request times out now. */
  close(): void {
    for (const id of [...this.waiting.keys()]) {
      this.finish(id, null);
    }
  }

  private finish(requestId: string, ack: Ack | null): void {
    const done = this.waiting.get(requestId);
    if (done) {
      this.waiting.delete(requestId);
      done(ack);
    }
  }
}
