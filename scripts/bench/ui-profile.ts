/**
 * @module scripts/bench/ui-profile
 * Where the page's time goes, for when a UI target is missed: a V8 CPU
 * profile of the renderer (Chrome DevTools Protocol) around one step,
 * written as a `.cpuprofile` file DevTools opens, and summed into the
 * functions with the most self time.
 */
import { mkdir, writeFile } from 'node:fs/promises';
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
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
  process.stderr.write(`--- ${name}: self time by function (ms)\n`);
  for (const [fn, ms] of selfTimes(profile)) {
    process.stderr.write(`${String(ms).padStart(8)}  ${fn}\n`);
  }
  return result;
}
