/**
 * @module server/ingest/parse-worker
 * Entry of a parse worker when the server runs from TypeScript sources: a
 * worker does not inherit the parent's TypeScript loader, so this plain
 * JavaScript loads parse-worker.ts through tsx's CommonJS API, which
 * compiles in this thread (the ESM one, `tsImport`, would start a
 * module-hooks thread, a further V8 isolate of about 10 MB). A compiled
 * build puts the bundled parse-worker.ts under this name beside its bundle
 * and needs no tsx.
 */
import { require as tsxRequire } from 'tsx/cjs/api';

tsxRequire('./parse-worker.ts', import.meta.url);
