/**
 * @module tests/helpers/sanitizer-bundle
 * The app's mail sanitizer bundled as one script (Vite, the app's own
 * bundler) for a real Chromium page: DOMPurify must be tested on the
 * browser's parser, the one it runs on in production.
 */
import { fileURLToPath } from 'node:url';
import { build, type Rolldown } from 'vite';

const ENTRY = fileURLToPath(new URL('../../app/src/lib/components/inbox/html/sanitize.ts', import.meta.url));

/** An IIFE that defines `window.ShoalSanitize.sanitizeEmailHtml`. */
export async function sanitizerBundle(): Promise<string> {
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    build: { write: false, minify: false, lib: { entry: ENTRY, name: 'ShoalSanitize', formats: ['iife'], fileName: 'sanitize' } },
  });
  const output = (Array.isArray(result) ? result[0] : result) as Rolldown.RolldownOutput;
  const chunk = output.output[0];
  return chunk.code;
}
