/**
 * @module scripts/bench/ui-page
 * The UI benchmark's measurements, taken inside the page on its own clock
 * (`performance.now()`, zero at navigation start): the thread list's first
 * paint (the `shoal:list-painted` mark ThreadList sets), an assignment from
 * its Enter keypress to the row showing it, and frame times while the
 * virtualized list scrolls from top to bottom.
 */
import type { Page } from 'playwright-core';

const LIST = '[role="grid"][aria-label="Conversations"]';

export interface PaintSample {
  /** The mark: from navigation start to the first frame that showed rows. */
  listPaintedMs: number;
  /** Threads in the list at that paint (from the stored document, before the server answered). */
  rows: number;
  firstContentfulPaintMs: number | null;
  /** When the shell document and `/api/me` (the signed-in check every page waits for) had arrived. */
  shellMs: number;
  meMs: number | null;
}

/** Loads `/inbox` afresh and reads when the thread list first painted. */
export async function measurePaint(page: Page): Promise<PaintSample> {
  await page.goto('/inbox', { waitUntil: 'commit' });
  await page.waitForFunction(() => performance.getEntriesByName('shoal:list-painted').length > 0, undefined, { polling: 50, timeout: 60_000 });
  return page.evaluate(() => {
    const mark = performance.getEntriesByName('shoal:list-painted')[0] as PerformanceMark;
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const me = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).find((r) => new URL(r.name).pathname === '/api/me');
    const list = document.querySelector('[role="grid"][aria-label="Conversations"]');
    return {
      listPaintedMs: mark.startTime,
      rows: Number((mark.detail as { rows?: number } | null)?.rows ?? list?.getAttribute('aria-rowcount') ?? 0),
      firstContentfulPaintMs: fcp?.startTime ?? null,
      shellMs: nav.responseEnd,
      meMs: me?.responseEnd ?? null,
    };
  });
}

/** Waits until the page is connected and has nothing left to send, then lets it idle (IndexedDB writes, GC). */
export async function settle(page: Page, idleMs = 500): Promise<void> {
  await page.waitForSelector('[data-sync-status="online"][data-pending="0"]', { timeout: 120_000 });
  await page.waitForTimeout(idleMs);
}

/** Waits until the list holds `rows` threads. */
export async function waitForRows(page: Page, rows: number): Promise<void> {
  await page.waitForSelector(`${LIST}[data-row-count="${rows}"]`, { timeout: 300_000 });
}

export interface AssignSample {
  /** Enter pressed (the event's own time stamp) to the row's DOM showing the assignee. */
  domMs: number;
  /** Enter pressed to the end of the frame that shows it (a task queued from that frame's callback). */
  frameMs: number;
}

/**
 * Moves to the next unassigned row (j), opens the assign picker (a) and picks its
 * first choice, Me (Enter); the row must show the assignee.
 */
export async function measureAssign(page: Page): Promise<AssignSample> {
  await prepareAssign(page);
  return commitAssign(page);
}

/** Puts the keyboard on the next unassigned row, opens the picker and starts watching the row. */
export async function prepareAssign(page: Page): Promise<void> {
  // Rows assigned by an earlier run are skipped (a reload puts the keyboard back on the first row).
  do {
    await page.keyboard.press('j');
    await page.waitForFunction(() => document.activeElement?.matches('a.row.active[data-thread-id]') === true);
  } while (await page.evaluate(() => document.activeElement?.querySelector('[data-tag="assignee"]') !== null));
  const threadId = await page.evaluate(() => (document.activeElement as HTMLElement).dataset.threadId ?? '');
  await page.keyboard.press('a');
  await page.waitForFunction(() => document.activeElement?.matches('dialog[open] input') === true);
  await page.evaluate(
    ({ id, list }) => {
      const shown = () => document.querySelector(`a[data-thread-id="${CSS.escape(id)}"] [data-tag="assignee"]`) !== null;
      if (shown()) {
        throw new Error('the row is assigned already');
      }
      const scope = window as unknown as { assignDone?: Promise<{ domMs: number; frameMs: number }> };
      scope.assignDone = new Promise((resolve) => {
        let start = 0;
        window.addEventListener('keydown', (e) => (start = e.timeStamp), { capture: true, once: true });
        const observer = new MutationObserver(() => {
          if (!shown()) {
            return;
          }
          const domMs = performance.now() - start;
          observer.disconnect();
          requestAnimationFrame(() => setTimeout(() => resolve({ domMs, frameMs: performance.now() - start })));
        });
        observer.observe(document.querySelector(list) as Node, { subtree: true, childList: true, characterData: true });
      });
    },
    { id: threadId, list: LIST },
  );
}

/** Picks Me in the open picker (Enter) and waits for the row to show it. */
export async function commitAssign(page: Page): Promise<AssignSample> {
  await page.keyboard.press('Enter');
  return page.evaluate(() => (window as unknown as { assignDone: Promise<AssignSample> }).assignDone);
}

export interface ScrollSample {
  /** requestAnimationFrame deltas, one per frame, while scrolling. */
  frames: number[];
  /** Frames whose callback found the viewport not covered by rendered rows. */
  uncovered: number;
  /** aria-rowindex of the last row rendered at the bottom (the list's length when it got there). */
  lastRow: number;
}

/** Scrolls the list from top to bottom by `stepPx` per frame (0: one viewport height). */
export async function measureScroll(page: Page, stepPx = 0): Promise<ScrollSample> {
  return page.evaluate(
    ({ list, stepPx }) => {
      const viewport = document.querySelector(list) as HTMLElement;
      const step = stepPx > 0 ? stepPx : viewport.clientHeight;
      const slots = () => [...viewport.querySelectorAll<HTMLElement>('[role="row"]')].map((s) => Number(s.getAttribute('aria-rowindex')));
      const rowHeight = (viewport.firstElementChild as HTMLElement).offsetHeight / Number(viewport.getAttribute('aria-rowcount'));
      const covered = (): boolean => {
        const rows = slots();
        const first = Math.floor(viewport.scrollTop / rowHeight) + 1;
        const last = Math.min(Number(viewport.getAttribute('aria-rowcount')), Math.ceil((viewport.scrollTop + viewport.clientHeight) / rowHeight));
        return rows.includes(first) && rows.includes(last);
      };
      viewport.scrollTop = 0;
      return new Promise<{ frames: number[]; uncovered: number; lastRow: number }>((resolve) => {
        const frames: number[] = [];
        let uncovered = 0;
        let last = 0;
        const frame = (t: number): void => {
          frames.push(t - last);
          last = t;
          uncovered += covered() ? 0 : 1;
          if (viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - 1) {
            resolve({ frames, uncovered, lastRow: Math.max(...slots()) });
            return;
          }
          viewport.scrollTop += step;
          requestAnimationFrame(frame);
        };
        requestAnimationFrame((t) => {
          last = t;
          viewport.scrollTop += step;
          requestAnimationFrame(frame);
        });
      });
    },
    { list: LIST, stepPx },
  );
}

/**
 * requestAnimationFrame deltas of `count` frames with nothing happening on
 * the page: the scroll's baseline, i.e. frames the machine itself drops.
 */
export async function measureIdleFrames(page: Page, count: number): Promise<number[]> {
  return page.evaluate(
    (count) =>
      new Promise<number[]>((resolve) => {
        const frames: number[] = [];
        let last = 0;
        const frame = (t: number): void => {
          frames.push(t - last);
          last = t;
          if (frames.length >= count) {
            resolve(frames);
            return;
          }
          requestAnimationFrame(frame);
        };
        requestAnimationFrame((t) => {
          last = t;
          requestAnimationFrame(frame);
        });
      }),
    count,
  );
}
