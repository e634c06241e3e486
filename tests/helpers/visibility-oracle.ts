/**
 * @module tests/helpers/visibility-oracle
 * An independent reference for who sees a message, written from the issue's
 * rules as set algebra over the raw model (indexes, addresses), sharing no
 * code with sync/visibility.ts:
 *
 *   audience = {owner}
 *            ∪ (sent from Shoal ? A : ∅)
 *            ∪ (mailbox not Private and no excluded other party ?
 *                 (A ∩ superiors(owner)) ∪ ((Custom ? F : A) ∩ chosen) : ∅)
 *
 * where A is everyone who can access some linked record, F everyone who can
 * access some linked record the owner flagged, chosen the owner's audience
 * (everyone when unrestricted).
 */
import { ownAddresses, type ModelOrg, type ModelMessage, type ModelRecord } from './visibility-model';

type People = Set<number>;

function everyone(org: ModelOrg): People {
  return new Set(org.people.map((_, i) => i));
}

function superiorsOf(org: ModelOrg, person: number): People {
  const out = new Set<number>();
  for (let m = org.people[person]?.manager ?? null; m !== null; m = org.people[m]?.manager ?? null) {
    out.add(m);
  }
  return out;
}

function membersOf(org: ModelOrg, groups: number[]): People {
  return new Set([...everyone(org)].filter((p) => org.people[p]?.groups.some((g) => groups.includes(g))));
}

/** Everyone (by index) who can access a record. */
export function accessors(org: ModelOrg, record: ModelRecord): People {
  if (org.recordAccess === 'public') {
    return everyone(org);
  }
  return new Set([record.owner, ...superiorsOf(org, record.owner), ...record.sharedPeople, ...membersOf(org, record.sharedGroups)]);
}

function union(sets: People[]): People {
  return new Set(sets.flatMap((s) => [...s]));
}

function intersect(a: People, b: People): People {
  return new Set([...a].filter((x) => b.has(x)));
}

function isExcluded(address: string, domains: string[]): boolean {
  const domain = address.split('@')[1] ?? '';
  return domains.some((d) => domain === d || domain.endsWith(`.${d}`));
}

/** Everyone (by index) who may see `message`. */
export function oracleAudience(org: ModelOrg, message: ModelMessage): People {
  // Roles and the message's direction play no part: the rules never mention them.
  const own = ownAddresses(org, message.owner);
  const others = message.participants.filter((a) => !own.includes(a));
  const linked = org.records.map((r, i) => ({ r, i })).filter(({ r }) => r.addresses.some((a) => others.includes(a)));
  const a = union(linked.map(({ r }) => accessors(org, r)));
  const out = new Set<number>([message.owner]);
  if (message.sentFromShoal) {
    a.forEach((p) => out.add(p));
  }
  const sharing = org.people[message.owner]?.sharing ?? { mode: 'custom' as const, excluded: [], audience: null };
  if (sharing.mode === 'private') {
    return out;
  }
  if (others.some((x) => isExcluded(x, sharing.excluded))) {
    return out;
  }
  intersect(a, superiorsOf(org, message.owner)).forEach((p) => out.add(p));
  const flagged = linked.filter(({ i }) => org.flags.some(([p, r, on]) => p === message.owner && r === i && on));
  const shared = sharing.mode === 'custom' ? union(flagged.map(({ r }) => accessors(org, r))) : a;
  const chosen = sharing.audience ? union([new Set(sharing.audience.people), membersOf(org, sharing.audience.groups)]) : everyone(org);
  intersect(shared, chosen).forEach((p) => out.add(p));
  return out;
}
