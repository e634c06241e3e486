/**
 * @module scripts/bench/sync-util
 * Small measuring helpers of the sync benchmark: a forced full garbage
 * collection (heap figures are differences between two collected heaps),
 * percentiles, rounding, and a document's stored size.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Db } from '../../db/types';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Heap in use after two full collections (the second one catches what finalizers freed). */
export function collectedHeap(): { heap: number; external: number; rss: number } {
  collect();
  collect();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external + m.arrayBuffers, rss: m.rss };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for `check`, polling every 5 ms. @throws after `timeoutMs`. */
export async function until(label: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    }
    await sleep(5);
  }
}

/** Bytes Postgres holds for a person's document: snapshot plus tail (the payloads, not row overhead). */
export async function storedBytes(db: Db, userId: string): Promise<{ snapshot: number; tail: number; tailRows: number }> {
  const [row] = await db.query<{ snapshot: number | null; tail: number | null; rows: number }>(
    `select octet_length(d.snapshot) as snapshot,
            (select sum(octet_length(u.update))::int from sync_doc_updates u where u.user_id = d.user_id) as tail,
            (select count(*)::int from sync_doc_updates u where u.user_id = d.user_id) as rows
       from sync_docs d where d.user_id = $1`,
    [userId],
  );
  return { snapshot: row?.snapshot ?? 0, tail: row?.tail ?? 0, tailRows: row?.rows ?? 0 };
}

const began = performance.now();

/** A progress line on stderr (stdout carries only the table and the JSON line). */
export function progress(message: string): void {
  process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(1)} s] ${message}\n`);
}

/**
 * A CPU profile of this process around `run`, written to `dir` as
 * `<label>.cpuprofile` (open it in Chrome DevTools) when `dir` is set;
 * otherwise just runs it. Profiling slows the process, so figures measured
 * inside are not comparable with an unprofiled run.
 */
export async function profiled<T>(dir: string | undefined, label: string, run: () => Promise<T>): Promise<T> {
  if (!dir) {
    return run();
  }
  const { Session } = await import('node:inspector/promises');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}/${label}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
}
