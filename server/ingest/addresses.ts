/**
 * @module server/ingest/addresses
 * One normal form for email addresses, so participants, record matching and
 * the subject fallback of threading compare like with like. The form is
 * deliberately strict: an address that fails it is dropped from a parsed
 * message rather than stored half-valid, because every stored address ends
 * up as a `message_participants` row and as a CRM match key.
 */

/** Longest address SMTP can carry (RFC 5321 forward-path limit). */
const maxAddressLength = 254;

/**
 * Whitespace, C0/C1 controls and the specials that only ever appear in a
 * mailbox through quoting or a domain literal. Quoted local parts and
 * `[1.2.3.4]` domains are legal but never seen from real correspondents; by
 * refusing them an address can always be printed and compared unquoted.
 */
const forbiddenChars = /[\s\p{Cc}<>()[\]\\,;:"]/u;

/**
 * Normalizes one address: trims, drops one pair of surrounding angle
 * brackets, lowercases (local parts are case-sensitive in theory, never in
 * practice, and CRM matching needs one form). IDN domains stay as given,
 * lowercased; mailparser already decodes punycode to Unicode.
 * @returns the normalized address, or null when it is not a usable mailbox.
 */
export function normalizeAddress(input: string): string | null {
  let value = input.trim();
  if (value.startsWith('<') && value.endsWith('>')) {
    value = value.slice(1, -1).trim();
  }
  value = value.toLowerCase();
  if (value.length === 0 || value.length > maxAddressLength || forbiddenChars.test(value)) {
    return null;
  }
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@')) {
    return null;
  }
  return isDottedDomain(value.slice(at + 1)) ? value : null;
}

/**
 * The domain of an address (everything after the last `@`), lowercased.
 * Returns '' when there is no `@`.
 */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** At least two labels, none empty and none starting or ending with a hyphen. */
function isDottedDomain(domain: string): boolean {
  const labels = domain.split('.');
  if (labels.length < 2) {
    return false;
  }
  return labels.every((label) => label.length > 0 && label.length <= 63 && !label.startsWith('-') && !label.endsWith('-'));
}

/** A normalized mailbox with its display name (plain text, may be ''). */
export interface Address {
  address: string;
  name: string;
}

/** The shape mailparser (and nodemailer's addressparser) give one entry of an address header. */
export interface MailboxEntry {
  address?: string;
  name: string;
  group?: readonly MailboxEntry[];
}

/** No message has a real reason for more; a header packed with thousands is a DoS, not a mailing. */
const maxAddressesPerList = 1000;
const maxNameLength = 200;

/**
 * Flattens groups, normalizes every address, drops invalid ones and
 * duplicates (first wins), and cleans display names to one line of text.
 */
export function flattenMailboxes(entries: readonly MailboxEntry[]): Address[] {
  const out: Address[] = [];
  const seen = new Set<string>();
  const pending = [...entries].reverse();
  while (pending.length > 0 && out.length < maxAddressesPerList) {
    const entry = pending.pop();
    if (!entry) {
      break;
    }
    if (entry.group) {
      // Groups only hold mailboxes in practice; members go in place of the group name.
      pending.push(...[...entry.group].reverse());
      continue;
    }
    const address = normalizeAddress(entry.address ?? '');
    if (address !== null && !seen.has(address)) {
      seen.add(address);
      out.push({ address, name: cleanDisplayName(entry.name) });
    }
  }
  return out;
}

/**
 * Controls and line breaks out, whitespace collapsed, length capped. With
 * the `u` flag the surrogate class only matches unpaired halves (including
 * one left by the cut), which Postgres would refuse inside jsonb.
 */
function cleanDisplayName(name: string): string {
  return name
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim()
    .slice(0, maxNameLength)
    .replace(/[\ud800-\udfff]/gu, '');
}
