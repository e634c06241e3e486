import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  HLC_ERROR_CODES,
  Hlc,
  HlcError,
  MAX_COUNTER,
  MAX_DRIFT_MS,
  MAX_WALL_MS,
  clampStamp,
  compareStamps,
  formatStamp,
  isValidStamp,
  maxStamp,
  parseStamp,
  tryParseStamp,
} from '../../sync/hlc';
import type { Stamp } from '../../sync/hlc';

const runs = Number(process.env.PROPERTY_RUNS ?? 200);

const T0 = 1_732_000_000_000;

/** A wall clock the test drives by assigning `clock.ms`. */
function manualClock(start: number): { ms: number; now: () => number } {
  const clock = { ms: start, now: (): number => clock.ms };
  return clock;
}

/** A wall clock that replays `readings` in order, repeating the last one. */
function scriptedClock(readings: readonly number[]): () => number {
  let i = 0;
  return () => {
    const value = readings[Math.min(i, readings.length - 1)];
    i += 1;
    if (value === undefined) {throw new Error('scriptedClock needs at least one reading');}
    return value;
  };
}

function stringOrder(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

function expectHlcError(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(HlcError);
  expect((caught as HlcError).code).toBe(code);
}

// Small ranges mixed in so ties on wallMs/counter and node prefixes are common.
const wallArb = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.bigInt({ min: 0n, max: BigInt(MAX_WALL_MS) }).map(Number),
);
const counterArb = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.integer({ min: 0, max: MAX_COUNTER }),
);
const nodeArb = fc.oneof(
  fc.constantFrom('a', 'ab', 'b', 'A', 'Z', '0', '9', '_', '-', 'a-', 'a_'),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/),
);
const stampArb: fc.Arbitrary<Stamp> = fc.record({
  wallMs: wallArb,
  counter: counterArb,
  node: nodeArb,
});

describe('compareStamps / maxStamp', () => {
  it('orders by wallMs, then counter, then node', () => {
    const base: Stamp = { wallMs: 10, counter: 5, node: 'm' };
    expect(compareStamps(base, { ...base })).toBe(0);
    expect(compareStamps(base, { ...base, wallMs: 11, counter: 0, node: 'a' })).toBe(-1);
    expect(compareStamps(base, { ...base, counter: 6, node: 'a' })).toBe(-1);
    expect(compareStamps(base, { ...base, node: 'n' })).toBe(-1);
    expect(compareStamps(base, { ...base, node: 'M' })).toBe(1);
    expect(compareStamps(base, { ...base, wallMs: 9, counter: MAX_COUNTER })).toBe(1);
  });

  it('is antisymmetric and maxStamp picks the greater (property)', () => {
    fc.assert(
      fc.property(stampArb, stampArb, (a, b) => {
        expect(compareStamps(a, b)).toBe(-compareStamps(b, a) || 0);
        const m = maxStamp(a, b);
        expect(compareStamps(m, a)).toBeGreaterThanOrEqual(0);
        expect(compareStamps(m, b)).toBeGreaterThanOrEqual(0);
        expect(m === a || m === b).toBe(true);
      }),
      { numRuns: runs },
    );
  });
});

describe('formatStamp / parseStamp', () => {
  it('uses the documented fixed-width layout', () => {
    expect(formatStamp({ wallMs: T0, counter: 0, node: 'srv-1' })).toBe(
      '001732000000000:0000:srv-1',
    );
    expect(formatStamp({ wallMs: 0, counter: MAX_COUNTER, node: 'x' })).toBe(
      '000000000000000:ffff:x',
    );
    expect(formatStamp({ wallMs: MAX_WALL_MS, counter: 10, node: 'Dev_9' })).toBe(
      '999999999999999:000a:Dev_9',
    );
  });

  it('covers timestamps beyond year 10000', () => {
    const year10000 = Date.UTC(10000, 0, 1);
    expect(year10000).toBeLessThan(MAX_WALL_MS);
    expect(parseStamp(formatStamp({ wallMs: year10000, counter: 1, node: 'n' })).wallMs).toBe(
      year10000,
    );
  });

  it('string order matches compareStamps under plain < / > (property)', () => {
    fc.assert(
      fc.property(stampArb, stampArb, (a, b) => {
        expect(stringOrder(formatStamp(a), formatStamp(b))).toBe(compareStamps(a, b));
      }),
      { numRuns: runs },
    );
  });

  it('round-trips stamp -> string -> stamp exactly (property)', () => {
    fc.assert(
      fc.property(stampArb, (s) => {
        expect(parseStamp(formatStamp(s))).toEqual(s);
      }),
      { numRuns: runs },
    );
  });

  it('round-trips well-formed string -> stamp -> string exactly (property)', () => {
    const textArb = fc.stringMatching(/^\d{15}:[0-9a-f]{4}:[A-Za-z0-9_-]{1,32}$/);
    fc.assert(
      fc.property(textArb, (text) => {
        expect(formatStamp(parseStamp(text))).toBe(text);
      }),
      { numRuns: runs },
    );
  });

  const good = '001732000000000:0000:node';
  const malformed: ReadonlyArray<[label: string, input: string]> = [
    ['empty', ''],
    ['only separators', '::'],
    ['two fields', '001732000000000:0000'],
    ['four fields', `${good}:extra`],
    ['empty node', '001732000000000:0000:'],
    ['negative wall', '-01732000000000:0000:node'],
    ['negative counter', '001732000000000:-001:node'],
    ['non-numeric wall', '00173200000000x:0000:node'],
    ['non-hex counter', '001732000000000:00g0:node'],
    ['uppercase hex counter (not canonical)', '001732000000000:00AF:node'],
    ['short wall', '1732000000000:0000:node'],
    ['long wall', '0001732000000000:0000:node'],
    ['short counter', '001732000000000:000:node'],
    ['long counter', '001732000000000:00000:node'],
    ['decimal point in wall', '0017320000000.0:0000:node'],
    ['too-long node', `001732000000000:0000:${'n'.repeat(33)}`],
    ['node with colon', '001732000000000:0000:no:de'],
    ['node with space', '001732000000000:0000:no de'],
    ['node with non-ascii', '001732000000000:0000:nodé'],
    ['leading whitespace', ` ${good}`],
    ['trailing newline', `${good}\n`],
    ['fields swapped', 'node:0000:001732000000000'],
    ['huge input', `${good}${'x'.repeat(100_000)}`],
  ];

  it.each(malformed)('parseStamp rejects %s with hlc_malformed', (_label, input) => {
    expectHlcError(() => parseStamp(input), HLC_ERROR_CODES.malformed);
    expect(tryParseStamp(input)).toBeNull();
  });

  it('accepts the longest valid node and the control string', () => {
    const longest = `001732000000000:0000:${'n'.repeat(32)}`;
    expect(parseStamp(longest).node).toHaveLength(32);
    expect(parseStamp(good)).toEqual({ wallMs: T0, counter: 0, node: 'node' });
  });

  it('tryParseStamp returns null for non-strings', () => {
    for (const value of [undefined, null, 42, {}, ['001732000000000:0000:node']]) {
      expect(tryParseStamp(value)).toBeNull();
    }
  });

  it('parse error message names the offending input, truncated', () => {
    try {
      parseStamp(`bad${'x'.repeat(500)}`);
      expect.unreachable('parseStamp should throw');
    } catch (error) {
      expect(error).toBeInstanceOf(HlcError);
      const message = (error as HlcError).message;
      expect(message).toContain('"badxxx');
      expect(message.length).toBeLessThan(150);
    }
  });

  const invalidStamps: ReadonlyArray<[label: string, stamp: Stamp]> = [
    ['negative wall', { wallMs: -1, counter: 0, node: 'n' }],
    ['fractional wall', { wallMs: 1.5, counter: 0, node: 'n' }],
    ['wall beyond 15 digits', { wallMs: MAX_WALL_MS + 1, counter: 0, node: 'n' }],
    ['NaN wall', { wallMs: Number.NaN, counter: 0, node: 'n' }],
    ['counter overflow', { wallMs: 0, counter: MAX_COUNTER + 1, node: 'n' }],
    ['negative counter', { wallMs: 0, counter: -1, node: 'n' }],
    ['empty node', { wallMs: 0, counter: 0, node: '' }],
    ['node with colon', { wallMs: 0, counter: 0, node: 'a:b' }],
  ];

  it.each(invalidStamps)('formatStamp rejects %s with hlc_invalid_stamp', (_label, stamp) => {
    expect(isValidStamp(stamp)).toBe(false);
    expectHlcError(() => formatStamp(stamp), HLC_ERROR_CODES.invalidStamp);
  });
});

describe('clampStamp', () => {
  it('passes through a stamp within the drift limit, including exactly at it', () => {
    const atLimit: Stamp = { wallMs: T0 + MAX_DRIFT_MS, counter: 7, node: 'peer' };
    const result = clampStamp(atLimit, T0);
    expect(result.clamped).toBe(false);
    expect(result.stamp).toEqual(atLimit);
  });

  it('pulls a stamp beyond the limit back to now + maxDrift, keeping counter and node', () => {
    const result = clampStamp({ wallMs: T0 + MAX_DRIFT_MS + 1, counter: 7, node: 'peer' }, T0);
    expect(result).toEqual({
      stamp: { wallMs: T0 + MAX_DRIFT_MS, counter: 7, node: 'peer' },
      clamped: true,
    });
  });

  it('honours a custom drift and is idempotent (property)', () => {
    fc.assert(
      fc.property(
        stampArb,
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 10 * MAX_DRIFT_MS }),
        (stamp, now, drift) => {
          const once = clampStamp(stamp, now, drift);
          expect(once.stamp.wallMs).toBeLessThanOrEqual(stamp.wallMs);
          expect(once.stamp.wallMs).toBeLessThanOrEqual(now + drift);
          expect(once.clamped).toBe(stamp.wallMs > now + drift);
          if (once.clamped) {expect(once.stamp.wallMs).toBe(now + drift);}
          const twice = clampStamp(once.stamp, now, drift);
          expect(twice.clamped).toBe(false);
          expect(twice.stamp).toEqual(once.stamp);
        },
      ),
      { numRuns: runs },
    );
  });

  it('rejects bad arguments', () => {
    const ok: Stamp = { wallMs: 1, counter: 0, node: 'n' };
    expectHlcError(() => clampStamp({ ...ok, counter: -1 }, T0), HLC_ERROR_CODES.invalidStamp);
    expectHlcError(() => clampStamp(ok, Number.NaN), HLC_ERROR_CODES.invalidOption);
    expectHlcError(() => clampStamp(ok, T0, -5), HLC_ERROR_CODES.invalidOption);
  });
});

describe('Hlc construction', () => {
  it.each(['', 'has space', 'a:b', 'x'.repeat(33), 'ünï'])('rejects node id %j', (node) => {
    expectHlcError(() => new Hlc({ node, now: () => T0 }), HLC_ERROR_CODES.invalidNode);
  });

  it('rejects a negative or fractional maxDriftMs', () => {
    for (const maxDriftMs of [-1, 0.5, Number.POSITIVE_INFINITY]) {
      expectHlcError(
        () => new Hlc({ node: 'n', now: () => T0, maxDriftMs }),
        HLC_ERROR_CODES.invalidOption,
      );
    }
  });

  it('defaults maxDriftMs to MAX_DRIFT_MS = 5 minutes', () => {
    expect(MAX_DRIFT_MS).toBe(300_000);
    expect(new Hlc({ node: 'n', now: () => T0 }).maxDriftMs).toBe(MAX_DRIFT_MS);
  });

  it('peek/last are null before any event and track the latest stamp', () => {
    const clock = new Hlc({ node: 'n', now: () => T0 });
    expect(clock.peek()).toBeNull();
    expect(clock.last()).toBeNull();
    const s = clock.tick();
    expect(clock.peek()).toEqual(s);
    expect(clock.last()).toEqual(s);
    const r = clock.receive({ wallMs: T0 + 10, counter: 3, node: 'p' }).stamp;
    expect(clock.peek()).toEqual(r);
  });

  it('resumes after a persisted last stamp even if the wall clock is behind it', () => {
    const persisted: Stamp = { wallMs: T0 + 60_000, counter: 4, node: 'n' };
    const clock = new Hlc({ node: 'n', now: () => T0, last: persisted });
    expect(clock.peek()).toEqual(persisted);
    expect(clock.tick()).toEqual({ wallMs: T0 + 60_000, counter: 5, node: 'n' });
  });

  it('rejects an invalid persisted last stamp', () => {
    expectHlcError(
      () => new Hlc({ node: 'n', now: () => T0, last: { wallMs: -1, counter: 0, node: 'n' } }),
      HLC_ERROR_CODES.invalidStamp,
    );
  });

  it('throws hlc_invalid_clock when the injected clock returns garbage', () => {
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      const clock = new Hlc({ node: 'n', now: () => bad });
      expectHlcError(() => clock.tick(), HLC_ERROR_CODES.invalidClock);
    }
  });

  it('floors a fractional wall clock', () => {
    const clock = new Hlc({ node: 'n', now: () => T0 + 0.9 });
    expect(clock.tick()).toEqual({ wallMs: T0, counter: 0, node: 'n' });
  });

  it('returns frozen stamps so callers cannot corrupt clock state', () => {
    const clock = new Hlc({ node: 'n', now: () => T0 });
    const s = clock.tick();
    expect(Object.isFrozen(s)).toBe(true);
    expect(() => {
      (s as { wallMs: number }).wallMs = 0;
    }).toThrow(TypeError);
    expect(clock.tick()).toEqual({ wallMs: T0, counter: 1, node: 'n' });
  });
});

describe('Hlc.tick', () => {
  it('uses wall time when it advances and resets the counter', () => {
    const wall = manualClock(T0);
    const clock = new Hlc({ node: 'dev', now: wall.now });
    expect(clock.tick()).toEqual({ wallMs: T0, counter: 0, node: 'dev' });
    expect(clock.tick()).toEqual({ wallMs: T0, counter: 1, node: 'dev' });
    wall.ms = T0 + 5;
    expect(clock.tick()).toEqual({ wallMs: T0 + 5, counter: 0, node: 'dev' });
  });

  it('stays strictly monotonic when the wall clock stalls and goes backwards', () => {
    const readings = [T0, T0, T0, T0 - 1000, T0 - 5000, T0 + 1, T0 + 1, 0, T0 + 2, T0 + 10];
    const clock = new Hlc({ node: 'dev', now: scriptedClock(readings) });
    const stamps = readings.map(() => clock.tick());
    for (let i = 1; i < stamps.length; i++) {
      const prev = stamps[i - 1];
      const cur = stamps[i];
      if (prev === undefined || cur === undefined) {throw new Error('unreachable');}
      expect(compareStamps(cur, prev)).toBe(1);
      expect(formatStamp(cur) > formatStamp(prev)).toBe(true);
    }
    // While the clock is behind, the HLC keeps the highest wall seen and counts up.
    expect(stamps.map((s) => [s.wallMs - T0, s.counter])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [0, 3],
      [0, 4],
      [1, 0],
      [1, 1],
      [1, 2],
      [2, 0],
      [10, 0],
    ]);
  });

  it('is strictly monotonic under an arbitrary wall clock (property)', () => {
    const readingsArb = fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 200 });
    fc.assert(
      fc.property(readingsArb, (readings) => {
        const clock = new Hlc({ node: 'n', now: scriptedClock(readings.map((r) => T0 + r)) });
        let prev: Stamp | null = null;
        for (let i = 0; i < readings.length; i++) {
          const cur = clock.tick();
          if (prev !== null) {expect(compareStamps(cur, prev)).toBe(1);}
          expect(cur.wallMs).toBeGreaterThanOrEqual(T0 + (readings[i] ?? 0));
          prev = cur;
        }
      }),
      { numRuns: runs },
    );
  });

  it('advances wallMs by 1 instead of overflowing the counter', () => {
    const clock = new Hlc({ node: 'n', now: () => T0 });
    let last = clock.tick();
    let nonIncreasing = 0;
    for (let i = 0; i < MAX_COUNTER; i++) {
      const next = clock.tick();
      if (compareStamps(next, last) !== 1) {nonIncreasing += 1;}
      last = next;
    }
    expect(nonIncreasing).toBe(0);
    expect(last).toEqual({ wallMs: T0, counter: MAX_COUNTER, node: 'n' });
    const overflowed = clock.tick();
    expect(overflowed).toEqual({ wallMs: T0 + 1, counter: 0, node: 'n' });
    // The borrowed millisecond is reused rather than borrowed again when wall time catches up.
    expect(clock.tick()).toEqual({ wallMs: T0 + 1, counter: 1, node: 'n' });
  });

  it('throws hlc_overflow rather than emitting an unformattable stamp', () => {
    const clock = new Hlc({
      node: 'n',
      now: () => 0,
      last: { wallMs: MAX_WALL_MS, counter: MAX_COUNTER, node: 'n' },
    });
    expectHlcError(() => clock.tick(), HLC_ERROR_CODES.overflow);
  });
});

describe('Hlc.receive', () => {
  it('moves the clock forward to a remote stamp ahead of it; later ticks exceed it', () => {
    const wall = manualClock(T0);
    const clock = new Hlc({ node: 'local', now: wall.now });
    clock.tick();
    const remote: Stamp = { wallMs: T0 + 60_000, counter: 9, node: 'zzz' };
    const result = clock.receive(remote);
    expect(result).toEqual({
      stamp: { wallMs: T0 + 60_000, counter: 10, node: 'local' },
      clamped: false,
    });
    wall.ms = T0 + 100;
    const after = clock.tick();
    expect(compareStamps(after, remote)).toBe(1);
    expect(after).toEqual({ wallMs: T0 + 60_000, counter: 11, node: 'local' });
  });

  it('keeps local wall time when the remote stamp is behind', () => {
    const clock = new Hlc({ node: 'local', now: () => T0 });
    const result = clock.receive({ wallMs: T0 - 10, counter: 500, node: 'p' });
    expect(result).toEqual({ stamp: { wallMs: T0, counter: 0, node: 'local' }, clamped: false });
  });

  it('takes max(counter)+1 when local, remote and wall agree', () => {
    const clock = new Hlc({ node: 'local', now: () => T0 });
    clock.tick();
    clock.tick(); // counter 1
    expect(clock.receive({ wallMs: T0, counter: 7, node: 'p' }).stamp.counter).toBe(8);
    expect(clock.receive({ wallMs: T0, counter: 2, node: 'p' }).stamp.counter).toBe(9);
  });

  it('clamps a remote stamp beyond max drift to now + 5 min and reports it', () => {
    const clock = new Hlc({ node: 'local', now: () => T0 });
    const bad: Stamp = { wallMs: T0 + 24 * 3_600_000, counter: 3, node: 'evil' };
    const result = clock.receive(bad);
    expect(result.clamped).toBe(true);
    expect(result.stamp).toEqual({ wallMs: T0 + MAX_DRIFT_MS, counter: 4, node: 'local' });
    expect(compareStamps(result.stamp, bad)).toBe(-1);
    // The pure helper the server uses agrees with what the clock did.
    expect(clampStamp(bad, T0)).toEqual({
      stamp: { wallMs: T0 + MAX_DRIFT_MS, counter: 3, node: 'evil' },
      clamped: true,
    });
  });

  it('uses a custom maxDriftMs', () => {
    const clock = new Hlc({ node: 'local', now: () => T0, maxDriftMs: 1000 });
    const result = clock.receive({ wallMs: T0 + 1001, counter: 0, node: 'p' });
    expect(result).toEqual({
      stamp: { wallMs: T0 + 1000, counter: 1, node: 'local' },
      clamped: true,
    });
    const within = clock.receive({ wallMs: T0 + 1000, counter: 5, node: 'p' });
    expect(within).toEqual({
      stamp: { wallMs: T0 + 1000, counter: 6, node: 'local' },
      clamped: false,
    });
  });

  it('overflows a maxed remote counter into the next millisecond', () => {
    const clock = new Hlc({ node: 'local', now: () => T0 });
    const remote: Stamp = { wallMs: T0 + 5, counter: MAX_COUNTER, node: 'p' };
    const { stamp } = clock.receive(remote);
    expect(stamp).toEqual({ wallMs: T0 + 6, counter: 0, node: 'local' });
    expect(compareStamps(stamp, remote)).toBe(1);
  });

  it('rejects a malformed remote stamp without changing state', () => {
    const clock = new Hlc({ node: 'local', now: () => T0 });
    const before = clock.tick();
    expectHlcError(
      () => clock.receive({ wallMs: T0, counter: 1, node: 'bad node' }),
      HLC_ERROR_CODES.invalidStamp,
    );
    expectHlcError(
      () => clock.receive(JSON.parse('{"wallMs":"1","counter":0,"node":"p"}') as Stamp),
      HLC_ERROR_CODES.invalidStamp,
    );
    expect(clock.peek()).toEqual(before);
  });
});

describe('Hlc message exchange between 3 nodes (property)', () => {
  type Op =
    | { kind: 'tick'; at: number }
    | { kind: 'send'; from: number; to: number }
    | { kind: 'deliver'; to: number; pick: number }
    | { kind: 'skew'; at: number; deltaMs: number };

  const nodeIndex = fc.integer({ min: 0, max: 2 });
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('tick' as const), at: nodeIndex }),
    fc.record({ kind: fc.constant('send' as const), from: nodeIndex, to: nodeIndex }),
    fc.record({ kind: fc.constant('deliver' as const), to: nodeIndex, pick: fc.nat() }),
    // Wall clocks stall, jump back and jump forward.
    fc.record({
      kind: fc.constant('skew' as const),
      at: nodeIndex,
      deltaMs: fc.integer({ min: -5_000, max: 5_000 }),
    }),
  );

  it('every receive exceeds the received stamp, each node is monotonic, all stamps unique', () => {
    let totalReceives = 0;
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 300 }),
        fc.array(fc.integer({ min: -60_000, max: 60_000 }), { minLength: 3, maxLength: 3 }),
        (ops, offsets) => {
          const walls = offsets.map((o) => manualClock(T0 + o));
          const clocks = walls.map((w, i) => new Hlc({ node: `node-${i}`, now: w.now }));
          const inboxes: Stamp[][] = [[], [], []];
          const lastByNode: (Stamp | null)[] = [null, null, null];
          const issued = new Set<string>();

          const record = (i: number, s: Stamp): void => {
            const prev = lastByNode[i];
            if (prev !== null && prev !== undefined) {expect(compareStamps(s, prev)).toBe(1);}
            expect(s.node).toBe(`node-${i}`);
            const key = formatStamp(s);
            expect(issued.has(key)).toBe(false);
            issued.add(key);
            lastByNode[i] = s;
          };
          const at = <T>(xs: readonly T[], i: number): T => {
            const x = xs[i];
            if (x === undefined) {throw new Error(`index ${i} out of range`);}
            return x;
          };

          for (const op of ops) {
            if (op.kind === 'tick') {
              record(op.at, at(clocks, op.at).tick());
            } else if (op.kind === 'send') {
              const s = at(clocks, op.from).tick();
              record(op.from, s);
              at(inboxes, op.to).push(s);
            } else if (op.kind === 'deliver') {
              const inbox = at(inboxes, op.to);
              if (inbox.length === 0) {continue;}
              const [msg] = inbox.splice(op.pick % inbox.length, 1);
              if (msg === undefined) {throw new Error('unreachable');}
              const { stamp, clamped } = at(clocks, op.to).receive(msg);
              expect(clamped).toBe(false);
              expect(compareStamps(stamp, msg)).toBe(1);
              expect(formatStamp(stamp) > formatStamp(msg)).toBe(true);
              record(op.to, stamp);
              totalReceives += 1;
            } else {
              const wall = at(walls, op.at);
              // Bounded to T0 ± 60 s so peers stay within MAX_DRIFT_MS of each other.
              wall.ms = Math.min(T0 + 60_000, Math.max(T0 - 60_000, wall.ms + op.deltaMs));
            }
          }
        },
      ),
      { numRuns: runs },
    );
    // Guards against a generator that never actually delivers a message.
    expect(totalReceives).toBeGreaterThan(0);
  });

  it('a causal chain across nodes yields strictly increasing stamps despite skewed clocks', () => {
    const walls = [T0 + 120_000, T0 - 120_000, T0];
    const clocks = walls.map((w, i) => new Hlc({ node: `n${i}`, now: () => w }));
    const [a, b, c] = clocks;
    if (a === undefined || b === undefined || c === undefined) {throw new Error('unreachable');}
    const s1 = a.tick();
    const s2 = b.receive(s1).stamp;
    const s3 = c.receive(b.tick()).stamp;
    const s4 = a.receive(c.tick()).stamp;
    const chain = [s1, s2, s3, s4];
    const sorted = [...chain].sort(compareStamps);
    expect(sorted).toEqual(chain);
    expect(new Set(chain.map(formatStamp)).size).toBe(chain.length);
    // The slow node (b) adopted the fast node's wall time instead of its own.
    expect(s2.wallMs).toBe(T0 + 120_000);
  });
});
