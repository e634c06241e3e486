/**
 * @module scripts/bench/support
 * Shared pieces of the benchmarks: a throwaway database and a peak-RSS sampler.
 */
import { migrate, openDb, type Db } from '../../db';
import { createPostgresDb } from '../../tests/helpers/db';

/** Samples RSS every 20 ms; the peak is what the targets speak about. */
export function peakRss(): { peakMb(): number; stop(): void } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  timer.unref();
  return {
    peakMb: () => Math.max(peak, process.memoryUsage.rss()) / (1024 * 1024),
    stop: () => clearInterval(timer),
  };
}

/**
 * A fresh database for one run: a new Postgres database when a URL is given
 * (BENCH_DATABASE_URL, else TEST_DATABASE_URL), else in-memory PGlite.
 */
export async function createBenchDb(): Promise<{ db: Db; drop(): Promise<void> }> {
  // Scripts outside server/ may read the environment; server code never does.
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (url) {
    return createPostgresDb(url, 'shoal_bench');
  }
  const db = await openDb({ inMemory: true });
  await migrate(db);
  return { db, drop: () => db.close() };
}
