/**
 * @module scripts/bench/ui
 * `npm run bench:ui`: the inbox's figures of issue 6, in headless Chromium
 * (Debian's, through playwright-core) against the real built app served by
 * a real Shoal server (file-backed PGlite, the whole sync engine). Each
 * person's document is synced once and stored in IndexedDB by the app
 * itself; every measured navigation then paints from that stored copy.
 *
 *   first list paint: navigation start → the `shoal:list-painted` mark
 *     (first frame showing rows), RUNS fresh navigations, median
 *   assign → row: Enter in the assign picker → the row's DOM shows "Me",
 *     and → the end of the frame showing it
 *   scroll: requestAnimationFrame deltas while the virtualized list
 *     scrolls top to bottom by one viewport per frame
 *
 *   main-thread CPU of the same steps (more runs, Chrome traces): what the
 *     page itself worked, apart from waiting for a core on a loaded machine;
 *     idle-page frame times as the scroll's baseline
 *
 * Baseline in the same run: a 50-thread person, same steps; the 5,000-thread
 * figures are also given as ratios against it. Not a test: figures only. A
 * table, then one JSON line. Knobs: UI_BENCH_THREADS (5000),
 * UI_BENCH_BASELINE (50), UI_BENCH_RUNS (5), UI_BENCH_ASSIGNS (10),
 * UI_BENCH_SCROLL_STEP (px per frame, 0 = one viewport); UI_BENCH_PROFILE (a
 * directory: CPU profiles of one more run of each step, after the measured ones).
 */
import { cp } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../tests/helpers/browser';
import { commitAssign, measureAssign, measureIdleFrames, measurePaint, measureScroll, prepareAssign, settle, waitForRows, type AssignSample, type PaintSample } from './ui-page';
import { profiled } from './ui-profile';
import { keyTaskCpu, longTasks, paintCpu, type TaskCpu } from './ui-trace';
import { seedPerson } from './ui-seed';
import { startBenchServer, type BenchServer } from './ui-server';
import { percentile, progress, round } from './sync-util';

// Scripts may read the environment for run counts.
const THREADS = Number(process.env.UI_BENCH_THREADS ?? 5000);
const BASELINE = Number(process.env.UI_BENCH_BASELINE ?? 50);
const RUNS = Number(process.env.UI_BENCH_RUNS ?? 5);
const ASSIGNS = Number(process.env.UI_BENCH_ASSIGNS ?? 10);
const SCROLL_STEP = Number(process.env.UI_BENCH_SCROLL_STEP ?? 0);
const PROFILE_DIR = process.env.UI_BENCH_PROFILE ?? '';
const VIEWPORT = { width: 1366, height: 900 };

interface Stats {
  median: number;
  min: number;
  max: number;
}

interface PersonFigures {
  threads: number;
  paint: Stats & {
    samples: number[];
    rowsAtPaint: number[];
    meMedian: number | null;
    fcpMedian: number | null;
    /** What the server sent on /sync after each navigation, until settled (the stored copy was current: little). */
    syncBytes: number[];
  };
  assign: { domMedian: number; domMax: number; frameMedian: number; frameMax: number; samples: AssignSample[] };
  scroll: {
    frames: number;
    p50: number;
    p95: number;
    max: number;
    over50: number;
    uncovered: number;
    lastRow: number;
    /** The same number of frames with the page idle: what the machine alone drops. */
    idle: { p50: number; p95: number; max: number; over50: number };
  };
  cpu: CpuFigures;
}

function stats(values: readonly number[]): Stats {
  return { median: round(percentile(values, 50)), min: round(Math.min(...values)), max: round(Math.max(...values)) };
}

const medianOrNull = (values: (number | null)[]): number | null => {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : round(percentile(known, 50));
};

async function paintFigures(page: Page, threads: number): Promise<PersonFigures['paint']> {
  let received = 0;
  page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => (received += typeof payload === 'string' ? payload.length : payload.byteLength)));
  const paints: PaintSample[] = [];
  const syncBytes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    received = 0;
    paints.push(await measurePaint(page));
    await waitForRows(page, threads);
    await settle(page);
    syncBytes.push(received);
  }
  const paintMs = paints.map((p) => p.listPaintedMs);
  return {
    ...stats(paintMs),
    samples: paintMs.map((v) => round(v)),
    rowsAtPaint: paints.map((p) => p.rows),
    meMedian: medianOrNull(paints.map((p) => p.meMs)),
    fcpMedian: medianOrNull(paints.map((p) => p.firstContentfulPaintMs)),
    syncBytes,
  };
}

async function assignFigures(page: Page): Promise<PersonFigures['assign']> {
  const assigns: AssignSample[] = [];
  for (let i = 0; i < ASSIGNS; i++) {
    assigns.push(await measureAssign(page));
    await page.waitForTimeout(200);
  }
  return {
    domMedian: round(percentile(assigns.map((a) => a.domMs), 50)),
    domMax: round(Math.max(...assigns.map((a) => a.domMs))),
    frameMedian: round(percentile(assigns.map((a) => a.frameMs), 50)),
    frameMax: round(Math.max(...assigns.map((a) => a.frameMs))),
    samples: assigns.map((a) => ({ domMs: round(a.domMs), frameMs: round(a.frameMs) })),
  };
}

async function scrollFigures(page: Page): Promise<PersonFigures['scroll']> {
  await settle(page);
  const scroll = await measureScroll(page, SCROLL_STEP);
  const idle = await measureIdleFrames(page, scroll.frames.length);
  const over50 = (frames: number[]) => frames.filter((f) => f > 50).length;
  return {
    frames: scroll.frames.length,
    p50: round(percentile(scroll.frames, 50)),
    p95: round(percentile(scroll.frames, 95)),
    max: round(Math.max(...scroll.frames)),
    over50: over50(scroll.frames),
    uncovered: scroll.uncovered,
    lastRow: scroll.lastRow,
    idle: { p50: round(percentile(idle, 50)), p95: round(percentile(idle, 95)), max: round(Math.max(...idle)), over50: over50(idle) },
  };
}

/** Signs a person up with `threads` threads, lets the app store the document, then measures every step. */
async function measurePerson(browser: Browser, server: BenchServer, tag: string, threads: number): Promise<PersonFigures> {
  const context = await browser.newContext({ baseURL: server.url, viewport: VIEWPORT });
  // tsx compiles with keepNames, which wraps the functions inside page.evaluate callbacks in a `__name` helper the page lacks.
  await context.addInitScript('globalThis.__name = (fn) => fn;');
  try {
    progress(`${tag}: seeding ${threads} threads`);
    await seedPerson(server.db, context, server.url, tag, threads);
    const page = await context.newPage();
    page.on('pageerror', (e) => progress(`${tag}: page error: ${e.message}`));
    progress(`${tag}: first visit (the document syncs and is stored in IndexedDB)`);
    await page.goto('/inbox');
    await waitForRows(page, threads);
    await settle(page, 2000);
    const paint = await paintFigures(page, threads);
    progress(`${tag}: first paint ${paint.samples.join(', ')} ms; bytes from /sync per navigation ${paint.syncBytes.join(', ')}`);
    const assign = await assignFigures(page);
    progress(`${tag}: assign → row ${assign.samples.map((a) => a.domMs).join(', ')} ms`);
    const scroll = await scrollFigures(page);
    const cpu = await measureCpu(page, threads);
    if (PROFILE_DIR) {
      await profileSteps(page, `${tag}-`);
      // The profiles name minified functions by file and position: keep the files they point into.
      await cp(server.appDir, join(PROFILE_DIR, 'app'), { recursive: true });
    }
    return { threads, paint, assign, scroll, cpu };
  } finally {
    await context.close();
  }
}

/** Main-thread CPU time (not wall time) of more runs of each step, from Chrome traces: medians. */
interface CpuFigures {
  paintMs: number;
  paintWallMs: number;
  assignMs: number;
  assignWallMs: number;
  scroll: TaskCpu;
}

const CPU_PAINTS = 3;
const CPU_ASSIGNS = 5;

async function measureCpu(page: Page, threads: number): Promise<CpuFigures> {
  const paints: { cpuMs: number; wallMs: number }[] = [];
  for (let i = 0; i < CPU_PAINTS; i++) {
    await settle(page);
    paints.push(await paintCpu(page, () => measurePaint(page)));
    await waitForRows(page, threads);
  }
  const assigns: { cpuMs: number; wallMs: number }[] = [];
  for (let i = 0; i < CPU_ASSIGNS; i++) {
    await settle(page);
    await prepareAssign(page);
    assigns.push(await keyTaskCpu(page, () => commitAssign(page)));
  }
  await settle(page);
  const scroll = await longTasks(page, () => measureScroll(page, SCROLL_STEP));
  const median = (values: number[]) => round(percentile(values, 50));
  return {
    paintMs: median(paints.map((p) => p.cpuMs)),
    paintWallMs: median(paints.map((p) => p.wallMs)),
    assignMs: median(assigns.map((a) => a.cpuMs)),
    assignWallMs: median(assigns.map((a) => a.wallMs)),
    scroll: scroll.tasks,
  };
}

/** Extra, unmeasured runs of each step under the CPU profiler (UI_BENCH_PROFILE=dir). */
async function profileSteps(page: Page, prefix: string): Promise<void> {
  await profiled(page, PROFILE_DIR, `${prefix}paint`, () => measurePaint(page));
  await settle(page);
  await prepareAssign(page);
  await profiled(page, PROFILE_DIR, `${prefix}assign`, () => commitAssign(page));
  await settle(page);
  await profiled(page, PROFILE_DIR, `${prefix}scroll`, () => measureScroll(page, SCROLL_STEP));
}

type Row = [figure: string, value: string, target: string, met: boolean | null];

function rows(big: PersonFigures, base: PersonFigures): Row[] {
  const n = big.threads;
  return [
    [`first list paint, ${n} threads (median of ${RUNS})`, `${big.paint.median} ms (${big.paint.min}–${big.paint.max})`, '<= 500 ms', big.paint.median <= 500],
    [`first list paint, ${base.threads} threads (baseline)`, `${base.paint.median} ms (${base.paint.min}–${base.paint.max})`, '', null],
    ['first list paint ratio', `${round(big.paint.median / base.paint.median, 2)}`, '', null],
    [`/api/me answered (${n} / ${base.threads}, median)`, `${big.paint.meMedian ?? '?'} / ${base.paint.meMedian ?? '?'} ms`, '', null],
    [`assign → row DOM (median / max of ${ASSIGNS})`, `${big.assign.domMedian} / ${big.assign.domMax} ms`, '<= 16 ms', big.assign.domMedian <= 16],
    ['assign → frame shown (median / max)', `${big.assign.frameMedian} / ${big.assign.frameMax} ms`, '', null],
    ['assign → row DOM, baseline (median)', `${base.assign.domMedian} ms`, '', null],
    ['assign ratio', `${round(big.assign.domMedian / base.assign.domMedian, 2)}`, '', null],
    [`scroll ${big.scroll.frames} frames p50 / p95 / max`, `${big.scroll.p50} / ${big.scroll.p95} / ${big.scroll.max} ms`, 'max <= 50 ms', big.scroll.max <= 50],
    ['scroll frames over 50 ms / not covered by rows', `${big.scroll.over50} / ${big.scroll.uncovered}`, '', null],
    ['idle page, same frames p50 / p95 / max (baseline)', `${big.scroll.idle.p50} / ${big.scroll.idle.p95} / ${big.scroll.idle.max} ms`, '', null],
    ['idle frames over 50 ms', `${big.scroll.idle.over50}`, '', null],
    [`main-thread CPU: first paint (${n} / ${base.threads}, median of ${CPU_PAINTS})`, `${big.cpu.paintMs} / ${base.cpu.paintMs} ms (wall ${big.cpu.paintWallMs} / ${base.cpu.paintWallMs})`, '<= 500 ms', big.cpu.paintMs <= 500],
    [`main-thread CPU: assign keydown task (${n} / ${base.threads}, median of ${CPU_ASSIGNS})`, `${big.cpu.assignMs} / ${base.cpu.assignMs} ms (wall ${big.cpu.assignWallMs} / ${base.cpu.assignWallMs})`, '<= 16 ms', big.cpu.assignMs <= 16],
    ['scroll tasks over 50 ms: wall / CPU', `${big.cpu.scroll.over50Wall} / ${big.cpu.scroll.over50Cpu} (max CPU ${big.cpu.scroll.maxCpuMs} ms)`, 'CPU max <= 50 ms', big.cpu.scroll.maxCpuMs <= 50],
    ['scroll: share of busy main-thread time on a core', `${big.cpu.scroll.onCpuShare}`, '', null],
  ];
}

function printTable(all: Row[]): void {
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((r) => String(r[i]).length)));
  for (const [figure, value, target, met] of all) {
    const mark = met === null ? '' : met ? 'met' : 'NOT MET';
    console.log(`${figure.padEnd(widths[0] as number)}  ${value.padEnd(widths[1] as number)}  ${target.padEnd(widths[2] as number)}  ${mark}`);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const server = await startBenchServer();
  const browser = await launchBrowser();
  const load = loadavg().map((l) => round(l, 2));
  try {
    const base = await measurePerson(browser, server, 'baseline', BASELINE);
    const big = await measurePerson(browser, server, 'big', THREADS);
    printTable(rows(big, base));
    const conditions = { chromium: browser.version(), cores: cpus().length, loadBefore: load, loadAfter: loadavg().map((l) => round(l, 2)), viewport: VIEWPORT };
    const ratios = { paint: round(big.paint.median / base.paint.median, 2), assign: round(big.assign.domMedian / base.assign.domMedian, 2) };
    console.log(JSON.stringify({ bench: 'ui', seconds: round((performance.now() - started) / 1000, 0), conditions, ratios, big, baseline: base }));
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
