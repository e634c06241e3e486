/**
 * @module scripts/bench/compile
 * Compiles phases (a) and (c) of the ingest benchmark to plain JavaScript,
 * so the measured processes run without tsx: no module-hooks thread, no
 * TypeScript compiled at load and no source maps kept for it (about 80 MB
 * of RSS in the syncing process).
 * esbuild is the one tsx itself runs on. Packages stay in node_modules;
 * the parse worker is bundled beside the entry as `parse-worker.mjs`,
 * which is where the parse pool looks for it.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = new URL('../../', import.meta.url);
const OUT_DIR = fileURLToPath(new URL('node_modules/.cache/shoal-bench/ingest/', root));

/** Modules that read files beside their source (db/migrate.ts: the migrations) keep their source URL. */
const sourceUrls: Plugin = {
  name: 'source-urls',
  setup(b) {
    b.onLoad({ filter: /[\\/]db[\\/]migrate\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
      loader: 'ts',
    }));
  },
};

export interface CompiledBench {
  /** Phase (c): ingest-run.ts. */
  ingestRun: string;
  /** Phase (a): parse-only.ts. */
  parseOnly: string;
}

export async function compileBench(): Promise<CompiledBench> {
  await build({
    absWorkingDir: fileURLToPath(root),
    entryPoints: {
      'ingest-run': 'scripts/bench/ingest-run.ts',
      'parse-worker': 'server/ingest/parse-worker.ts',
      'parse-only': 'scripts/bench/parse-only.ts',
    },
    outdir: OUT_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [sourceUrls],
    logLevel: 'warning',
  });
  return { ingestRun: `${OUT_DIR}ingest-run.mjs`, parseOnly: `${OUT_DIR}parse-only.mjs` };
}
