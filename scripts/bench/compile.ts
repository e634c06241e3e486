/**
 * @module scripts/bench/compile
 * Compiles phases (a) and (c) of the ingest benchmark to plain JavaScript
 * with the bundler `npm start` runs the server through
 * (scripts/build-server.ts), so the measured processes load the code as the
 * server does: no tsx loader, no module-hooks thread, no source maps kept.
 * The parse worker is bundled beside the entries as `parse-worker.mjs`,
 * which is where the parse pool looks for it.
 */
import { fileURLToPath } from 'node:url';
import { bundleServer } from '../build-server';

const OUT_DIR = fileURLToPath(new URL('../../node_modules/.cache/shoal-bench/ingest/', import.meta.url));

export interface CompiledBench {
  /** Phase (c): ingest-run.ts. */
  ingestRun: string;
  /** Phase (a): parse-only.ts. */
  parseOnly: string;
}

export async function compileBench(): Promise<CompiledBench> {
  const built = await bundleServer({ 'ingest-run': 'scripts/bench/ingest-run.ts', 'parse-only': 'scripts/bench/parse-only.ts' }, OUT_DIR);
  return { ingestRun: built['ingest-run'], parseOnly: built['parse-only'] };
}
