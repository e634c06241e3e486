/**
 * @module tests/helpers/visibility-model
 * Random organizations for the visibility property tests: people in a
 * reporting tree, groups, records with shared addresses, sharing settings,
 * flags and messages, small enough that collisions (same domain, same
 * address on an account and a contact, a manager who owns the record) are
 * common. Plus the translation of one model into the module's input.
 */
import fc from 'fast-check';
import { linkMessage, type RecordType, type SharingMode } from '../../sync/sharing';
import type { SharingSetting, VisibilityMessage, VisibilityOrg } from '../../sync/visibility';

export interface ModelPerson {
  /** Index of the manager among earlier people, so the reporting line is a forest. */
  manager: number | null;
  groups: number[];
  sharing: { mode: SharingMode; excluded: string[]; audience: { people: number[]; groups: number[] } | null } | null;
}

export interface ModelRecord {
  type: RecordType;
  owner: number;
  addresses: string[];
  sharedPeople: number[];
  sharedGroups: number[];
}

export interface ModelMessage {
  owner: number;
  sentFromShoal: boolean;
  participants: string[];
}

export interface ModelOrg {
  recordAccess: 'public' | 'private';
  people: ModelPerson[];
  groupCount: number;
  records: ModelRecord[];
  /** [person, record, shared] */
  flags: [number, number, boolean][];
  messages: ModelMessage[];
}

export const DOMAINS = ['corp.test', 'acme.com', 'eu.acme.com', 'beta.io', 'gmail.com'] as const;
const LOCALS = ['ann', 'bob', 'cy'] as const;
export const EXTERNAL_ADDRESSES = DOMAINS.flatMap((d) => LOCALS.map((l) => `${l}@${d}`));

/** A person's own mailbox address: on the company domain, and sometimes a contact's address too. */
export const ownAddress = (person: number) => `rep${person}@corp.test`;

const pick = <T>(items: readonly T[]) => fc.constantFrom(...items);
const subset = (n: number, max = 3): fc.Arbitrary<number[]> => (n === 0 ? fc.constant<number[]>([]) : fc.uniqueArray(fc.nat(n - 1), { maxLength: Math.min(max, n) }));

function personArb(index: number, groupCount: number, peopleCount: number): fc.Arbitrary<ModelPerson> {
  const sharing = fc.option(
    fc.record({
      mode: pick(['private', 'custom', 'public'] as const),
      excluded: fc.uniqueArray(pick(DOMAINS), { maxLength: 3 }),
      audience: fc.option(fc.record({ people: subset(peopleCount), groups: subset(groupCount) }), { freq: 3 }),
    }),
    { freq: 6 },
  );
  return fc.record({
    manager: index === 0 ? fc.constant(null) : fc.option(fc.nat(index - 1), { freq: 4 }),
    groups: subset(groupCount, 2),
    sharing,
  });
}

function addressArb(peopleCount: number): fc.Arbitrary<string> {
  // Some records carry a colleague's own address, which must never link that colleague's mail.
  return fc.oneof({ weight: 6, arbitrary: pick(EXTERNAL_ADDRESSES) }, { weight: 1, arbitrary: fc.nat(peopleCount - 1).map(ownAddress) });
}

function recordArb(peopleCount: number, groupCount: number): fc.Arbitrary<ModelRecord> {
  return fc.record({
    type: pick(['lead', 'contact', 'account', 'deal'] as const),
    owner: fc.nat(peopleCount - 1),
    addresses: fc.uniqueArray(addressArb(peopleCount), { minLength: 1, maxLength: 3 }),
    sharedPeople: subset(peopleCount, 2),
    sharedGroups: subset(groupCount, 1),
  });
}

function messageArb(peopleCount: number): fc.Arbitrary<ModelMessage> {
  return fc.nat(peopleCount - 1).chain((owner) =>
    fc.record({
      owner: fc.constant(owner),
      sentFromShoal: fc.boolean(),
      participants: fc
        .uniqueArray(addressArb(peopleCount), { minLength: 1, maxLength: 4 })
        .map((others) => [ownAddress(owner), ...others.filter((a) => a !== ownAddress(owner))]),
    }),
  );
}

/** One lead or contact per address in an organization, as the database enforces. */
function dedupePersonAddresses(records: ModelRecord[]): ModelRecord[] {
  const taken = new Set<string>();
  return records
    .map((r) => {
      if (r.type !== 'lead' && r.type !== 'contact') {
        return r;
      }
      const free = r.addresses.filter((a) => !taken.has(a));
      free.forEach((a) => taken.add(a));
      return { ...r, addresses: free };
    })
    .filter((r) => r.addresses.length > 0);
}

/** A random organization of 1–`maxPeople` people. */
export function orgArb(maxPeople = 30): fc.Arbitrary<ModelOrg> {
  return fc
    .record({ peopleCount: fc.integer({ min: 1, max: maxPeople }), groupCount: fc.integer({ min: 0, max: 4 }) })
    .chain(({ peopleCount, groupCount }) =>
      fc.record({
        recordAccess: pick(['public', 'private'] as const),
        people: fc.tuple(...Array.from({ length: peopleCount }, (_, i) => personArb(i, groupCount, peopleCount))),
        groupCount: fc.constant(groupCount),
        records: fc.array(recordArb(peopleCount, groupCount), { maxLength: 12 }).map(dedupePersonAddresses),
        flags: fc.array(fc.tuple(fc.nat(peopleCount - 1), fc.nat(11), fc.boolean()), { maxLength: 10 }),
        messages: fc.array(messageArb(peopleCount), { maxLength: 12 }),
      }),
    )
    .map((org) => ({ ...org, flags: dedupeFlags(org.flags.filter(([, r]) => r < org.records.length)) }));
}

function dedupeFlags(flags: [number, number, boolean][]): [number, number, boolean][] {
  const byKey = new Map(flags.map((f) => [`${f[0]}|${f[1]}`, f]));
  return [...byKey.values()];
}

export const personId = (i: number) => `p${i}`;
export const groupId = (i: number) => `g${i}`;
export const recordId = (i: number) => `r${i}`;

/** The module's view of a model organization (ids are the model's indexes). */
export function toVisibilityOrg(org: ModelOrg): VisibilityOrg {
  const sharing = new Map<string, SharingSetting>();
  org.people.forEach((p, i) => {
    if (p.sharing) {
      const audience = p.sharing.audience;
      sharing.set(personId(i), {
        mode: p.sharing.mode,
        excludedDomains: p.sharing.excluded,
        audience: audience ? { userIds: audience.people.map(personId), groupIds: audience.groups.map(groupId) } : null,
      });
    }
  });
  return {
    recordAccess: org.recordAccess,
    people: org.people.map((p, i) => ({ id: personId(i), managerId: p.manager === null ? null : personId(p.manager), groupIds: p.groups.map(groupId) })),
    records: org.records.map((r, i) => ({
      id: recordId(i),
      ownerId: personId(r.owner),
      sharedWithUserIds: r.sharedPeople.map(personId),
      sharedWithGroupIds: r.sharedGroups.map(groupId),
    })),
    sharing,
    shareFlags: org.flags.filter(([, , on]) => on).map(([p, r]) => ({ ownerId: personId(p), recordId: recordId(r) })),
  };
}

/** The module's view of a model message. */
export function toVisibilityMessage(org: ModelOrg, message: ModelMessage): VisibilityMessage {
  const byAddress = new Map<string, string[]>();
  org.records.forEach((r, i) => r.addresses.forEach((a) => byAddress.set(a, [...(byAddress.get(a) ?? []), recordId(i)])));
  const links = linkMessage(message.participants, [ownAddress(message.owner)], byAddress);
  return { ownerId: personId(message.owner), sentFromShoal: message.sentFromShoal, ...links };
}
