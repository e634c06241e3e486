/**
 * @module sync/country-tld
 * A domain's country from its country-code top-level domain, for new leads
  * and contacts when nothing better is known. A pure table: no lookups.
 */
import { COUNTRY_CODES as ISO_COUNTRIES } from './countries';

/** ISO 3166-1 alpha-2, officially assigned codes (the table records use). */
export const COUNTRY_CODES: ReadonlySet<string> = new Set(ISO_COUNTRIES);

/** ccTLDs that differ from the country's ISO code. */
const TLD_EXCEPTIONS: Readonly<Record<string, string>> = { uk: 'GB' };

/**
 * ccTLDs sold worldwide as generic names (example.io, example.ai, example.tv):
 * a company there is rarely in that country, so they give no country.
 */
const VANITY_TLDS: ReadonlySet<string> = new Set([
  'ai', 'am', 'cc', 'co', 'fm', 'gg', 'io', 'la', 'ly', 'me', 'nu', 'sh', 'so', 'tk', 'to', 'tv', 'vc', 'ws',
]);

/**
 * The country of a domain's ccTLD: `acme.co.uk` → GB, `acme.de` → DE.
 * @returns an ISO 3166-1 alpha-2 code, or null for generic (.com, .org, .eu)
 *   and vanity (.io, .ai, .tv) top-level domains.
 */
export function countryFromDomain(domain: string): string | null {
  const tld = domain.trim().toLowerCase().replace(/\.$/, '').split('.').pop() ?? '';
  if (tld.length !== 2 || VANITY_TLDS.has(tld)) {
    return null;
  }
  const code = TLD_EXCEPTIONS[tld] ?? tld.toUpperCase();
  return COUNTRY_CODES.has(code) ? code : null;
}

/** Whether `code` is an assigned ISO 3166-1 alpha-2 country code (upper case). */
export function isCountryCode(code: string): boolean {
  return COUNTRY_CODES.has(code);
}
