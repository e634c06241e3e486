/**
 * @module scripts/build-server
 * Bundles the server to plain JavaScript in build/server/, which is what
 * `npm start` runs: a process started through tsx carries its loader, a
 * module-hooks thread and the source maps of everything it compiled, about
 * 75 MB resident before Shoal does anything. Packages stay in node_modules
 * (imported as they are); only the repository's own TypeScript is bundled.
 * The parse worker is bundled beside the entry as `parse-worker.mjs`, the
 * name the parse pool loads next to its own module.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { ROOT } from './ensure-build';

export const SERVER_BUILD_DIR = join(ROOT, 'build/server');

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

/**
 * Bundles `entries` (output name → source path from the repository root)
 * together with the parse worker into `outDir`, as `<name>.mjs`.
 * @returns the path of each entry's bundle, by name.
 */
export async function bundleServer<T extends string>(entries: Record<T, string>, outDir = SERVER_BUILD_DIR): Promise<Record<T, string>> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: { ...entries, 'parse-worker': 'server/ingest/parse-worker.ts' },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [sourceUrls],
    logLevel: 'warning',
  });
  const names = Object.keys(entries) as T[];
  return Object.fromEntries(names.map((name) => [name, join(outDir, `${name}.mjs`)])) as Record<T, string>;
}

/** The server as `npm start` runs it: build/server/index.mjs. */
export function buildServer(): Promise<{ index: string }> {
  return bundleServer({ index: 'server/index.ts' });
}
