/**
 * @module tests/helpers/visibility-model
 * Random organizations for the visibility property tests: people in a
 * reporting tree, groups, records with shared addresses, sharing settings,
 * flags and messages, small enough that collisions (same domain, same
 * address on an account and a contact, a manager who owns the record) are
 * common. People have roles (which grant no visibility) and sometimes a
 * mailbox alias; messages are inbound or outbound, read or not, and name the
 * owner by their main address, their alias, both or neither (Bcc). Plus the
 * translation of one model into the module's input.
 */
import fc from 'fast-check';
import { linkMessage, type RecordType, type SharingMode } from '../../sync/sharing';
import type { Role } from '../../sync/api';
import type { SharingSetting, VisibilityMessage, VisibilityOrg } from '../../sync/visibility';

export interface ModelPerson {
  /** Index of the manager among earlier people, so the reporting line is a forest. */
  manager: number | null;
  groups: number[];
  sharing: { mode: SharingMode; excluded: string[]; audience: { people: number[]; groups: number[] } | null } | null;
  /** Rep when absent. No role grants visibility: an admin sees what the rules give them, no more. */
  role?: Role;
  /** Whether the person's mailbox also receives at `aliasAddress(person)`, which is then their own address too. */
  alias?: boolean;
  /** For named scenarios; `Person <index>` when stored otherwise. */
  name?: string;
}

export interface ModelRecord {
  type: RecordType;
  owner: number;
  addresses: string[];
  sharedPeople: number[];
  sharedGroups: number[];
  /** A contact's or deal's account (an account record's index). */
  account?: number | null;
  /** A deal's contacts (contact records' indexes). */
  contacts?: number[];
  /** For named scenarios; `Record <index>` when stored otherwise. */
  name?: string;
}

export interface ModelMessage {
  owner: number;
  sentFromShoal: boolean;
  /** The sender first: the owner's own address on outbound mail, an other party on inbound. */
  participants: string[];
  /** Outbound when absent. */
  inbound?: boolean;
  /** Unread when absent. */
  seen?: boolean;
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
/** A person's mailbox alias, on a subdomain of the company's, so an excluded corp.test also covers it. */
export const aliasAddress = (person: number) => `rep${person}@mail.corp.test`;

/** Every address of a person's mailbox: none of them is ever an other party of its mail. */
export function ownAddresses(org: Pick<ModelOrg, 'people'>, person: number): string[] {
  return org.people[person]?.alias ? [ownAddress(person), aliasAddress(person)] : [ownAddress(person)];
}

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
    role: pick(['admin', 'manager', 'rep', 'rep'] as const),
    alias: fc.boolean(),
  });
}

function addressArb(peopleCount: number): fc.Arbitrary<string> {
  // Some records carry a colleague's own address or alias, which must never link that colleague's mail.
  return fc.oneof(
    { weight: 6, arbitrary: pick(EXTERNAL_ADDRESSES) },
    { weight: 1, arbitrary: fc.nat(peopleCount - 1).map(ownAddress) },
    { weight: 1, arbitrary: fc.nat(peopleCount - 1).map(aliasAddress) },
  );
}

function recordArb(peopleCount: number, groupCount: number): fc.Arbitrary<ModelRecord> {
  return fc.record({
    type: pick(['lead', 'contact', 'account', 'deal'] as const),
    owner: fc.nat(peopleCount - 1),
    addresses: fc.uniqueArray(addressArb(peopleCount), { minLength: 1, maxLength: 3 }),
    sharedPeople: subset(peopleCount, 2),
    sharedGroups: subset(groupCount, 1),
    // Raw numbers; `linkRecords` makes them the n-th account (or contacts) once duplicates are gone.
    account: fc.option(fc.nat(11), { freq: 2 }),
    contacts: fc.uniqueArray(fc.nat(11), { maxLength: 2 }),
  });
}

/** Which of the owner's addresses a message names: Bcc'd mail names none. */
type OwnPart = 'main' | 'alias' | 'both' | 'none';

interface RawMessage {
  owner: number;
  shoal: boolean;
  inbound: boolean;
  seen: boolean;
  own: OwnPart;
  others: string[];
}

function messageArb(peopleCount: number): fc.Arbitrary<RawMessage> {
  return fc.record({
    owner: fc.nat(peopleCount - 1),
    shoal: fc.boolean(),
    inbound: fc.boolean(),
    seen: fc.boolean(),
    own: fc.constantFrom<OwnPart>('main', 'main', 'alias', 'both', 'none'),
    others: fc.uniqueArray(addressArb(peopleCount), { minLength: 1, maxLength: 4 }),
  });
}

/** A raw message as stored: the owner's addresses it names, the sender first; only outbound mail is sent from Shoal. */
function toMessage(people: ModelPerson[], raw: RawMessage): ModelMessage {
  const mine = ownAddresses({ people }, raw.owner);
  const others = raw.others.filter((a) => !mine.includes(a));
  const [sender, ...rest] = others;
  const inbound = raw.inbound && sender !== undefined;
  // Outbound mail is sent from one of the owner's addresses, so only inbound mail can name none.
  const byPart = { both: mine, alias: mine.slice(-1), main: mine.slice(0, 1), none: inbound ? [] : mine.slice(0, 1) } as const;
  const own = byPart[raw.own];
  const participants = inbound ? [sender, ...own, ...rest] : [...own, ...others];
  return { owner: raw.owner, sentFromShoal: raw.shoal && !inbound, participants, inbound, seen: raw.seen };
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

/** Turns the raw link numbers into links to the n-th account (and contacts), counted after deduplication. */
function linkRecords(records: ModelRecord[]): ModelRecord[] {
  const indexesOf = (type: RecordType) => records.flatMap((r, i) => (r.type === type ? [i] : []));
  const accounts = indexesOf('account');
  const contacts = indexesOf('contact');
  const nth = (of: number[], n: number) => of[n % of.length] as number;
  return records.map((r) => {
    const account = (r.type === 'contact' || r.type === 'deal') && accounts.length > 0 && r.account !== null && r.account !== undefined ? nth(accounts, r.account) : null;
    const linked = r.type === 'deal' && contacts.length > 0 ? [...new Set((r.contacts ?? []).map((n) => nth(contacts, n)))] : [];
    return { ...r, account, contacts: linked };
  });
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
        records: fc.array(recordArb(peopleCount, groupCount), { maxLength: 12 }).map((records) => linkRecords(dedupePersonAddresses(records))),
        flags: fc.array(fc.tuple(fc.nat(peopleCount - 1), fc.nat(11), fc.boolean()), { maxLength: 10 }),
        messages: fc.array(messageArb(peopleCount), { maxLength: 12 }),
      }),
    )
    .map((org) => ({
      ...org,
      flags: dedupeFlags(org.flags.filter(([, r]) => r < org.records.length)),
      messages: org.messages.map((m) => toMessage(org.people, m)),
    }));
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
  const links = linkMessage(message.participants, ownAddresses(org, message.owner), byAddress);
  return { ownerId: personId(message.owner), sentFromShoal: message.sentFromShoal, ...links };
}
