/**
 * A rule in words, for the list: what it matches and who gets the records.
 */
import { roleLabel } from '$lib/utils/format';
import type { ConversionCriteria, CountryTarget, OwnerStrategy } from '$sync/conversion-rules';

export interface Names {
  people: ReadonlyMap<string, string>;
  groups: ReadonlyMap<string, string>;
  mailboxes: ReadonlyMap<string, string>;
}

const quoted = (values: readonly string[]) => values.map((v) => `“${v}”`).join(' or ');
const plainList = (values: readonly string[]) => values.join(' or ');
const nameOf = (map: ReadonlyMap<string, string>, id: string, what: string) => map.get(id) ?? `a removed ${what}`;

/** One phrase per criterion, e.g. "sender domain is acme.com or beta.io". */
export function describeCriteria(c: ConversionCriteria, names: Names): string[] {
  const phrases: string[] = [];
  if (c.senderDomains?.length) {
    phrases.push(`sender’s domain is ${plainList(c.senderDomains)} (or a subdomain)`);
  }
  if (c.subjectContains?.length) {
    phrases.push(`subject contains ${quoted(c.subjectContains)}`);
  }
  if (c.bodyContains?.length) {
    phrases.push(`body contains ${quoted(c.bodyContains)}`);
  }
  if (c.recipientAddresses?.length) {
    phrases.push(`sent to ${plainList(c.recipientAddresses)}`);
  }
  if (c.accountIds?.length) {
    phrases.push(`arrives in ${plainList(c.accountIds.map((id) => nameOf(names.mailboxes, id, 'mailbox')))}`);
  }
  return phrases;
}

function describeTarget(t: CountryTarget, names: Names): string {
  return t.kind === 'person' ? nameOf(names.people, t.userId, 'person') : `${roleLabel(t.role)}s in turn`;
}

/** Who owns what the rule creates, e.g. "Round-robin among the EMEA group". */
export function describeOwner(s: OwnerStrategy, names: Names): string {
  if (s.kind === 'person') {
    return nameOf(names.people, s.userId, 'person');
  }
  if (s.kind === 'round_robin') {
    return s.pool.kind === 'role'
      ? `Round-robin among active ${roleLabel(s.pool.role)}s`
      : `Round-robin among the ${nameOf(names.groups, s.pool.groupId, 'group')} group`;
  }
  const routes = s.routes.map((r) => `${r.country} → ${describeTarget(r.target, names)}`);
  const fallback = `otherwise ${nameOf(names.people, s.fallbackUserId, 'person')}`;
  return `By country: ${[...routes, fallback].join('; ')}`;
}
