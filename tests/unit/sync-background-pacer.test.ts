/**
 * The host's background pacer: folds run a few at a time, never start while
 * a person's edit is received and reviewed, wait for other documents'
 * updates to be stored unless urgent, and start anyway once they waited too
 * long.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BackgroundPacer, type PacedTurn } from '../../server/sync/host/background';

/** A task the test finishes by hand, recording when it started. */
function gatedTask(log: string[], name: string): { run: () => Promise<void>; finish: () => void } {
  let finish = () => undefined as void;
  const run = () =>
    new Promise<void>((resolve) => {
      log.push(name);
      finish = resolve;
    });
  return { run, finish: () => finish() };
}

/** Foreground work the test ends by hand. */
function foreground(pacer: BackgroundPacer): { done: Promise<void>; end: () => void } {
  let end = () => undefined as void;
  const done = pacer.inForeground(() => new Promise<void>((resolve) => (end = resolve)));
  return { done, end: () => end() };
}

describe('BackgroundPacer', () => {
  let storing = false;
  let pacer: BackgroundPacer;
  beforeEach(() => {
    vi.useFakeTimers();
    storing = false;
    pacer = new BackgroundPacer({ concurrency: 2, maxWaitMs: 5_000, storing: () => storing, retryMs: 25 });
  });
  afterEach(() => {
    pacer.close();
    vi.useRealTimers();
  });

  it('runs at most `concurrency` tasks at once, oldest first', async () => {
    const log: string[] = [];
    const tasks = ['a', 'b', 'c'].map((name) => gatedTask(log, name));
    tasks.forEach((t, i) => pacer.enqueue(`doc-${i}`, t.run));
    expect(log).toEqual(['a', 'b']);
    expect(pacer.waiting).toBe(1);
    tasks[1]?.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['a', 'b', 'c']);
  });

  it('starts nothing while foreground work runs, and starts once the last of it ends', async () => {
    const log: string[] = [];
    const first = foreground(pacer);
    const second = foreground(pacer);
    pacer.enqueue('doc', gatedTask(log, 'fold').run);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(log).toEqual([]);
    first.end();
    await first.done;
    expect(log).toEqual([]);
    second.end();
    await second.done;
    expect(log).toEqual(['fold']);
  });

  it('holds a task back while other updates are stored, unless it is urgent by the time it could start', async () => {
    const log: string[] = [];
    storing = true;
    let urgent = false;
    pacer.enqueue('calm', gatedTask(log, 'calm').run);
    pacer.enqueue('pressing', gatedTask(log, 'pressing').run, () => urgent);
    await vi.advanceTimersByTimeAsync(500);
    expect(log).toEqual([]);
    urgent = true;
    await vi.advanceTimersByTimeAsync(25);
    expect(log).toEqual(['pressing']);
    storing = false;
    await vi.advanceTimersByTimeAsync(25);
    expect(log).toEqual(['pressing', 'calm']);
  });

  it('starts a task that waited `maxWaitMs`, however busy the host', async () => {
    const log: string[] = [];
    storing = true;
    const edit = foreground(pacer);
    pacer.enqueue('doc', gatedTask(log, 'fold').run);
    await vi.advanceTimersByTimeAsync(4_900);
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(log).toEqual(['fold']);
    edit.end();
    await edit.done;
  });

  it('keeps one task per key, in the first one’s place, and forgets cancelled and closed ones', async () => {
    const log: string[] = [];
    const edit = foreground(pacer);
    pacer.enqueue('doc-1', gatedTask(log, 'first').run);
    pacer.enqueue('doc-2', gatedTask(log, 'other').run);
    pacer.enqueue('doc-1', gatedTask(log, 'later').run);
    pacer.enqueue('doc-3', gatedTask(log, 'cancelled').run);
    pacer.cancel('doc-3');
    expect(pacer.waiting).toBe(2);
    edit.end();
    await edit.done;
    expect(log).toEqual(['later', 'other']);
    pacer.close();
    pacer.enqueue('doc-4', gatedTask(log, 'after close').run);
    expect(pacer.waiting).toBe(0);
  });

  it('goes on after a task fails', async () => {
    const log: string[] = [];
    const single = new BackgroundPacer({ concurrency: 1, maxWaitMs: 5_000, storing: () => false });
    single.enqueue('bad', () => Promise.reject(new Error('fold failed')));
    single.enqueue('good', gatedTask(log, 'good').run);
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['good']);
    single.close();
  });

  it('lets a started task step back while foreground work runs, and runs it again after, as old as it was', async () => {
    const log: string[] = [];
    let reached = () => undefined as void;
    let attempts = 0;
    // The task waits (as a fold waits for its document's queue), then asks its turn before its heavy step.
    const task = async (turn: PacedTurn) => {
      attempts += 1;
      if (attempts === 1) {
        await new Promise<void>((resolve) => (reached = resolve));
      }
      if (!turn.stepBack()) {
        log.push(`work on attempt ${attempts}`);
      }
    };
    pacer.enqueue('doc', task);
    const edit = foreground(pacer);
    reached();
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual([]);
    expect(pacer.waiting).toBe(1);
    // Queued again meanwhile: the later task is kept, with the first one's age.
    pacer.enqueue('doc', task);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(log).toEqual(['work on attempt 2']);
    edit.end();
    await edit.done;
  });

  it('does not let a task that waited `maxWaitMs` step back', async () => {
    const answers: boolean[] = [];
    let reached = () => undefined as void;
    pacer.enqueue('doc', async (turn) => {
      await new Promise<void>((resolve) => (reached = resolve));
      answers.push(turn.stepBack());
    });
    const edit = foreground(pacer);
    await vi.advanceTimersByTimeAsync(5_000);
    reached();
    await vi.advanceTimersByTimeAsync(0);
    expect(answers).toEqual([false]);
    expect(pacer.waiting).toBe(0);
    edit.end();
    await edit.done;
  });
});
