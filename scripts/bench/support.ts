/**
 * @module scripts/bench/support
 * Shared pieces of the benchmarks: a throwaway database, a peak-RSS sampler
 * and CPU accounting that says where a run's time went.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { migrate, openDb, type Db } from '../../db';
import { createPostgresDb } from '../../tests/helpers/db';

const MB = 1024 * 1024;

/** What the main isolate held when RSS peaked; the rest is other isolates (the parse worker), code and native memory. */
export interface PeakParts {
  heapMb: number;
  externalMb: number;
}

/**
 * Samples RSS every 20 ms; the peak is what the targets speak about. Only
 * RSS is read each time (the full `memoryUsage()` walks the heap's spaces
 * and cost the measured main thread 0.1 s per run); the heap figures are
 * read when RSS reaches a new peak.
 */
export function peakRss(): { peakMb(): number; parts(): PeakParts; stop(): void } {
  let peak = process.memoryUsage();
  const sample = () => {
    if (process.memoryUsage.rss() > peak.rss) {
      peak = process.memoryUsage();
    }
  };
  const timer = setInterval(sample, 20);
  timer.unref();
  return {
    peakMb: () => {
      sample();
      return peak.rss / MB;
    },
    parts: () => ({ heapMb: peak.heapTotal / MB, externalMb: peak.external / MB }),
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

const TICKS_PER_SECOND = 100;

/** User plus system CPU seconds of a process or thread, from its /proc stat line; 0 once it is gone. */
function cpuSeconds(statPath: string): number {
  try {
    const stat = readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function threadTimes(): Map<number, number> {
  const tids = readdirSync('/proc/self/task').map(Number);
  return new Map(tids.map((tid) => [tid, cpuSeconds(`/proc/self/task/${tid}/stat`)]));
}

/** The process's threads now: taken before any worker starts, the main thread and V8's and libuv's. */
export function processThreads(): Set<number> {
  return new Set(threadTimes().keys());
}

/** CPU seconds of one phase, by where they were spent. */
export interface CpuSplit {
  /** The main thread: IMAP, threading, building rows, the database protocol. */
  main: number;
  /**
   * Threads that existed before the phase: V8's platform threads, which run the
   * optimizing compiler's jobs (most of this, in `perf`) and parallel and concurrent
   * garbage collection for every isolate of the process, the parse worker's included;
   * libuv's thread pool.
   */
  helpers: number;
  /** Threads started during the phase, or after `platform` was taken: the parse worker (and its module loader). */
  started: number;
  /** The Postgres backends serving the bench database. */
  postgres: number;
}

/**
 * Starts measuring CPU by thread of this process and by backend of the
 * bench database (Linux /proc; a backend opened during the phase counts
 * from its start). Dovecot and the kernel's own work are not included.
 */
export async function cpuMeter(db: Db, platform: ReadonlySet<number> = processThreads()): Promise<{ stop(): Promise<CpuSplit> }> {
  const backends = async () => {
    if (db.driver !== 'postgres') {
      return new Map<number, number>();
    }
    const rows = await db.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()');
    return new Map(rows.map((r) => [r.pid, cpuSeconds(`/proc/${r.pid}/stat`)]));
  };
  const threadsBefore = threadTimes();
  const backendsBefore = await backends();
  return {
    async stop() {
      const threads = threadTimes();
      const split: CpuSplit = { main: 0, helpers: 0, started: 0, postgres: 0 };
      for (const [tid, seconds] of threads) {
        const spent = seconds - (threadsBefore.get(tid) ?? 0);
        const kind = tid === process.pid ? 'main' : platform.has(tid) ? 'helpers' : 'started';
        split[kind] += spent;
      }
      for (const [pid, seconds] of await backends()) {
        split.postgres += seconds - (backendsBefore.get(pid) ?? 0);
      }
      return split;
    },
  };
}
