/**
 * @module sync/conversion-rules
 * Conversion rules as data, and the pure decision of whether a message meets
 * a rule's criteria. The server applies rules to arriving mail; the app edits
 * them with the same types.
 */
import type { Role } from './api';

export const CONVERSION_RECORD_TYPES = ['lead', 'contact'] as const;
export type ConversionRecordType = (typeof CONVERSION_RECORD_TYPES)[number];

/**
 * All given criteria must match; within one criterion any value may. A
 * missing or empty list is no criterion.
 */
export interface ConversionCriteria {
  /** The sender's domain is one of these or a subdomain of one (normalized, lower case). */
  senderDomains?: string[];
  /** The subject contains one of these, ignoring case. */
  subjectContains?: string[];
  /** The text body contains one of these, ignoring case. */
  bodyContains?: string[];
  /** The message was addressed (to, cc or bcc) to one of these addresses. */
  recipientAddresses?: string[];
  /** The message arrived in one of these mailboxes (mail account ids). */
  accountIds?: string[];
}

export const CRITERIA_KEYS = ['senderDomains', 'subjectContains', 'bodyContains', 'recipientAddresses', 'accountIds'] as const;
export type CriterionKey = (typeof CRITERIA_KEYS)[number];

/** Members of a role, or of a group, in a stable order. */
export type OwnerPool = { kind: 'role'; role: Role } | { kind: 'group'; groupId: string };

/** Who a country's records go to: one person, or round-robin among a role's active members. */
export type CountryTarget = { kind: 'person'; userId: string } | { kind: 'role'; role: Role };

export interface CountryRoute {
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  target: CountryTarget;
}

export type OwnerStrategy =
  | { kind: 'person'; userId: string }
  | { kind: 'round_robin'; pool: OwnerPool }
  | { kind: 'country'; routes: CountryRoute[]; fallbackUserId: string };

export const OWNER_STRATEGY_KINDS = ['person', 'round_robin', 'country'] as const;
export type OwnerStrategyKind = (typeof OWNER_STRATEGY_KINDS)[number];

/** What the criteria look at in a message. Addresses are normalized (lower case). */
export interface RuleMessage {
  accountId: string;
  from: string;
  subject: string;
  text: string | null;
  recipients: readonly string[];
}

/** Whether a criteria object has at least one non-empty criterion. */
export function hasCriteria(criteria: ConversionCriteria): boolean {
  return CRITERIA_KEYS.some((key) => (criteria[key]?.length ?? 0) > 0);
}

function domainMatches(domain: string, wanted: string): boolean {
  return domain === wanted || domain.endsWith(`.${wanted}`);
}

function containsAny(haystack: string | null, needles: readonly string[]): boolean {
  const text = (haystack ?? '').toLocaleLowerCase();
  return needles.some((n) => text.includes(n.toLocaleLowerCase()));
}

/** Each criterion on its own: true when it matches or is not set. */
export function criteriaResults(criteria: ConversionCriteria, message: RuleMessage): Record<CriterionKey, boolean> {
  const set = (key: CriterionKey) => (criteria[key]?.length ?? 0) > 0;
  const domain = message.from.slice(message.from.lastIndexOf('@') + 1).toLowerCase();
  const recipients = new Set(message.recipients.map((r) => r.toLowerCase()));
  return {
    senderDomains: !set('senderDomains') || (criteria.senderDomains ?? []).some((d) => domainMatches(domain, d)),
    subjectContains: !set('subjectContains') || containsAny(message.subject, criteria.subjectContains ?? []),
    bodyContains: !set('bodyContains') || containsAny(message.text, criteria.bodyContains ?? []),
    recipientAddresses: !set('recipientAddresses') || (criteria.recipientAddresses ?? []).some((a) => recipients.has(a)),
    accountIds: !set('accountIds') || (criteria.accountIds ?? []).includes(message.accountId),
  };
}

/** Whether a message meets every criterion of a rule. A rule without criteria matches nothing. */
export function matchesCriteria(criteria: ConversionCriteria, message: RuleMessage): boolean {
  if (!hasCriteria(criteria)) {
    return false;
  }
  return Object.values(criteriaResults(criteria, message)).every(Boolean);
}

/** Drops empty criteria, so stored rules only carry what they test. */
export function compactCriteria(criteria: ConversionCriteria): ConversionCriteria {
  const out: ConversionCriteria = {};
  for (const key of CRITERIA_KEYS) {
    const values = criteria[key];
    if (values && values.length > 0) {
      out[key] = [...new Set(values)];
    }
  }
  return out;
}

/** The route for a country, if the strategy has one. */
export function routeForCountry(routes: readonly CountryRoute[], country: string | null): CountryTarget | null {
  if (!country) {
    return null;
  }
  return routes.find((r) => r.country === country)?.target ?? null;
}
