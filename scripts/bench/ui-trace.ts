/**
 * @module scripts/bench/ui-trace
 * The renderer main thread's CPU time, from a Chrome performance trace, for
 * the same steps the wall-clock figures time. On a shared 2-core machine a
 * frame or a keypress can take 100 ms of wall time while the page worked
 * 10 ms of it (the thread waited for a core); a task's CPU time (`tdur`)
 * says what the app itself costs.
 */
import type { Page } from 'playwright-core';
import { round } from './sync-util';

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  tdur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { type?: string } };
}

const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing'];

/** Runs `step` under a trace of the page's browser. @returns its result and the trace events. */
async function withTrace<T>(page: Page, step: () => Promise<T>): Promise<{ result: T; events: TraceEvent[] }> {
  const browser = page.context().browser();
  if (browser === null) {
    throw new Error('tracing needs a launched browser');
  }
  await browser.startTracing(page, { categories: CATEGORIES });
  const result = await step();
  const buffer = await browser.stopTracing();
  return { result, events: (JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents };
}

/** The top-level tasks of the renderer main thread of process `pid` (any renderer when null). */
function mainTasks(events: readonly TraceEvent[], pid: number | null): TraceEvent[] {
  const mains = new Set(
    events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && (pid === null || e.pid === pid)).map((e) => `${e.pid}:${e.tid}`),
  );
  return events.filter((e) => e.ph === 'X' && e.name === 'RunTask' && mains.has(`${e.pid}:${e.tid}`));
}

/** CPU ms of the main thread's tasks within [from, to] µs (a task crossing an edge counts in proportion). */
function cpuWithin(tasks: readonly TraceEvent[], from: number, to: number): number {
  let cpu = 0;
  for (const t of tasks) {
    const end = t.ts + (t.dur ?? 0);
    const overlap = Math.min(end, to) - Math.max(t.ts, from);
    if (overlap > 0 && t.dur) {
      cpu += ((t.tdur ?? 0) * overlap) / t.dur;
    }
  }
  return cpu / 1000;
}

/** Main-thread CPU from navigation start to the `shoal:list-painted` mark of a traced `measurePaint`. */
export async function paintCpu<T>(page: Page, step: () => Promise<T>): Promise<{ result: T; cpuMs: number; wallMs: number }> {
  const { result, events } = await withTrace(page, step);
  const painted = events.find((e) => e.name === 'shoal:list-painted');
  const start = events.filter((e) => e.name === 'navigationStart' && e.pid === painted?.pid && e.ts <= (painted?.ts ?? 0)).pop();
  if (!painted || !start) {
    throw new Error('the trace lacks the navigation start or the list-painted mark');
  }
  return { result, cpuMs: round(cpuWithin(mainTasks(events, painted.pid), start.ts, painted.ts)), wallMs: round((painted.ts - start.ts) / 1000) };
}

/** CPU and wall ms of the task that handled the keydown of a traced step (the assign's Enter). */
export async function keyTaskCpu<T>(page: Page, step: () => Promise<T>): Promise<{ result: T; cpuMs: number; wallMs: number }> {
  const { result, events } = await withTrace(page, step);
  const keydown = events.filter((e) => e.name === 'EventDispatch' && e.args?.data?.type === 'keydown').pop();
  const task = keydown && mainTasks(events, keydown.pid).find((t) => t.tid === keydown.tid && t.ts <= keydown.ts && t.ts + (t.dur ?? 0) >= keydown.ts);
  if (!task) {
    throw new Error('the trace holds no keydown task');
  }
  return { result, cpuMs: round((task.tdur ?? 0) / 1000), wallMs: round((task.dur ?? 0) / 1000) };
}

export interface TaskCpu {
  /** Main-thread tasks that took over 50 ms of wall time, and how many of them over 50 ms of CPU. */
  over50Wall: number;
  over50Cpu: number;
  /** The most CPU one task used (a frame is one task: scroll event, animation frame, style, layout, paint). */
  maxCpuMs: number;
  /** Share of the main thread's busy wall time it was on a core. */
  onCpuShare: number;
}

/** Long tasks by wall time and by CPU time over a traced step (the scroll). */
export async function longTasks<T>(page: Page, step: () => Promise<T>): Promise<{ result: T; tasks: TaskCpu }> {
  const { result, events } = await withTrace(page, step);
  const tasks = mainTasks(events, null);
  const wall = tasks.reduce((sum, t) => sum + (t.dur ?? 0), 0);
  const cpu = tasks.reduce((sum, t) => sum + (t.tdur ?? 0), 0);
  return {
    result,
    tasks: {
      over50Wall: tasks.filter((t) => (t.dur ?? 0) > 50_000).length,
      over50Cpu: tasks.filter((t) => (t.tdur ?? 0) > 50_000).length,
      maxCpuMs: round(Math.max(0, ...tasks.map((t) => (t.tdur ?? 0) / 1000))),
      onCpuShare: round(wall === 0 ? 0 : cpu / wall, 2),
    },
  };
}
