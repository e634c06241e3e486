/**
 * @module scripts/bench/ui-profile
 * Where the page's time goes, for when a UI target is missed: a V8 CPU
 * profile of the renderer (Chrome DevTools Protocol) around one step,
 * written as a `.cpuprofile` file DevTools opens, and summed into the
 * functions with the most self time.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { round } from './sync-util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The `top` functions by self time (ms), named `function file:line:column`. */
export function selfTimes(profile: Profile, top = 25): [string, number][] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)?.callFrame;
    const file = frame?.url.split('/').pop() ?? '';
    const name = `${frame?.functionName || '(anonymous)'} ${file}:${(frame?.lineNumber ?? 0) + 1}:${(frame?.columnNumber ?? 0) + 1}`;
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => [name, round(ms)]);
}

/** Runs `step` under the renderer's CPU profiler, writes `<dir>/<name>.cpuprofile` and prints the heaviest functions on stderr. */
export async function profiled<T>(page: Page, dir: string, name: string, step: () => Promise<T>): Promise<T> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
  await cdp.send('Profiler.start');
  const result = await step();
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
  await cdp.detach();
  await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
  process.stderr.write(`--- ${name}: self time by function (ms)\n`);
  for (const [fn, ms] of selfTimes(profile)) {
    process.stderr.write(`${String(ms).padStart(8)}  ${fn}\n`);
  }
  return result;
}

interface TraceEvent {
  name: string;
  ph: string;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string };
}

/** Milliseconds the renderer's main thread spent in each kind of work (Layout, UpdateLayoutTree, Paint, FunctionCall…), largest first. */
export function mainThreadTimes(events: readonly TraceEvent[], top = 15): [string, number][] {
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const totals = new Map<string, number>();
  for (const e of events) {
    if (main && e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined) {
      totals.set(e.name, (totals.get(e.name) ?? 0) + e.dur / 1000);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => [name, round(ms)]);
}

/** Runs `step` under a Chrome performance trace, writes `<dir>/<name>.trace.json` and prints where the main thread's time went. */
export async function traced<T>(page: Page, dir: string, name: string, step: () => Promise<T>): Promise<T> {
  const browser = page.context().browser();
  if (browser === null) {
    return step();
  }
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8'] });
  const result = await step();
  const buffer = await browser.stopTracing();
  await writeFile(join(dir, `${name}.trace.json`), buffer);
  const { traceEvents } = JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] };
  process.stderr.write(`--- ${name}: main thread by event (ms, nested events counted in each)\n`);
  for (const [event, ms] of mainThreadTimes(traceEvents)) {
    process.stderr.write(`${String(ms).padStart(8)}  ${event}\n`);
  }
  return result;
}
