/**
 * @module scripts/bench/ingest-ab
 * Phase (c) of the ingest benchmark alone, for variants measured back to
 * back against one Dovecot: on a shared machine the load drifts between
 * two whole `bench:ingest` runs more than most changes move the figures,
 * so variants alternate, round after round, and each line gives peak RSS
 * and the CPU split (steadier under load than wall time).
 *
 *   npx tsx scripts/bench/ingest-ab.ts [--rounds=N] VARIANT…
 *
 * A variant is `compiled` (as `npm start` runs the server) or `tsx` (the
 * TypeScript sources), optionally followed by `:` and comma-separated V8
 * flags, e.g. `compiled:--max-semi-space-size=4`. Default: `compiled tsx`,
 * three rounds. The database is as for bench:ingest (BENCH_DATABASE_URL,
 * else TEST_DATABASE_URL, else PGlite).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadCorpus } from '../../tests/helpers/corpus';
import { startDovecot } from '../../tests/helpers/dovecot';
import { startSmtpSink } from '../../tests/helpers/smtp-sink';
import { compileBench } from './compile';
import type { IngestFigures } from './ingest-run';

interface Variant {
  name: string;
  loader: 'compiled' | 'tsx';
  flags: string[];
}

function parseArgs(argv: readonly string[]): { rounds: number; variants: Variant[] } {
  let rounds = 3;
  const names: string[] = [];
  for (const arg of argv) {
    const roundsArg = /^--rounds=(\d+)$/u.exec(arg);
    if (roundsArg) {
      rounds = Number(roundsArg[1]);
    } else {
      names.push(arg);
    }
  }
  const variants = (names.length > 0 ? names : ['compiled', 'tsx']).map((name) => {
    const [loader = '', flags = ''] = name.split(/:(.*)/su);
    if (loader !== 'compiled' && loader !== 'tsx') {
      throw new Error(`ingest-ab: unknown loader in "${name}" (compiled or tsx)`);
    }
    return { name, loader, flags: flags === '' ? [] : flags.split(',') } satisfies Variant;
  });
  return { rounds, variants };
}

function runIngest(args: readonly string[], env: NodeJS.ProcessEnv): Promise<IngestFigures> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`ingest-run failed: ${error.message}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as IngestFigures);
    });
  });
}

function line(variant: Variant, f: IngestFigures): string {
  const c = f.cpu;
  const total = c.main + c.started + c.helpers + c.postgres;
  const cpu = [c.main, c.started, c.helpers, c.postgres].map((s) => s.toFixed(2)).join(' / ');
  return [
    variant.name.padEnd(24),
    `peak ${Math.round(f.peakRssMb)} MB`,
    `before ${Math.round(f.rssBeforeMb)} MB`,
    `heap ${Math.round(f.atPeak.heapMb)} MB`,
    `external ${Math.round(f.atPeak.externalMb)} MB`,
    `${f.seconds.toFixed(1)} s`,
    `CPU main / worker / helpers / postgres ${cpu} = ${total.toFixed(2)} s`,
  ].join('  ');
}

const { rounds, variants } = parseArgs(process.argv.slice(2));
const raws = loadCorpus().map((m) => m.raw);
const compiled = await compileBench();
const source = fileURLToPath(new URL('./ingest-run.ts', import.meta.url));
const dovecot = await startDovecot();
const sink = await startSmtpSink();
try {
  await dovecot.prefill('alice', 'INBOX', raws);
  const env = { ...process.env, BENCH_IMAP_PORT: String(dovecot.port), BENCH_SMTP_PORT: String(sink.port), BENCH_MESSAGES: String(raws.length) };
  for (let round = 1; round <= rounds; round += 1) {
    for (const variant of variants) {
      const entry = variant.loader === 'compiled' ? [compiled.ingestRun] : [...process.execArgv, source];
      console.log(`${round}  ${line(variant, await runIngest([...variant.flags, ...entry], env))}`);
    }
  }
} finally {
  await sink.stop();
  await dovecot.stop();
}
process.exit(0);
