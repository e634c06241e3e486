import { describe, expect, it } from 'vitest';
import { COUNTRY_CODES, countryFromDomain, isCountryCode } from '../../sync/country-tld';

describe('country from a domain', () => {
  it('reads the country-code TLD, including second-level registrations', () => {
    expect(countryFromDomain('acme.de')).toBe('DE');
    expect(countryFromDomain('acme.co.uk')).toBe('GB');
    expect(countryFromDomain('acme.gb')).toBe('GB');
    expect(countryFromDomain('mail.acme.com.au')).toBe('AU');
    expect(countryFromDomain('ACME.FR.')).toBe('FR');
    expect(countryFromDomain('acme.jp')).toBe('JP');
  });

  it('gives no country for generic, regional and vanity TLDs', () => {
    for (const domain of ['acme.com', 'acme.org', 'acme.net', 'acme.eu', 'acme.app', 'acme.io', 'acme.ai', 'acme.tv', 'acme.co']) {
      expect(countryFromDomain(domain), domain).toBeNull();
    }
  });

  it('gives none for something that is not an assigned code', () => {
    expect(countryFromDomain('acme.zz')).toBeNull();
    expect(countryFromDomain('acme.su')).toBeNull();
    expect(countryFromDomain('')).toBeNull();
    expect(countryFromDomain('localhost')).toBeNull();
  });

  it('knows the 249 assigned ISO 3166-1 codes', () => {
    expect(COUNTRY_CODES.size).toBe(249);
    expect(isCountryCode('DE')).toBe(true);
    expect(isCountryCode('UK')).toBe(false);
    expect(isCountryCode('de')).toBe(false);
  });
});
