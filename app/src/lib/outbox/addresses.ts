/**
 * @module app/lib/outbox/addresses
 * Turning what a person types into a recipient field into addresses, and
 * saying which pieces are not addresses. The check is the server's own
 * (zod's email pattern), so a chip the app accepts is never refused later.
 */
import type { Recipient } from './types';

/** zod's default `z.email()` pattern, which `POST /api/mail/send` applies. */
const EMAIL = /^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/u;
const MAX_ADDRESS = 254;
const MAX_NAME = 200;

export function isEmailAddress(value: string): boolean {
  return value.length <= MAX_ADDRESS && EMAIL.test(value);
}

export interface ParsedRecipients {
  recipients: Recipient[];
  /** The pieces that are not addresses, as typed. */
  invalid: string[];
}

/** Splits on commas, semicolons and line breaks outside quotes and angle brackets. */
function pieces(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let angled = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
    } else if (ch === '<' && !quoted) {
      angled = true;
    } else if (ch === '>' && !quoted) {
      angled = false;
    }
    if (!quoted && !angled && (ch === ',' || ch === ';' || ch === '\n')) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out.map((p) => p.trim()).filter((p) => p !== '');
}

/** `Name <a@b.c>`, `"Last, First" <a@b.c>`, `<a@b.c>` or `a@b.c`; null when it is none of those. */
export function parseRecipient(piece: string): Recipient | null {
  const angled = /^(.*?)<([^<>]+)>$/su.exec(piece.trim());
  const address = (angled ? (angled[2] ?? '') : piece).trim().toLowerCase();
  const name = angled ? (angled[1] ?? '').trim().replace(/^"(.*)"$/su, '$1').trim() : '';
  if (!isEmailAddress(address) || name.length > MAX_NAME) {
    return null;
  }
  return { address, name };
}

/** Every address in the text, deduplicated, and the pieces that are not addresses. */
export function parseRecipients(text: string): ParsedRecipients {
  const recipients: Recipient[] = [];
  const invalid: string[] = [];
  for (const piece of pieces(text)) {
    const recipient = parseRecipient(piece);
    if (recipient === null) {
      invalid.push(piece);
    } else if (!recipients.some((r) => r.address === recipient.address)) {
      recipients.push(recipient);
    }
  }
  return { recipients, invalid };
}

/** How a chip reads: the name when there is one, else the address. */
export function recipientLabel(recipient: Recipient): string {
  return recipient.name || recipient.address;
}

/** `Name <address>` or the bare address, for summaries and titles. */
export function formatRecipient(recipient: Recipient): string {
  return recipient.name ? `${recipient.name} <${recipient.address}>` : recipient.address;
}

/** Adds recipients to a list, skipping addresses it already has. */
export function addRecipients(list: readonly Recipient[], more: readonly Recipient[]): Recipient[] {
  const out = [...list];
  for (const r of more) {
    if (!out.some((x) => x.address === r.address)) {
      out.push(r);
    }
  }
  return out;
}
