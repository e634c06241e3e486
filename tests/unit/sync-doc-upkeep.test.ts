/**
 * When an outgrown tail is folded: later, and after other documents' queued
 * updates, but never postponed past the point where the tail is larger than
 * the snapshot (a document written without pause during fan-outs would
 * otherwise store several times its content).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import type { Db } from '../../db/types';
import type { AppendBatcher } from '../../server/sync/host/append-batcher';
import { DocUpkeep, type UpkeepTarget } from '../../server/sync/host/doc-upkeep';
import type { DocLease } from '../../server/sync/host/leases';
import { WriteLog } from '../../server/sync/host/write-log';

const LIMITS = { compactUpdates: 1_000, compactBytes: 10_000_000, compactTailRatio: 0.25, compactMinBytes: 1_000, compactDelayMs: 100 };

function writeLog(tailBytes: number, snapshotBytes: number): WriteLog {
  return new WriteLog({} as Db, 'u1', LIMITS, { seq: 10, tail: { count: 5, bytes: tailBytes }, snapshotBytes });
}

function upkeepOf(log: WriteLog, busy: boolean): { upkeep: DocUpkeep; folds: () => number } {
  let folds = 0;
  vi.spyOn(log, 'compactIfDue').mockImplementation(async () => {
    folds += 1;
    return null;
  });
  const doc = new Y.Doc();
  const target: UpkeepTarget = {
    userId: 'u1',
    doc,
    lease: {} as DocLease,
    isWriter: () => true,
    exclusive: (fn) => fn(),
    drop: () => undefined,
    rebuild: async () => undefined,
  };
  const appender = { busy } as AppendBatcher;
  const upkeep = new DocUpkeep(target, log, { ...LIMITS, rebuildRatio: 1.5, rebuildMinBytes: 64_000, log: pino({ level: 'silent' }), appender, hooks: {} }, { doc, epoch: 'e1', seq: 10, tail: { count: 5, bytes: 0 } });
  return { upkeep, folds: () => folds };
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

  it('folds an overdue tail even while the appender stays busy', async () => {
    const { upkeep, folds } = upkeepOf(writeLog(41_000, 40_000), true);
    upkeep.afterStore();
    await vi.advanceTimersByTimeAsync(250);
    expect(folds()).toBe(1);
    upkeep.stop();
  });

  it('folds an outgrown tail a little later when nothing else waits', async () => {
    const { upkeep, folds } = upkeepOf(writeLog(12_000, 40_000), false);
    upkeep.afterStore();
    expect(folds()).toBe(0);
    await vi.advanceTimersByTimeAsync(250);
    expect(folds()).toBe(1);
    upkeep.stop();
  });
});
