/**
 * @module scripts/bench/support
 * Shared pieces of the benchmarks: a throwaway database and a peak-RSS sampler.
 */
import postgres from 'postgres';
import { openDb, type Db } from '../../db';

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
  if (!url) {
    const db = await openDb({ inMemory: true });
    return { db, drop: () => db.close() };
  }
  const name = `shoal_bench_${Date.now().toString(36)}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const db = await openDb({ databaseUrl: target.toString() });
  return {
    db,
    async drop() {
      await db.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
