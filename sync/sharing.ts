/**
 * @module sync/sharing
 * The vocabulary of email sharing and record access, shared by the server's
 * validation, the visibility rules and the app's settings screens.
 */

export const SHARING_MODES = ['private', 'custom', 'public'] as const;
export type SharingMode = (typeof SHARING_MODES)[number];

/** A person who never chose keeps the mail of records they flag to themselves until they do. */
export const DEFAULT_SHARING_MODE: SharingMode = 'custom';

export const RECORD_ACCESS = ['public', 'private'] as const;
export type RecordAccess = (typeof RECORD_ACCESS)[number];

export const RECORD_TYPES = ['lead', 'contact', 'account', 'deal'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export const DEAL_STAGES = ['open', 'won', 'lost'] as const;
export type DealStage = (typeof DEAL_STAGES)[number];

export const MAX_EXCLUDED_DOMAINS = 5;

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/**
 * Normalizes a domain as typed by a person ("@Acme.COM", "acme.com.").
 * @returns the bare lower-case domain, or null when it is not a domain.
 */
export function normalizeDomain(input: string): string | null {
  const domain = input.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, '');
  return DOMAIN.test(domain) ? domain : null;
}

/** The domain part of a normalized address. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/**
 * A message's links as the rules see them: its other parties (every
 * participant but the mailbox's own addresses), their domains, and the
 * records those addresses belong to.
 * @param recordsByAddress normalized address → record ids with that address.
 */
export function linkMessage(
  participants: readonly string[],
  ownAddresses: readonly string[],
  recordsByAddress: ReadonlyMap<string, readonly string[]>,
): { recordIds: string[]; otherPartyDomains: string[] } {
  const own = new Set(ownAddresses);
  const others = [...new Set(participants)].filter((a) => !own.has(a));
  const recordIds = new Set<string>();
  for (const address of others) {
    for (const id of recordsByAddress.get(address) ?? []) {
      recordIds.add(id);
    }
  }
  return { recordIds: [...recordIds], otherPartyDomains: [...new Set(others.map(domainOf))] };
}
