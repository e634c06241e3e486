/**
 * @module server/ingest/parse-pool
 * A small pool of parse workers. Results come back in any order and are
 * matched by job id; a crashed worker is replaced and its jobs answered
 * as unparseable (quarantined), never lost.
 */
import { Worker } from 'node:worker_threads';
import type { ParseResult } from './parse-message';

interface Pending {
  resolve: (result: ParseResult) => void;
  worker: Worker;
}

export interface ParsePool {
  parse(raw: Uint8Array): Promise<ParseResult>;
  close(): Promise<void>;
}

const WORKER_URL = new URL('./parse-worker.mjs', import.meta.url);

/**
 * The worker's young generation (both semi-spaces and the young large-object
 * space). V8 lets it grow to 48 MB while mailparser allocates; almost all of
 * that is garbage of the previous message, so a smaller one costs no measurable
 * CPU and keeps about 30 MB less resident. Only the young generation is capped:
 * the old generation keeps V8's default, so a large message parses as before.
 */
const WORKER_YOUNG_GENERATION_MB = 24;

/**
 * Starts `size` workers. One is right for two cores: the main thread does IMAP
 * and database I/O while the worker parses.

 */
export function createParsePool(size = 1): ParsePool {
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let turn = 0;
  let closed = false;
  const workers: Worker[] = [];

  const spawn = (slot: number): Worker => {
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    worker.on('message', (msg: { id: number; result: ParseResult }) => {
      pending.get(msg.id)?.resolve(msg.result);
      pending.delete(msg.id);
    });
    worker.on('error', () => fail(worker, slot));
    worker.on('exit', () => fail(worker, slot));
    worker.unref();
    workers[slot] = worker;
    return worker;
  };

  const fail = (worker: Worker, slot: number) => {
    for (const [id, job] of pending) {
      if (job.worker === worker) {
        job.resolve({ ok: false, reason: 'the parser crashed on this message' });
        pending.delete(id);
      }
    }
    if (!closed && workers[slot] === worker) {
      spawn(slot);
    }
  };

  for (let i = 0; i < Math.max(1, size); i += 1) {
    spawn(i);
  }

  return {
    parse(raw) {
      const worker = workers[turn++ % workers.length] as Worker;
      const id = nextId++;
      // The caller keeps its bytes (they are stored raw), so the worker gets a copy of its own
      // (a Buffer's slice() would share memory) that is transferred, not cloned a second time.
      const copy = new Uint8Array(raw);
      return new Promise<ParseResult>((resolve) => {
        pending.set(id, { resolve, worker });
        worker.postMessage({ id, raw: copy }, [copy.buffer]);
      });
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
