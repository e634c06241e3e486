/**
 * When an outgrown tail is folded: later, and after other documents' queued
 * updates, but at once when the tail is larger than the snapshot or all
 * that is stored passes MAX_STORED_RATIO × the content (a document written
 * without pause would otherwise store several times its content), unless a
 * fan-out crowds the appender.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import type { Db } from '../../db/types';
import type { AppendBatcher } from '../../server/sync/host/append-batcher';
import { BackgroundPacer } from '../../server/sync/host/background';
import { DocUpkeep, MAX_STORED_RATIO, type UpkeepTarget } from '../../server/sync/host/doc-upkeep';
import type { DocLease } from '../../server/sync/host/leases';
import { WriteLog } from '../../server/sync/host/write-log';

const LIMITS = { compactUpdates: 1_000, compactBytes: 10_000_000, compactTailRatio: 0.25, compactMinBytes: 1_000, compactDelayMs: 100 };

function writeLog(tailBytes: number, snapshotBytes: number): WriteLog {
  return new WriteLog({} as Db, 'u1', LIMITS, { seq: 10, tail: { count: 5, bytes: tailBytes }, snapshotBytes });
}

interface Seams {
  /** The snapshot size a fold stores (null: nothing folded); runs as the fold's write would. */
  folded?: () => number | null;
  /** The document's queue (default: free). */
  exclusive?: UpkeepTarget['exclusive'];
  rebuild?: () => Promise<void>;
}

function upkeepOf(
  log: WriteLog,
  busy: boolean,
  freshBytes?: number,
  appender: { busy: boolean; crowded: boolean } = { busy, crowded: false },
  seams: Seams = {},
): { upkeep: DocUpkeep; folds: () => number; pacer: BackgroundPacer } {
  const pacer = new BackgroundPacer({ concurrency: 2, maxWaitMs: 60_000, storing: () => appender.busy });
  let folds = 0;
  vi.spyOn(log, 'compactIfDue').mockImplementation(async () => {
    folds += 1;
    return seams.folded?.() ?? null;
  });
  const doc = new Y.Doc();
  const target: UpkeepTarget = {
    userId: 'u1',
    doc,
    lease: {} as DocLease,
    isWriter: () => true,
    exclusive: seams.exclusive ?? ((fn) => fn()),
    drop: () => undefined,
    rebuild: seams.rebuild ?? (async () => undefined),
  };
  const upkeep = new DocUpkeep(target, log, { ...LIMITS, rebuildRatio: 1.5, rebuildMinBytes: 64_000, log: pino({ level: 'silent' }), appender: appender as AppendBatcher, pacer, hooks: {} }, {
    doc,
    epoch: 'e1',
    seq: 10,
    tail: { count: 5, bytes: 0 },
    ...(freshBytes === undefined ? {} : { built: true, snapshotBytes: freshBytes }),
  });
  return { upkeep, folds: () => folds, pacer };
}

describe('WriteLog thresholds', () => {
  it('calls a tail outgrown past its share of the snapshot, and overdue past the snapshot itself', () => {
    expect(writeLog(5_000, 40_000).outgrown).toBe(false);
    expect(writeLog(12_000, 40_000).outgrown).toBe(true);
    expect(writeLog(12_000, 40_000).overdue).toBe(false);
    expect(writeLog(41_000, 40_000).overdue).toBe(true);
    // Small documents: nothing below the minimum is either.
    expect(writeLog(900, 100).outgrown).toBe(false);
    expect(writeLog(900, 100).overdue).toBe(false);
  });
});

describe('DocUpkeep', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits while other documents’ updates are being stored', async () => {
    const { upkeep, folds } = upkeepOf(writeLog(12_000, 40_000), true);
    upkeep.afterStore();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(folds()).toBe(0);
    upkeep.stop();
  });

  it('folds an overdue tail at once, even while the appender stays busy', async () => {
    const { upkeep, folds } = upkeepOf(writeLog(41_000, 40_000), true);
    upkeep.afterStore();
    await vi.advanceTimersByTimeAsync(0);
    expect(folds()).toBe(1);
    upkeep.stop();
  });

  it('keeps even an overdue tail waiting while a fan-out crowds the appender, and folds it once through', async () => {
    const appender = { busy: true, crowded: true };
    const { upkeep, folds } = upkeepOf(writeLog(41_000, 40_000), true, undefined, appender);
    upkeep.afterStore();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(folds()).toBe(0);
    appender.crowded = false;
    await vi.advanceTimersByTimeAsync(250);
    expect(folds()).toBe(1);
    upkeep.stop();
  });

  it('folds a tail that became overdue while it waited, without waiting for the appender', async () => {
    const log = writeLog(12_000, 40_000);
    const { upkeep, folds } = upkeepOf(log, true);
    upkeep.afterStore();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(folds()).toBe(0);
    log.moveTo({ seq: 20, tail: { count: 30, bytes: 45_000 }, snapshotBytes: 40_000 });
    await vi.advanceTimersByTimeAsync(250);
    expect(folds()).toBe(1);
    upkeep.stop();
  });

  it('folds at once when snapshot and tail pass the stored limit of the content', async () => {
    // Content 100 KB; snapshot 1.3× (not yet rebuilt), tail 0.4×: stored past the limit.
    expect(1.7).toBeGreaterThan(MAX_STORED_RATIO);
    const { upkeep, folds } = upkeepOf(writeLog(40_000, 130_000), true, 100_000);
    upkeep.afterStore();
    await vi.advanceTimersByTimeAsync(0);
    expect(folds()).toBe(1);
    upkeep.stop();
    // Outgrown (a tail past a quarter of the snapshot) but stored within the limit: it waits for the appender.
    expect(1.55).toBeLessThan(MAX_STORED_RATIO);
    const under = upkeepOf(writeLog(35_000, 120_000), true, 100_000);
    under.upkeep.afterStore();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(under.folds()).toBe(0);
    under.upkeep.stop();
  });

  it('starts no fold while a person’s edit is received and reviewed, and folds once it is through', async () => {
    const { upkeep, folds, pacer } = upkeepOf(writeLog(41_000, 40_000), false);
    let finish = () => undefined as void;
    const edit = pacer.inForeground(() => new Promise<void>((resolve) => (finish = resolve)));
    upkeep.afterStore();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(folds()).toBe(0);
    finish();
    await edit;
    await vi.advanceTimersByTimeAsync(0);
    expect(folds()).toBe(1);
    upkeep.stop();
  });

  it('forgets a queued fold once the document leaves service', async () => {
    const { upkeep, folds, pacer } = upkeepOf(writeLog(41_000, 40_000), false);
    let finish = () => undefined as void;
    const edit = pacer.inForeground(() => new Promise<void>((resolve) => (finish = resolve)));
    upkeep.afterStore();
    expect(pacer.waiting).toBe(1);
    upkeep.stop();
    expect(pacer.waiting).toBe(0);
    finish();
    await edit;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(folds()).toBe(0);
  });

  it('folds an outgrown tail a little later when nothing else waits', async () => {
    const { upkeep, folds } = upkeepOf(writeLog(12_000, 40_000), false);
    upkeep.afterStore();
    expect(folds()).toBe(0);
    await vi.advanceTimersByTimeAsync(250);
    expect(folds()).toBe(1);
    upkeep.stop();
  });

  it('steps a started fold back when its turn in the document’s queue comes during an edit, and folds after', async () => {
    let free = () => undefined as void;
    const queueBusy = new Promise<void>((resolve) => (free = resolve));
    const exclusive: UpkeepTarget['exclusive'] = (fn) => queueBusy.then(fn);
    const { upkeep, folds, pacer } = upkeepOf(writeLog(41_000, 40_000), false, undefined, undefined, { exclusive });
    upkeep.afterStore();
    // The fold has started and waits for the document's queue; an edit arrives meanwhile.
    let finish = () => undefined as void;
    const edit = pacer.inForeground(() => new Promise<void>((resolve) => (finish = resolve)));
    free();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(folds()).toBe(0);
    expect(pacer.waiting).toBe(1);
    finish();
    await edit;
    await vi.advanceTimersByTimeAsync(0);
    expect(folds()).toBe(1);
    upkeep.stop();
  });

  it('measures a bloated snapshot after its fold, but not during an edit, and rebuilds once it is through', async () => {
    const rebuild = vi.fn(async () => undefined);
    let finish = () => undefined as void;
    let edit: Promise<void> = Promise.resolve();
    // An edit arrives while the fold's write is out; the snapshot is 5× the content last measured.
    const folded = () => {
      edit = made.pacer.inForeground(() => new Promise<void>((resolve) => (finish = resolve)));
      return 500_000;
    };
    const made = upkeepOf(writeLog(41_000, 40_000), false, 100_000, undefined, { folded, rebuild });
    made.upkeep.afterStore();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(made.folds()).toBe(1);
    expect(made.pacer.waiting).toBe(1);
    expect(rebuild).not.toHaveBeenCalled();
    finish();
    await edit;
    await vi.advanceTimersByTimeAsync(0);
    // The empty document measures far below the snapshot: rebuilt.
    expect(rebuild).toHaveBeenCalledTimes(1);
    made.upkeep.stop();
  });
});
