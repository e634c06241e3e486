/**
 * @module server/sync/host/background
 * Paces the host's background work (folding outgrown tails into snapshots)
 * behind its foreground work. A fan-out leaves hundreds of outgrown tails
 * whose folds come due together a couple of seconds later; started at once,
 * forty of them kept a 1,000-edit review waiting 280 ms (bench (c)), and a
 * document's own fold, queued while its edit was reviewed, delayed the
 * author's compensating write. So folds run a few at a time, and none starts
 * while a person's edit is received and reviewed, or (unless urgent) while
 * the appender stores other documents' updates. A task that waited
 * `maxWaitMs` starts anyway: steady traffic never starves storage upkeep.
 *
 * A task that has started can still land in the middle of an edit: a fold
 * waits for its document's queue before it encodes, and measures the
 * document after its write. In bench (c) such work took about 9 ms of each
 * 1,000-edit review's main thread. So a started task asks its turn
 * (`stepBack`) before each heavy step, and steps back into the queue, in
 * its old place in time, while foreground work runs.
 */

export interface PacerOptions {
  /** Tasks running at once. */
  concurrency: number;
  /** After this long in the queue a task starts whatever runs in the foreground. */
  maxWaitMs: number;
  /** Whether other documents' updates are being stored (non-urgent tasks wait for them). */
  storing: () => boolean;
  /** How soon a task held back by storing looks again (storing ends without telling anyone). */
  retryMs?: number;
}

/** What a started task may ask. */
export interface PacedTurn {
  /**
   * True when foreground work runs and the task has not yet waited
   * `maxWaitMs`: the task is queued again (keeping its age) and should return
   * at once, without its work.
   */
  stepBack(): boolean;
}

export type PacedTask = (turn: PacedTurn) => Promise<void>;

interface Queued {
  run: PacedTask;
  urgent: () => boolean;
  since: number;
}

export class BackgroundPacer {
  private foreground = 0;
  private running = 0;
  /** By key, oldest first. */
  private readonly queue = new Map<string, Queued>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(private readonly options: PacerOptions) {}

  /** Runs foreground work; no background task starts until it (and any other) is done. */
  async inForeground<T>(work: () => Promise<T>): Promise<T> {
    this.foreground += 1;
    try {
      return await work();
    } finally {
      this.foreground -= 1;
      this.pump();
    }
  }

  /**
   * Queues `run` under `key` (one per document: a key queued again keeps its
   * place and takes the later task). While `urgent()` says so, the task does
   * not wait for storing; it is asked each time the task could start.
   */
  enqueue(key: string, run: PacedTask, urgent: () => boolean = () => false): void {
    if (this.closed) {
      return;
    }
    this.queue.set(key, { run, urgent, since: this.queue.get(key)?.since ?? performance.now() });
    this.pump();
  }

  /** Queues a task that stepped back; a task queued under its key meanwhile is kept, with the older age. */
  private requeue(key: string, task: Queued): void {
    if (this.closed) {
      return;
    }
    const later = this.queue.get(key);
    this.queue.set(key, later ? { ...later, since: Math.min(later.since, task.since) } : task);
  }

  cancel(key: string): void {
    this.queue.delete(key);
  }

  /** Tasks waiting to start. */
  get waiting(): number {
    return this.queue.size;
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
    this.clearTimer();
  }

  private pump(): void {
    while (!this.closed && this.running < this.options.concurrency) {
      const next = this.next();
      if (!next) {
        return;
      }
      this.queue.delete(next[0]);
      this.start(...next);
    }
  }

  /** The oldest task allowed to start now; when one is held back, a look again later. */
  private next(): [string, Queued] | null {
    const now = performance.now();
    let heldBack = false;
    for (const entry of this.queue) {
      const [, task] = entry;
      const overdue = this.waitedEnough(task, now);
      if (overdue || (this.foreground === 0 && (!this.options.storing() || task.urgent()))) {
        return entry;
      }
      heldBack = true;
    }
    if (heldBack) {
      this.lookAgain();
    }
    return null;
  }

  private waitedEnough(task: Queued, now = performance.now()): boolean {
    return now - task.since >= this.options.maxWaitMs;
  }

  private start(key: string, task: Queued): void {
    this.running += 1;
    let steppedBack = false;
    const turn: PacedTurn = {
      stepBack: () => {
        steppedBack ||= this.foreground > 0 && !this.waitedEnough(task);
        return steppedBack;
      },
    };
    void task
      .run(turn)
      .catch(() => undefined)
      .finally(() => {
        this.running -= 1;
        if (steppedBack) {
          this.requeue(key, task);
        }
        this.pump();
      });
  }

  private lookAgain(): void {
    if (this.timer) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, this.options.retryMs ?? 25);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
