/**
 * @module scripts/bench/parse-only
 * Phase (a) of `npm run bench:ingest`: the pipeline's own `parseMessage`
 * over the whole corpus on this process's main thread, one message at a
 * time, after 300 messages of warm-up. Run by ingest.ts in a process of its
 * own, compiled like phase (c) and with the same V8 flags, so that the two
 * compare the same code under the same garbage collector. Prints one JSON
 * line.
 */
import { parseMessage } from '../../server/ingest/parse-message';
import { loadCorpus } from '../../tests/helpers/corpus';

export interface ParseFigures {
  messages: number;
  perSecond: number;
  /** CPU seconds of the whole process (this thread and V8's helper threads) while timed. */
  cpuSeconds: number;
}

const raws = loadCorpus().map((m) => m.raw);
for (const raw of raws.slice(0, 300)) {
  await parseMessage(raw);
}
const cpu = process.cpuUsage();
const started = performance.now();
for (const raw of raws) {
  await parseMessage(raw);
}
const seconds = (performance.now() - started) / 1000;
const spent = process.cpuUsage(cpu);
const figures: ParseFigures = { messages: raws.length, perSecond: raws.length / seconds, cpuSeconds: (spent.user + spent.system) / 1e6 };
process.stdout.write(`${JSON.stringify(figures)}\n`);
