/**
 * @module server/ingest/parse-worker
 * Worker-thread side of the parse pool: parses raw messages off the main
 * thread so IMAP, parsing and database writes run on both cores at once.
 * Plain JavaScript that loads the TypeScript parser through tsx's API,
 * because a worker does not inherit the parent's TypeScript loader.
 */
import { parentPort } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

/** @type {{ parseMessage(raw: Uint8Array): Promise<unknown> }} */
const { parseMessage } = await tsImport('./parse-message.ts', import.meta.url);

parentPort?.on('message', (/** @type {{ id: number; raw: Uint8Array }} */ job) => {
  void parseMessage(job.raw).then((result) => parentPort?.postMessage({ id: job.id, result }));
});
