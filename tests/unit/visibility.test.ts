import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Visibility } from '../../sync/visibility';
import { oracleAudience } from '../helpers/visibility-oracle';
import { DOMAINS, orgArb, personId, toVisibilityMessage, toVisibilityOrg, type ModelOrg } from '../helpers/visibility-model';

/** Organizations per property; CI runs the full 10,000. */
const orgs = Number(process.env.VISIBILITY_ORGS ?? 300);

interface Pin {
  seed: number;
  path: string;
  why: string;
}

/**
 * Runs a property over `runs` random cases, then replays pinned failures.
 * fast-check prints the seed and path of a failure; pin it here with why.
 */
function assertWithPins<T>(arb: fc.Arbitrary<T>, predicate: (value: T) => void, runs: number, pins: readonly Pin[] = []): void {
  fc.assert(fc.property(arb, predicate), { numRuns: runs });
  for (const pin of pins) {
    fc.assert(fc.property(arb, predicate), { seed: pin.seed, path: pin.path, numRuns: 1 });
  }
}

/** A Public mailbox with excluded domains once widened on the way to Custom (exclusions applied to Public only). */
const PUBLIC_TO_CUSTOM_PINS: Pin[] = [{ seed: 1802602484, path: '68:326', why: 'excluded domains must hold in Custom too' }];

/** People (by index) who see the message, per the module. */
function moduleAudience(org: ModelOrg, index: number): Set<number> {
  const visibility = new Visibility(toVisibilityOrg(org));
  const message = toVisibilityMessage(org, org.messages[index] as ModelOrg['messages'][number]);
  return new Set(org.people.map((_, i) => i).filter((i) => visibility.canSee(personId(i), message)));
}

function allAudiences(org: ModelOrg): Set<number>[] {
  return org.messages.map((_, i) => moduleAudience(org, i));
}

const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);

function agreesWithOracle(org: ModelOrg): void {
  org.messages.forEach((message, i) => {
    expect(sorted(moduleAudience(org, i)), `message ${i}`).toEqual(sorted(oracleAudience(org, message)));
  });
}

/** Every message's audience after a change is a subset of the one before. */
function neverWidens(before: ModelOrg, after: ModelOrg): void {
  const was = allAudiences(before);
  allAudiences(after).forEach((now, i) => {
    for (const p of now) {
      expect(was[i]?.has(p), `message ${i} gained person ${p}`).toBe(true);
    }
  });
}

describe('visibility rules against the independent oracle', () => {
  it(`agree on ${orgs} random organizations`, () => {
    assertWithPins(orgArb(), agreesWithOracle, orgs);
  });
});

const TIGHTER = { public: 'custom', custom: 'private', private: 'private' } as const;

describe('tightening never adds visibility (metamorphic)', () => {
  const withPerson = orgArb().chain((org) => fc.record({ org: fc.constant(org), person: fc.nat(org.people.length - 1) }));
  const runs = Math.max(50, Math.floor(orgs / 2));

  it('Public → Custom → Private', () => {
    assertWithPins(
      withPerson,
      ({ org, person }) => {
        const people = org.people.map((p, i) => {
          const sharing = p.sharing ?? { mode: 'custom' as const, excluded: [], audience: null };
          return i === person ? { ...p, sharing: { ...sharing, mode: TIGHTER[sharing.mode] } } : p;
        });
        neverWidens(org, { ...org, people });
      },
      runs,
      PUBLIC_TO_CUSTOM_PINS,
    );
  });

  it('adding an excluded domain', () => {
    fc.assert(
      fc.property(withPerson, fc.constantFrom(...DOMAINS), ({ org, person }, domain) => {
        const people = org.people.map((p, i) =>
          i === person && p.sharing ? { ...p, sharing: { ...p.sharing, excluded: [...new Set([...p.sharing.excluded, domain])] } } : p,
        );
        neverWidens(org, { ...org, people });
      }),
      { numRuns: runs },
    );
  });

  it('unflagging a record', () => {
    fc.assert(
      fc.property(orgArb(), fc.nat(), (org, n) => {
        if (org.flags.length === 0) {
          return;
        }
        const k = n % org.flags.length;
        const flags = org.flags.map((f, i): [number, number, boolean] => (i === k ? [f[0], f[1], false] : f));
        neverWidens(org, { ...org, flags });
      }),
      { numRuns: runs },
    );
  });

  it('removing a manager edge', () => {
    fc.assert(
      fc.property(withPerson, ({ org, person }) => {
        const people = org.people.map((p, i) => (i === person ? { ...p, manager: null } : p));
        neverWidens(org, { ...org, people });
      }),
      { numRuns: runs },
    );
  });

  it('a Private mailbox is seen by its owner only, unless the mail was sent from Shoal', () => {
    fc.assert(
      fc.property(withPerson, ({ org, person }) => {
        const people = org.people.map((p, i) => (i === person ? { ...p, sharing: { mode: 'private' as const, excluded: [], audience: null } } : p));
        const privateOrg = { ...org, people };
        allAudiences(privateOrg).forEach((audience, i) => {
          const message = privateOrg.messages[i];
          if (message?.owner === person && !message.sentFromShoal) {
            expect(sorted(audience)).toEqual([person]);
          }
        });
      }),
      { numRuns: runs },
    );
  });
});
