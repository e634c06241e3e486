import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findManagerCycle, managersAbove, type ManagerEdge } from '../../sync/org-chart';

const runs = Number(process.env.PROPERTY_RUNS ?? 300);

/** Oracle: after the change, walking up from anyone must end at a root within n steps. */
function hasLoopAfter(edges: ManagerEdge[], personId: string, managerId: string): boolean {
  const managerOf = new Map(edges.map((e) => [e.id, e.id === personId ? managerId : e.managerId]));
  for (const start of managerOf.keys()) {
    let current: string | null | undefined = start;
    for (let steps = 0; current; steps += 1) {
      if (steps > managerOf.size) {
        return true;
      }
      current = managerOf.get(current);
    }
  }
  return false;
}

/** Random forests: each person's manager is someone earlier in the list, so the start is loop-free. */
const forest = fc.integer({ min: 1, max: 30 }).chain((n) =>
  fc
    .array(fc.option(fc.nat(), { nil: null }), { minLength: n, maxLength: n })
    .map((picks) =>
      picks.map((pick, i): ManagerEdge => ({ id: `p${i}`, managerId: i === 0 || pick === null ? null : `p${pick % i}` })),
    ),
);

describe('reporting line', () => {
  it('refuses exactly the manager changes that would form a loop (property vs oracle)', () => {
    fc.assert(
      fc.property(forest, fc.nat(), fc.nat(), (edges, a, b) => {
        const person = edges[a % edges.length]?.id as string;
        const manager = edges[b % edges.length]?.id as string;
        const cycle = findManagerCycle(edges, person, manager);
        expect(cycle !== null).toBe(hasLoopAfter(edges, person, manager));
        if (cycle) {
          expect(cycle[0]).toBe(person);
          expect(cycle.at(-1)).toBe(person);
        }
      }),
      { numRuns: runs },
    );
  });

  it('names the loop: A ← B ← C, then A reporting to C', () => {
    const edges = [
      { id: 'A', managerId: null },
      { id: 'B', managerId: 'A' },
      { id: 'C', managerId: 'B' },
    ];
    expect(findManagerCycle(edges, 'A', 'C')).toEqual(['A', 'C', 'B', 'A']);
    expect(findManagerCycle(edges, 'C', 'A')).toBeNull();
    expect(findManagerCycle(edges, 'A', 'A')).toEqual(['A', 'A']);
    expect(findManagerCycle(edges, 'A', null)).toBeNull();
  });

  it('lists everyone above a person, nearest first, and survives corrupt loops', () => {
    const edges = [
      { id: 'ceo', managerId: null },
      { id: 'vp', managerId: 'ceo' },
      { id: 'rep', managerId: 'vp' },
      { id: 'x', managerId: 'y' },
      { id: 'y', managerId: 'x' },
    ];
    expect(managersAbove(edges, 'rep')).toEqual(['vp', 'ceo']);
    expect(managersAbove(edges, 'ceo')).toEqual([]);
    expect(managersAbove(edges, 'x')).toEqual(['y']);
  });
});
