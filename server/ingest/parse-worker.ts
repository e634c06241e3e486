/**
 * @module server/ingest/parse-worker
 * Worker-thread side of the parse pool: parses raw messages off the main
 * thread so IMAP, parsing and database writes run on both cores at once.
 * Started through parse-worker.mjs when the server runs from TypeScript
 * sources; a compiled build bundles this module as its `parse-worker.mjs`.
 */
import { parentPort } from 'node:worker_threads';
import { parseMessage } from './parse-message';

interface Job {
  id: number;
  raw: Uint8Array;
}

const queue: Job[] = [];
let running = false;

/**
 * One message at a time, in arrival order: the pool may queue a few
 * megabytes ahead, and parsing all of it at once would keep every parser's
 * state alive together and answer the oldest message last.
 */
async function drain(): Promise<void> {
  running = true;
  for (let job = queue.shift(); job; job = queue.shift()) {
    const result = await parseMessage(job.raw);
    parentPort?.postMessage({ id: job.id, result });
  }
  running = false;
}

parentPort?.on('message', (job: Job) => {
  queue.push(job);
  if (!running) {
    void drain();
  }
});
