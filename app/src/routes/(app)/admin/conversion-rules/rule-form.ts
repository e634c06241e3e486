/**
 * The rule editor's form state: a flat draft the inputs bind to, its
 * conversion to and from the API shape, and the mapping of the server's
 * dotted error fields (`criteria.senderDomains.1`) onto the inputs.
 */
import { ApiError } from '$lib/api';
import { ROLES, type Role } from '$sync/api';
import type { ConversionRuleDto, ConversionRuleInput } from '$sync/conversion-api';
import type { ConversionRecordType, CountryTarget, OwnerPool, OwnerStrategy, OwnerStrategyKind } from '$sync/conversion-rules';

export const LIST_CRITERIA = ['senderDomains', 'subjectContains', 'bodyContains', 'recipientAddresses'] as const;
export type ListCriterion = (typeof LIST_CRITERIA)[number];

export interface RouteDraft {
  /** Stable key for the keyed list while rows are added and removed. */
  key: number;
  country: string;
  /** `person:<id>` or `role:<role>`. */
  target: string;
}

export interface RuleDraft {
  name: string;
  enabled: boolean;
  recordType: ConversionRecordType;
  /** Comma- or line-separated, as typed. */
  lists: Record<ListCriterion, string>;
  accountIds: string[];
  ownerKind: OwnerStrategyKind;
  userId: string;
  /** `role:<role>` or `group:<id>`. */
  pool: string;
  routes: RouteDraft[];
  fallbackUserId: string;
}

let routeKey = 0;
export const newRoute = (country = '', target = ''): RouteDraft => ({ key: ++routeKey, country, target });

/** The values of a comma- or line-separated field, in order, without blanks. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

export function emptyDraft(defaultUserId: string): RuleDraft {
  return {
    name: '',
    enabled: true,
    recordType: 'lead',
    lists: { senderDomains: '', subjectContains: '', bodyContains: '', recipientAddresses: '' },
    accountIds: [],
    ownerKind: 'person',
    userId: defaultUserId,
    pool: 'role:rep',
    routes: [newRoute()],
    fallbackUserId: defaultUserId,
  };
}

const poolValue = (pool: OwnerPool) => (pool.kind === 'role' ? `role:${pool.role}` : `group:${pool.groupId}`);
const targetValue = (t: CountryTarget) => (t.kind === 'role' ? `role:${t.role}` : `person:${t.userId}`);

export function draftOf(rule: ConversionRuleDto, defaultUserId: string): RuleDraft {
  const draft = emptyDraft(defaultUserId);
  const s = rule.ownerStrategy;
  return {
    ...draft,
    name: rule.name,
    enabled: rule.enabled,
    recordType: rule.recordType,
    lists: {
      senderDomains: (rule.criteria.senderDomains ?? []).join(', '),
      subjectContains: (rule.criteria.subjectContains ?? []).join(', '),
      bodyContains: (rule.criteria.bodyContains ?? []).join(', '),
      recipientAddresses: (rule.criteria.recipientAddresses ?? []).join(', '),
    },
    accountIds: rule.criteria.accountIds ?? [],
    ownerKind: s.kind,
    userId: s.kind === 'person' ? s.userId : draft.userId,
    pool: s.kind === 'round_robin' ? poolValue(s.pool) : draft.pool,
    routes: s.kind === 'country' ? s.routes.map((r) => newRoute(r.country, targetValue(r.target))) : draft.routes,
    fallbackUserId: s.kind === 'country' ? s.fallbackUserId : draft.fallbackUserId,
  };
}

function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

function splitRef(value: string): [string, string] {
  const at = value.indexOf(':');
  return at < 0 ? ['', value] : [value.slice(0, at), value.slice(at + 1)];
}

function toPool(value: string): OwnerPool {
  const [kind, ref] = splitRef(value);
  return kind === 'role' && isRole(ref) ? { kind: 'role', role: ref } : { kind: 'group', groupId: ref };
}

function toTarget(value: string): CountryTarget {
  const [kind, ref] = splitRef(value);
  return kind === 'role' && isRole(ref) ? { kind: 'role', role: ref } : { kind: 'person', userId: ref };
}

function toStrategy(d: RuleDraft): OwnerStrategy {
  if (d.ownerKind === 'person') {
    return { kind: 'person', userId: d.userId };
  }
  if (d.ownerKind === 'round_robin') {
    return { kind: 'round_robin', pool: toPool(d.pool) };
  }
  const routes = d.routes
    .filter((r) => r.country.trim() !== '' || r.target !== '')
    .map((r) => ({ country: r.country.trim().toUpperCase(), target: toTarget(r.target) }));
  return { kind: 'country', routes, fallbackUserId: d.fallbackUserId };
}

/** The API body for a draft; blank criteria are left out so the server can say "add at least one". */
export function inputOf(d: RuleDraft): ConversionRuleInput {
  const criteria: ConversionRuleInput['criteria'] = {};
  for (const key of LIST_CRITERIA) {
    const values = splitList(d.lists[key]);
    if (values.length > 0) {
      criteria[key] = values;
    }
  }
  if (d.accountIds.length > 0) {
    criteria.accountIds = d.accountIds;
  }
  return { name: d.name.trim(), enabled: d.enabled, recordType: d.recordType, criteria, ownerStrategy: toStrategy(d) };
}

/** The input a server field belongs to, e.g. `criteria.senderDomains.1` → `senderDomains`. */
export function inputKeyOf(field: string): string | null {
  const parts = field.split('.');
  const [head, second, third, fourth] = parts;
  if (head === 'name' || head === 'recordType') {
    return head;
  }
  if (head === 'criteria') {
    return second ?? 'criteria';
  }
  if (head !== 'ownerStrategy') {
    return null;
  }
  if (second === 'userId' || second === 'fallbackUserId') {
    return second;
  }
  if (second === 'pool') {
    return 'pool';
  }
  if (second === 'routes') {
    return third === undefined ? 'routes' : `routes.${third}.${fourth === 'country' ? 'country' : 'target'}`;
  }
  return 'ownerKind';
}

export interface RuleFormErrors {
  fields: Record<string, string>;
  form: string | null;
}

/** Places an API error next to its input; the message loses its dotted prefix and names the bad entry. */
export function ruleErrors(error: unknown, draft: RuleDraft, fallback: string): RuleFormErrors {
  if (!(error instanceof ApiError) || !error.field) {
    return { fields: {}, form: error instanceof Error && error.message ? error.message : fallback };
  }
  const key = inputKeyOf(error.field);
  if (!key) {
    return { fields: {}, form: error.message };
  }
  let message = error.message.replace(/^[\w.]+: /, '');
  const [, list, index] = error.field.split('.');
  if (list && (LIST_CRITERIA as readonly string[]).includes(list) && index !== undefined) {
    const value = splitList(draft.lists[list as ListCriterion])[Number(index)];
    message = value === undefined ? message : `“${value}” ${message}`;
  }
  const first = message.charAt(0).toUpperCase() + message.slice(1);
  return { fields: { [key]: first.endsWith('.') ? first : `${first}.` }, form: null };
}
