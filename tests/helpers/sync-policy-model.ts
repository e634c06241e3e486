/**
 * @module tests/helpers/sync-policy-model
 * A malicious client's moves for the edit-policy fuzz, and an independent
 * model of what the rules let through: which writes are legitimate, what
 * Postgres must hold after them (last writer wins by the clamped stamp), and
 * so what the author's document must show. Only the last move per key in a
 * batch reaches the server (the client's own document overwrites the rest).
 */
import fc from 'fast-check';
import { formatStamp } from '../../sync/hlc';

export const NOW = Date.UTC(2026, 0, 15, 12);
const FIVE_MIN = 5 * 60_000;
const DAY = 86_400_000;

export type StampKind = 'ok' | 'ahead' | 'absurdFuture' | 'absurdPast' | 'malformed' | 'missing';
export type ThreadPick = 'shared0' | 'shared1' | 'own' | 'hidden' | 'random' | 'garbage';
export type PersonPick = 'none' | 'ana' | 'ben' | 'cleo' | 'dan' | 'random';
export type FieldName = 'assignee' | 'status' | 'snoozeUntil' | 'labels' | 'read';

export interface StampSpec {
  kind: StampKind;
  offset: number;
}

export type Move =
  | { kind: 'field'; thread: ThreadPick; field: FieldName; value: unknown; valid: boolean; assignee: PersonPick; stamp: StampSpec }
  | { kind: 'server'; map: string; key: 'existing' | 'hidden' | 'random'; index: number; value: unknown }
  | { kind: 'delete'; map: string; index: number }
  | { kind: 'nested'; map: string; key: string }
  | { kind: 'flag'; record: 'lead' | 'secret' | 'random' | 'garbage'; v: unknown; stamp: StampSpec }
  | { kind: 'convert'; address: 'stranger' | 'hidden' | 'random' | 'bad'; type: 'lead' | 'contact'; form: 'request' | 'answer'; stamp: StampSpec };

export const SERVER_MAP_NAMES = ['meta', 'threads', 'records', 'people', 'notifications', 'accounts', 'evil'] as const;
export const ALL_MAP_NAMES = [...SERVER_MAP_NAMES, 'fields', 'shareFlags', 'conversions'] as const;

const stampArb: fc.Arbitrary<StampSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant<StampKind>('ok'), offset: fc.integer({ min: -120_000, max: FIVE_MIN }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant<StampKind>('ahead'), offset: fc.integer({ min: FIVE_MIN + 1, max: DAY }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant<StampKind>('absurdFuture'), offset: fc.integer({ min: DAY + 1, max: 3650 * DAY }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant<StampKind>('absurdPast'), offset: fc.integer({ min: 0, max: Date.UTC(2019, 11, 31) }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant<StampKind>('malformed'), offset: fc.integer({ min: 0, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant<StampKind>('missing'), offset: fc.constant(0) }) },
);

const VALID: Record<Exclude<FieldName, 'assignee'>, unknown[]> = {
  status: ['open', 'pending', 'done'],
  snoozeUntil: [null, '2026-02-01T09:00:00Z', '2026-03-01T09:00:00.000Z'],
  labels: [[], ['vip'], ['eu', 'renewal']],
  read: [true, false],
};
/** Values a Yjs update can carry (lib0's `writeAny`) that JSON cannot: a client may send any of them. */
export const NOT_JSON: readonly unknown[] = [10n, new Uint8Array([1, 2]), undefined, Number.NaN, Number.POSITIVE_INFINITY, { v: 1n }, [undefined]];

const INVALID: Record<FieldName, unknown[]> = {
  assignee: ['ben', 42, ['x'], 10n],
  status: ['closed', 3, null, new Uint8Array([1])],
  snoozeUntil: ['tomorrow', 5, '2026-13-45T00:00:00Z', Number.NaN],
  labels: [[''], 'vip', Array.from({ length: 21 }, () => 'x'), [undefined], [1n]],
  read: ['yes', 1, null, undefined],
};

const fieldMove: fc.Arbitrary<Move> = fc
  .record({
    thread: fc.constantFrom<ThreadPick>('shared0', 'shared1', 'own', 'own', 'hidden', 'random', 'garbage'),
    field: fc.constantFrom<FieldName>('assignee', 'status', 'snoozeUntil', 'labels', 'read'),
    valid: fc.boolean(),
    pick: fc.nat(),
    assignee: fc.constantFrom<PersonPick>('none', 'ana', 'ben', 'cleo', 'dan', 'random'),
    stamp: stampArb,
  })
  .map(({ thread, field, valid, pick, assignee, stamp }) => {
    const pool = valid ? (field === 'assignee' ? [null] : VALID[field]) : INVALID[field];
    return { kind: 'field', thread, field, valid, value: pool[pick % pool.length], assignee, stamp };
  });

const json = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3, noNullPrototype: true }),
  fc.constantFrom(...NOT_JSON),
);

export const moveArb: fc.Arbitrary<Move> = fc.oneof(
  { weight: 8, arbitrary: fieldMove },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('server' as const),
      map: fc.constantFrom(...SERVER_MAP_NAMES),
      key: fc.constantFrom('existing' as const, 'hidden' as const, 'random' as const),
      index: fc.nat(),
      value: json,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), map: fc.constantFrom(...ALL_MAP_NAMES), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('nested' as const), map: fc.constantFrom(...ALL_MAP_NAMES), key: fc.constantFrom('n1', 'n2') }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('flag' as const),
      record: fc.constantFrom('lead' as const, 'lead' as const, 'secret' as const, 'random' as const, 'garbage' as const),
      v: fc.constantFrom<unknown>(true, false, true, 'yes'),
      stamp: stampArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('convert' as const),
      address: fc.constantFrom('stranger' as const, 'hidden' as const, 'random' as const, 'bad' as const),
      type: fc.constantFrom('lead' as const, 'contact' as const),
      form: fc.constantFrom('request' as const, 'request' as const, 'answer' as const),
      stamp: stampArb,
    }),
  },
);

/** The stamp text a move writes (`undefined`: no hlc at all); counters are unique per run, so no two moves share a stamp. */
export function stampText(spec: StampSpec, counter: number): string | undefined {
  const node = 'mallory';
  switch (spec.kind) {
    case 'ok':
    case 'ahead':
    case 'absurdFuture':
      return formatStamp({ wallMs: NOW + spec.offset, counter, node });
    case 'absurdPast':
      return formatStamp({ wallMs: spec.offset, counter, node });
    case 'malformed':
      return `${formatStamp({ wallMs: NOW, counter, node })}!${spec.offset}`;
    case 'missing':
      return undefined;
  }
}

/** The stamp Postgres keeps for a trusted stamp (clamped five minutes ahead), or null when it is refused. */
export function storedStamp(spec: StampSpec, counter: number): string | null {
  if (spec.kind === 'ok') {
    return formatStamp({ wallMs: NOW + spec.offset, counter, node: 'mallory' });
  }
  if (spec.kind === 'ahead') {
    return formatStamp({ wallMs: NOW + FIVE_MIN, counter, node: 'mallory' });
  }
  return null;
}
