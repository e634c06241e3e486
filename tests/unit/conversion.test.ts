import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guessPerson, isFreeMailDomain, nameFromLocalPart, organizationLabel } from '../../sync/conversion-guess';
import { compactCriteria, criteriaResults, hasCriteria, matchesCriteria, routeForCountry, type RuleMessage } from '../../sync/conversion-rules';

const runs = Number(process.env.PROPERTY_RUNS ?? 200);

describe('guessing a person from an address', () => {
  it('prefers the display name, flips "Last, First" and ignores an address used as a name', () => {
    expect(guessPerson('ana@acme.com', 'Ana Lopez').name).toBe('Ana Lopez');
    expect(guessPerson('ana@acme.com', '"Lopez, Ana"').name).toBe('Ana Lopez');
    expect(guessPerson('ana@acme.com', 'Acme Sales, EMEA').name).toBe('Acme Sales, EMEA');
    expect(guessPerson('ana@acme.com', 'Smith, John Paul').name).toBe('John Paul Smith');
    expect(guessPerson('ana.lopez@acme.com', 'ana.lopez@acme.com').name).toBe('Ana Lopez');
    expect(guessPerson('ana.lopez@acme.com', '   ').name).toBe('Ana Lopez');
  });

  it('makes the local part readable', () => {
    expect(nameFromLocalPart('john.smith')).toBe('John Smith');
    expect(nameFromLocalPart('mary-jane_watson+crm')).toBe('Mary Jane Watson');
    expect(nameFromLocalPart('...')).toBe('...');
  });

  it('takes the company from business domains only', () => {
    expect(guessPerson('a@vertex-labs.de').company).toBe('Vertex Labs');
    expect(guessPerson('a@mail.northwind.co.uk').company).toBe('Northwind');
    expect(guessPerson('a@acme.com.au').company).toBe('Acme');
    expect(guessPerson('a@gmail.com').company).toBe('');
    expect(guessPerson('a@yahoo.co.uk').company).toBe('');
    expect(guessPerson('a@hotmail.fr').company).toBe('');
    expect(guessPerson('a@icloud.com').company).toBe('');
    expect(isFreeMailDomain('outlook.com')).toBe(true);
    expect(isFreeMailDomain('acme.com')).toBe(false);
    expect(organizationLabel('co.uk')).toBe('co');
  });

  it('takes the country from the ccTLD, also for free-mail domains', () => {
    expect(guessPerson('a@acme.fr').country).toBe('FR');
    expect(guessPerson('a@web.de').country).toBe('DE');
    expect(guessPerson('a@acme.com').country).toBeNull();
  });

  it('always gives a name within the record limits', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.option(fc.string({ maxLength: 400 })), (address, display) => {
        const guess = guessPerson(address.toLowerCase(), display);
        expect(guess.name.length).toBeGreaterThan(0);
        expect(guess.name.length).toBeLessThanOrEqual(200);
        expect(guess.company.length).toBeLessThanOrEqual(200);
        expect(guess.country === null || /^[A-Z]{2}$/.test(guess.country)).toBe(true);
      }),
      { numRuns: runs },
    );
  });
});

describe('rule criteria', () => {
  const message: RuleMessage = {
    accountId: 'acc-1',
    from: 'buyer@eu.acme.com',
    subject: 'Pricing for 2027',
    text: 'Could we REQUEST A DEMO next week?',
    recipients: ['sales@us.test', 'cc@us.test'],
  };

  it('matches each criterion on its own', () => {
    expect(criteriaResults({ senderDomains: ['acme.com'] }, message).senderDomains).toBe(true);
    expect(criteriaResults({ senderDomains: ['eu.acme.com'] }, message).senderDomains).toBe(true);
    expect(criteriaResults({ senderDomains: ['me.com'] }, message).senderDomains).toBe(false);
    expect(criteriaResults({ senderDomains: ['cme.com'] }, message).senderDomains).toBe(false);
    expect(criteriaResults({ subjectContains: ['PRICING'] }, message).subjectContains).toBe(true);
    expect(criteriaResults({ bodyContains: ['request a demo'] }, message).bodyContains).toBe(true);
    expect(criteriaResults({ bodyContains: ['invoice'] }, { ...message, text: null }).bodyContains).toBe(false);
    expect(criteriaResults({ recipientAddresses: ['cc@us.test'] }, message).recipientAddresses).toBe(true);
    expect(criteriaResults({ accountIds: ['acc-2'] }, message).accountIds).toBe(false);
  });

  it('needs every given criterion, any value within one, and at least one criterion', () => {
    expect(matchesCriteria({ senderDomains: ['x.test', 'acme.com'], subjectContains: ['quote', 'pricing'] }, message)).toBe(true);
    expect(matchesCriteria({ senderDomains: ['acme.com'], subjectContains: ['quote'] }, message)).toBe(false);
    expect(matchesCriteria({}, message)).toBe(false);
    expect(matchesCriteria({ senderDomains: [] }, message)).toBe(false);
    expect(hasCriteria({ bodyContains: [], accountIds: ['a'] })).toBe(true);
  });

  it('compacts empty and repeated values away', () => {
    expect(compactCriteria({ senderDomains: ['a.com', 'a.com'], bodyContains: [] })).toEqual({ senderDomains: ['a.com'] });
  });

  it('routes a country to its target', () => {
    const routes = [{ country: 'DE', target: { kind: 'person', userId: 'u1' } as const }];
    expect(routeForCountry(routes, 'DE')).toEqual({ kind: 'person', userId: 'u1' });
    expect(routeForCountry(routes, 'FR')).toBeNull();
    expect(routeForCountry(routes, null)).toBeNull();
  });
});
