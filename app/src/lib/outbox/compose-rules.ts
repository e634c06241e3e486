/**
 * @module app/lib/outbox/compose-rules
 * The rules of starting a message, without a browser: which message a reply
 * answers, who it goes to (the server's rule, mirrored so the person sees
 * and can change the recipients before sending), which From address it
 * starts with, where the signature goes, what must be right before Send,
 * and the request a draft becomes.
 */
import type { MailAccountDto, SendMailInput, SendMode } from '$sync/api';
import type { AddressDto, MessageDto } from '$sync/mail-api';
import { isEmailAddress } from './addresses';
import { threadDraftKey } from './draft-key';
import type { Draft, Recipient, RecipientField } from './types';

/** One address a person may send as: an account's From address. */
export interface FromOption {
  accountId: string;
  address: string;
  name: string;
  isDefault: boolean;
  /** The mailbox it belongs to, for the picker. */
  accountEmail: string;
}

/** The line that starts a signature (RFC 3676 §4.3): dash, dash, space. */
export const SIGNATURE_SEPARATOR = '-- ';
export const MAX_SUBJECT = 998;
export const MAX_TEXT = 1_000_000;

/** Every From address of the person's accounts; each account's own address is always one. */
export function fromOptions(accounts: readonly Pick<MailAccountDto, 'id' | 'email' | 'fromAddresses'>[]): FromOption[] {
  return accounts.flatMap((account) => {
    const listed = account.fromAddresses.map((a) => ({
      accountId: account.id,
      address: a.address,
      name: a.name ?? '',
      isDefault: a.isDefault,
      accountEmail: account.email,
    }));
    const hasOwn = listed.some((a) => a.address === account.email);
    return hasOwn ? listed : [{ accountId: account.id, address: account.email, name: '', isDefault: listed.length === 0, accountEmail: account.email }, ...listed];
  });
}

/** The message a reply or forward answers: the newest one in the person's own mailboxes. */
export function replyTarget(messages: readonly MessageDto[], viewerId: string): MessageDto | null {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i] as MessageDto;
    if (message.mailboxOwner.id === viewerId) {
      return message;
    }
  }
  return null;
}

function firstDefault(options: readonly FromOption[]): FromOption | null {
  return options.find((o) => o.isDefault) ?? options[0] ?? null;
}

/**
 * The From a reply starts with: the address of the receiving account the
 * message was sent to (an alias like sales@ answers as sales@), else that
 * account's default; a new message starts with the first default address.
 */
export function defaultFrom(options: readonly FromOption[], message: MessageDto | null): FromOption | null {
  if (message === null) {
    return firstDefault(options);
  }
  const ofAccount = options.filter((o) => o.accountId === message.accountId);
  // To before Cc, then the sender (a message the account sent answers from the same address).
  const named = [...message.to, ...message.cc, ...(message.from ? [message.from] : [])].map((a) => a.address.toLowerCase());
  for (const address of named) {
    const option = ofAccount.find((o) => o.address === address);
    if (option) {
      return option;
    }
  }
  return firstDefault(ofAccount);
}

const toRecipient = (a: AddressDto): Recipient => ({ address: a.address.toLowerCase(), name: a.name ?? '' });

function without(list: readonly AddressDto[], drop: ReadonlySet<string>): Recipient[] {
  const seen = new Set(drop);
  const out: Recipient[] = [];
  for (const a of list.map(toRecipient)) {
    if (!seen.has(a.address)) {
      seen.add(a.address);
      out.push(a);
    }
  }
  return out;
}

/**
 * Who a reply goes to, as `server/outbound/compose.ts` decides it: to a
 * message the account sent, its recipients again; otherwise Reply-To, else
 * From. Reply-all adds the other To and Cc. The account's own addresses never.
 */
export function replyRecipients(message: MessageDto, all: boolean, own: readonly string[]): { to: Recipient[]; cc: Recipient[] } {
  const ownSet = new Set(own.map((a) => a.toLowerCase()));
  const fromUs = message.from !== null && ownSet.has(message.from.address.toLowerCase());
  const primary = fromUs ? message.to : message.replyTo.length > 0 ? message.replyTo : message.from ? [message.from] : [];
  const to = without(primary, ownSet);
  if (!all) {
    return { to, cc: [] };
  }
  const others = fromUs ? message.cc : [...message.to, ...message.cc];
  return { to, cc: without(others, new Set([...ownSet, ...to.map((a) => a.address)])) };
}

/** The body a new draft starts with: room to write, then the signature under its separator. */
export function initialText(signature: string): string {
  const trimmed = signature.trim();
  return trimmed === '' ? '' : `\n\n${SIGNATURE_SEPARATOR}\n${trimmed}`;
}

const forwardMarker = /^\s*fwd?\s*(?:\[\d{1,4}\])?\s*:/iu;
const replyMarker = /^\s*re\s*(?:\[\d{1,4}\])?\s*:/iu;

/** The subject as the server will send it (`Re:`/`Fwd:` added once), for the form's heading. */
export function displaySubject(mode: SendMode, subject: string): string {
  const trimmed = subject.trim();
  if (mode === 'forward') {
    return forwardMarker.test(trimmed) ? trimmed : `Fwd: ${trimmed}`;
  }
  if (mode === 'reply' || mode === 'replyAll') {
    return replyMarker.test(trimmed) ? trimmed : `Re: ${trimmed}`;
  }
  return trimmed;
}

export interface StartOptions {
  options: readonly FromOption[];
  signature: string;
  now: number;
}

/** A fresh draft answering (or forwarding) `message` of `threadId`. */
export function startReply(mode: Exclude<SendMode, 'new'>, threadId: string, message: MessageDto, start: StartOptions): Draft {
  const from = defaultFrom(start.options, message);
  const own = start.options.filter((o) => o.accountId === message.accountId).map((o) => o.address);
  const recipients = mode === 'forward' ? { to: [], cc: [] } : replyRecipients(message, mode === 'replyAll', own);
  return {
    key: threadDraftKey(threadId, mode),
    mode,
    threadId,
    replyToMessageId: message.id,
    accountId: from?.accountId ?? message.accountId,
    from: from?.address ?? '',
    ...recipients,
    bcc: [],
    // A forward's subject is editable, so it shows what will be sent; a reply's is the thread's.
    subject: mode === 'forward' ? displaySubject('forward', message.subject) : message.subject,
    text: initialText(start.signature),
    updatedAt: start.now,
  };
}

/** A fresh new message under `key`. */
export function startNew(key: string, start: StartOptions): Draft {
  const from = defaultFrom(start.options, null);
  return {
    key,
    mode: 'new',
    threadId: null,
    replyToMessageId: null,
    accountId: from?.accountId ?? '',
    from: from?.address ?? '',
    to: [],
    cc: [],
    bcc: [],
    subject: '',
    text: initialText(start.signature),
    updatedAt: start.now,
  };
}

export interface DraftProblem {
  field: 'from' | RecipientField | 'subject' | 'text';
  message: string;
}

const FIELD_WORDS: Record<RecipientField, string> = { to: 'To', cc: 'Cc', bcc: 'Bcc' };

/**
 * What stops a draft from being sent, each naming its field.
 * @param pending text typed into a recipient field but not yet made a chip.
 */
export function draftProblems(draft: Draft, options: readonly FromOption[], pending: Partial<Record<RecipientField, string>> = {}): DraftProblem[] {
  const problems: DraftProblem[] = [];
  if (!options.some((o) => o.accountId === draft.accountId && o.address === draft.from)) {
    problems.push({ field: 'from', message: 'From: choose one of your addresses.' });
  }
  for (const field of ['to', 'cc', 'bcc'] as const) {
    const bad = draft[field].filter((r) => !isEmailAddress(r.address)).map((r) => r.address);
    const typed = (pending[field] ?? '').trim();
    if (bad.length > 0) {
      problems.push({ field, message: `${FIELD_WORDS[field]}: ${bad.join(', ')} is not an email address.` });
    } else if (typed !== '') {
      problems.push({ field, message: `${FIELD_WORDS[field]}: “${typed}” is not an email address like name@example.com.` });
    }
  }
  if (draft.to.length + draft.cc.length + draft.bcc.length === 0) {
    problems.push({ field: 'to', message: 'To: add at least one recipient.' });
  }
  if (draft.subject.length > MAX_SUBJECT) {
    problems.push({ field: 'subject', message: `Subject: at most ${MAX_SUBJECT} characters.` });
  }
  if (draft.text.length > MAX_TEXT) {
    problems.push({ field: 'text', message: 'Message: too long to send.' });
  }
  return problems;
}

const wire = (list: readonly Recipient[]) => list.map((r) => (r.name ? { address: r.address, name: r.name } : r.address));

/** The `POST /api/mail/send` body of a draft, under the outbox entry's id. */
export function sendInput(id: string, draft: Draft): SendMailInput {
  const input: SendMailInput = {
    id,
    accountId: draft.accountId,
    from: draft.from,
    to: wire(draft.to),
    cc: wire(draft.cc),
    bcc: wire(draft.bcc),
    text: draft.text,
    mode: draft.mode,
    replyToMessageId: draft.replyToMessageId,
  };
  // A reply keeps the thread's subject (the server adds "Re:" once).
  if (draft.mode === 'new' || draft.mode === 'forward') {
    input.subject = draft.subject;
  }
  return input;
}
