/**
 * @module sync/conversion-guess
 * What a new lead or contact can be given from an address alone: a readable
 * name, a company from a business domain, a country from a ccTLD. Shared so
 * the app can preview exactly what the server will create.
 */
import { countryFromDomain } from './country-tld';

/** Consumer mailbox providers: their domain says nothing about the person's company. */
export const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  '126.com', '163.com', 'aim.com', 'aol.com', 'att.net', 'btinternet.com', 'comcast.net', 'fastmail.com', 'fastmail.fm',
  'free.fr', 'gmail.com', 'gmx.at', 'gmx.ch', 'gmx.com', 'gmx.de', 'gmx.net', 'googlemail.com', 'hey.com', 'hotmail.com',
  'icloud.com', 'inbox.com', 'interia.pl', 'laposte.net', 'libero.it', 'live.com', 'mac.com', 'mail.com', 'mail.ru',
  'me.com', 'msn.com', 'naver.com', 'o2.pl', 'orange.fr', 'outlook.com', 'pm.me', 'proton.me', 'protonmail.ch',
  'protonmail.com', 'qq.com', 'rediffmail.com', 'rocketmail.com', 'sbcglobal.net', 'seznam.cz', 't-online.de',
  'tuta.io', 'tutanota.com', 'verizon.net', 'wanadoo.fr', 'web.de', 'wp.pl', 'yahoo.com', 'yandex.com', 'yandex.ru',
  'ymail.com', 'zoho.com', 'zohomail.com',
]);

/** Providers with a domain per country (yahoo.co.uk, hotmail.fr, outlook.de…): matched by their brand label. */
const FREE_MAIL_BRANDS: ReadonlySet<string> = new Set(['gmail', 'googlemail', 'hotmail', 'live', 'outlook', 'yahoo', 'gmx', 'yandex']);

/** Second-level labels under a ccTLD that are not the organization's name (acme.co.uk, acme.com.au). */
const SECOND_LEVEL = new Set(['ac', 'co', 'com', 'edu', 'gob', 'gov', 'ltd', 'ne', 'net', 'or', 'org', 'plc']);

function capitalize(word: string): string {
  return word.charAt(0).toLocaleUpperCase() + word.slice(1);
}

function readable(text: string): string {
  return text
    .split(/[._\-\s]+/)
    .filter((w) => w.length > 0)
    .map(capitalize)
    .join(' ');
}

/** The label that names the organization: `mail.acme.co.uk` → `acme`. */
export function organizationLabel(domain: string): string {
  const labels = domain.toLowerCase().split('.').filter((l) => l.length > 0);
  if (labels.length < 2) {
    return labels[0] ?? '';
  }
  labels.pop();
  const last = labels.at(-1) ?? '';
  const tldWasCountry = domain.split('.').pop()?.length === 2;
  if (tldWasCountry && labels.length >= 2 && SECOND_LEVEL.has(last)) {
    labels.pop();
  }
  return labels.at(-1) ?? '';
}

/** Whether a domain belongs to a consumer mail provider. */
export function isFreeMailDomain(domain: string): boolean {
  const d = domain.toLowerCase();
  return FREE_MAIL_DOMAINS.has(d) || FREE_MAIL_BRANDS.has(organizationLabel(d));
}

/** "Smith, John" → "John Smith"; quotes and an address used as a name are dropped. */
function cleanDisplayName(name: string | null | undefined): string {
  const trimmed = (name ?? '').replace(/^["'\s]+|["'\s]+$/g, '').replace(/\s+/g, ' ');
  if (trimmed.length === 0 || trimmed.includes('@')) {
    return '';
  }
  const parts = trimmed.split(',').map((p) => p.trim());
  if (parts.length === 2 && parts[0] && parts[1] && !/\s/.test(parts[0])) {
    return `${parts[1]} ${parts[0]}`;
  }
  return trimmed;
}

/** "john.smith+news" → "John Smith". */
export function nameFromLocalPart(localPart: string): string {
  const base = localPart.replace(/\+.*$/, '');
  return readable(base) || localPart;
}

export interface PersonGuess {
  name: string;
  company: string;
  country: string | null;
}

const MAX_NAME = 200;

/**
 * The name, company and country a new lead/contact for `address` starts with.
 * @param displayName the name the address came with in the message, if any.
 */
export function guessPerson(address: string, displayName?: string | null): PersonGuess {
  const at = address.lastIndexOf('@');
  const local = at > 0 ? address.slice(0, at) : address;
  const domain = at > 0 ? address.slice(at + 1).toLowerCase() : '';
  const name = (cleanDisplayName(displayName) || nameFromLocalPart(local) || address).slice(0, MAX_NAME);
  const company = domain && !isFreeMailDomain(domain) ? readable(organizationLabel(domain)).slice(0, MAX_NAME) : '';
  return { name, company, country: domain ? countryFromDomain(domain) : null };
}
