/**
 * Composing without a browser: recipient parsing and validation (the
 * server's email rule), reply recipients (the server's rule mirrored), the
 * From a reply starts with, the signature's place, what blocks Send, and
 * the request a draft becomes.
 */
import { describe, expect, it } from 'vitest';
import type { MailAccountDto } from '../../sync/api';
import type { MessageDto } from '../../sync/mail-api';
import { addRecipients, formatRecipient, isEmailAddress, parseRecipient, parseRecipients } from '../../app/src/lib/outbox/addresses';
import {
  defaultFrom,
  displaySubject,
  draftProblems,
  fromOptions,
  initialText,
  replyRecipients,
  replyTarget,
  sendInput,
  startNew,
  startReply,
} from '../../app/src/lib/outbox/compose-rules';
import { isNewDraftKey, newDraftKey, threadDraftKey } from '../../app/src/lib/outbox/draft-key';

type Account = Pick<MailAccountDto, 'id' | 'email' | 'fromAddresses'>;

const ACCOUNTS: Account[] = [
  {
    id: 'acc-rita',
    email: 'rita@acme.test',
    fromAddresses: [
      { address: 'rita@acme.test', name: 'Rita Rep', isDefault: true },
      { address: 'sales@acme.test', name: 'Acme Sales', isDefault: false },
    ],
  },
  { id: 'acc-side', email: 'rita@side.test', fromAddresses: [] },
];
const OPTIONS = fromOptions(ACCOUNTS);

function message(overrides: Partial<MessageDto> = {}): MessageDto {
  return {
    id: 'm1',
    threadId: 't1',
    accountId: 'acc-rita',
    mailboxOwner: { id: 'rita', name: 'Rita' },
    subject: 'Pricing',
    from: { address: 'Carol@Customer.test', name: 'Carol' },
    to: [{ address: 'sales@acme.test', name: 'Acme Sales' }],
    cc: [
      { address: 'dave@customer.test', name: null },
      { address: 'rita@acme.test', name: null },
    ],
    replyTo: [],
    date: '2026-11-23T09:00:00Z',
    snippet: '',
    text: 'Hi',
    html: null,
    attachments: [],
    seen: true,
    direction: 'inbound',
    sentFromShoal: false,
    records: [],
    ...overrides,
  };
}

describe('recipient fields', () => {
  it('accepts what the server accepts and nothing else', () => {
    for (const ok of ['a@b.co', 'first.last+tag@sub.example.com', "o'neil@x.io", 'x_y-z@a-b.example']) {
      expect(isEmailAddress(ok), ok).toBe(true);
    }
    for (const bad of ['', 'plain', 'a@b', 'a@b.c', '.a@b.com', 'a..b@c.com', 'a@-b.com', 'a b@c.com', 'ä@b.com', `${'a'.repeat(250)}@b.com`]) {
      expect(isEmailAddress(bad), bad).toBe(false);
    }
  });

  it('splits pasted lists on commas, semicolons and lines, but not inside quotes or brackets', () => {
    const parsed = parseRecipients('"Last, First" <First@X.com>; bob@y.io\ncarol@z.org, <dan@w.net>, first@x.com, nope, @x.com');
    expect(parsed.recipients).toEqual([
      { address: 'first@x.com', name: 'Last, First' },
      { address: 'bob@y.io', name: '' },
      { address: 'carol@z.org', name: '' },
      { address: 'dan@w.net', name: '' },
    ]);
    expect(parsed.invalid).toEqual(['nope', '@x.com']);
    expect(parseRecipient('Carol <not-an-address>')).toBeNull();
    expect(formatRecipient({ address: 'a@b.co', name: 'A' })).toBe('A <a@b.co>');
    expect(addRecipients([{ address: 'a@b.co', name: '' }], [{ address: 'a@b.co', name: 'A' }, { address: 'c@d.co', name: '' }])).toHaveLength(2);
  });
});

describe('starting a reply', () => {
  it('lists every From address, with the account address first when the account lists none', () => {
    expect(OPTIONS.map((o) => `${o.accountId}:${o.address}:${o.isDefault}`)).toEqual([
      'acc-rita:rita@acme.test:true',
      'acc-rita:sales@acme.test:false',
      'acc-side:rita@side.test:true',
    ]);
  });

  it('answers the newest message in my own mailboxes', () => {
    const mine = message({ id: 'mine' });
    const theirs = message({ id: 'theirs', mailboxOwner: { id: 'tom', name: 'Tom' } });
    expect(replyTarget([mine, theirs], 'rita')?.id).toBe('mine');
    expect(replyTarget([theirs], 'rita')).toBeNull();
  });

  it('starts From the address the message was sent to, else the account default, else the first default', () => {
    expect(defaultFrom(OPTIONS, message())?.address).toBe('sales@acme.test');
    expect(defaultFrom(OPTIONS, message({ to: [{ address: 'other@acme.test', name: null }], cc: [] }))?.address).toBe('rita@acme.test');
    expect(defaultFrom(OPTIONS, message({ accountId: 'acc-side', to: [], cc: [] }))?.address).toBe('rita@side.test');
    expect(defaultFrom(OPTIONS, null)?.address).toBe('rita@acme.test');
    expect(defaultFrom([], null)).toBeNull();
  });

  it('replies to Reply-To, else From; reply-all adds the others; never my own addresses', () => {
    const own = ['rita@acme.test', 'sales@acme.test'];
    expect(replyRecipients(message(), false, own)).toEqual({ to: [{ address: 'carol@customer.test', name: 'Carol' }], cc: [] });
    expect(replyRecipients(message(), true, own)).toEqual({
      to: [{ address: 'carol@customer.test', name: 'Carol' }],
      cc: [{ address: 'dave@customer.test', name: '' }],
    });
    const withReplyTo = message({ replyTo: [{ address: 'desk@customer.test', name: 'Desk' }] });
    expect(replyRecipients(withReplyTo, false, own).to).toEqual([{ address: 'desk@customer.test', name: 'Desk' }]);
    // To my own sent message: its recipients again.
    const sent = message({ from: { address: 'rita@acme.test', name: 'Rita' }, to: [{ address: 'erin@p.test', name: null }], cc: [{ address: 'fay@p.test', name: null }] });
    expect(replyRecipients(sent, true, own)).toEqual({ to: [{ address: 'erin@p.test', name: '' }], cc: [{ address: 'fay@p.test', name: '' }] });
  });

  it('puts the signature under "-- " below room to write, and nothing without one', () => {
    expect(initialText('Rita\nAcme  \n')).toBe('\n\n-- \nRita\nAcme');
    expect(initialText('  ')).toBe('');
  });

  it('builds reply, reply-all and forward drafts the server will accept', () => {
    const start = { options: OPTIONS, signature: 'Rita', now: 5 };
    const reply = startReply('reply', 't1', message(), start);
    expect(reply).toMatchObject({ key: 'thread:t1:reply', mode: 'reply', replyToMessageId: 'm1', accountId: 'acc-rita', from: 'sales@acme.test', text: '\n\n-- \nRita' });
    expect(reply.to.map((r) => r.address)).toEqual(['carol@customer.test']);
    const all = startReply('replyAll', 't1', message(), start);
    expect(all.cc.map((r) => r.address)).toEqual(['dave@customer.test']);
    const forward = startReply('forward', 't1', message(), start);
    expect(forward).toMatchObject({ to: [], cc: [], subject: 'Fwd: Pricing' });
    expect(displaySubject('reply', 'Re: Pricing')).toBe('Re: Pricing');
    expect(displaySubject('forward', 'Fwd: Pricing')).toBe('Fwd: Pricing');
    expect(displaySubject('new', ' Hello ')).toBe('Hello');
  });
});

describe('before Send', () => {
  const start = { options: OPTIONS, signature: '', now: 1 };

  it('names the field of every problem', () => {
    const draft = startNew(newDraftKey('x'), start);
    expect(draftProblems(draft, OPTIONS)).toEqual([{ field: 'to', message: 'To: add at least one recipient.' }]);
    const typed = draftProblems({ ...draft, to: [{ address: 'a@b.co', name: '' }] }, OPTIONS, { cc: 'bob@' });
    expect(typed).toEqual([{ field: 'cc', message: 'Cc: “bob@” is not an email address like name@example.com.' }]);
    const wrongFrom = draftProblems({ ...draft, to: [{ address: 'a@b.co', name: '' }], from: 'sales@acme.test', accountId: 'acc-side' }, OPTIONS);
    expect(wrongFrom.map((p) => p.field)).toEqual(['from']);
    const long = draftProblems({ ...draft, bcc: [{ address: 'a@b.co', name: '' }], subject: 'x'.repeat(999) }, OPTIONS);
    expect(long.map((p) => p.field)).toEqual(['subject']);
  });

  it('becomes the send request: subject only for new mail and forwards, names kept', () => {
    const draft = { ...startNew(newDraftKey('x'), start), to: [{ address: 'a@b.co', name: 'A' }], bcc: [{ address: 'c@d.co', name: '' }], subject: 'Hi', text: 'Body' };
    expect(sendInput('id-1', draft)).toEqual({
      id: 'id-1',
      accountId: 'acc-rita',
      from: 'rita@acme.test',
      to: [{ address: 'a@b.co', name: 'A' }],
      cc: [],
      bcc: ['c@d.co'],
      subject: 'Hi',
      text: 'Body',
      mode: 'new',
      replyToMessageId: null,
    });
    const reply = startReply('reply', 't1', message(), start);
    expect(sendInput('id-2', reply)).not.toHaveProperty('subject');
    expect(sendInput('id-2', reply)).toMatchObject({ mode: 'reply', replyToMessageId: 'm1', to: [{ address: 'carol@customer.test', name: 'Carol' }] });
  });

  it('keys drafts per thread and mode, and per new message', () => {
    expect(threadDraftKey('t', 'forward')).toBe('thread:t:forward');
    expect(isNewDraftKey(newDraftKey('n'))).toBe(true);
    expect(isNewDraftKey(threadDraftKey('t', 'reply'))).toBe(false);
  });
});
