/**
 * The bodies a reply and a forward send: the person's text first, then the
 * original quoted under an attribution, in text and as escaped HTML.
 */
import { describe, expect, it } from 'vitest';
import type { ParentMessageRow } from '../../db/queries/outbound';
import { forwardText, replyAttribution, replyHtml, replyText } from '../../server/outbound/compose';

function parent(over: Partial<ParentMessageRow> = {}): ParentMessageRow {
  return {
    id: 'm1',
    accountId: 'a1',
    threadId: 't1',
    headerMessageId: 'orig@customer.test',
    references: [],
    subject: 'Pricing',
    fromAddress: 'carol@customer.test',
    fromName: 'Carol Buyer',
    to: [{ address: 'alice@acme.test', name: 'Alice' }],
    cc: [],
    replyTo: [],
    sentAt: new Date('2026-11-23T09:00:00Z'),
    receivedAt: new Date('2026-11-23T09:00:05Z'),
    textBody: 'Could you send pricing?\r\n> earlier line\r\n\r\n',
    attachments: [],
    direction: 'inbound',
    ...over,
  };
}

describe('reply bodies', () => {
  it('puts the text and signature first, then the attribution and the original quoted once more', () => {
    const text = replyText('Attached.\n\n-- \nAlice\n\n', parent());
    expect(text).toBe(
      'Attached.\n\n-- \nAlice\n\nOn Mon, 23 Nov 2026 09:00:00 GMT, Carol Buyer <carol@customer.test> wrote:\n> Could you send pricing?\n>> earlier line\n',
    );
  });

  it('dates the attribution by when it arrived when the original has no Date, and names an unknown sender', () => {
    expect(replyAttribution(parent({ sentAt: null, fromAddress: null }))).toBe('On Mon, 23 Nov 2026 09:00:05 GMT, someone wrote:');
  });

  it('sends the text alone when the original has no text to quote', () => {
    expect(replyText('Thanks!', parent({ textBody: null }))).toBe('Thanks!');
    expect(replyText('Thanks!', parent({ textBody: ' \n ' }))).toBe('Thanks!');
    expect(replyHtml('<p>Thanks!</p>', parent({ textBody: null }))).toBe('<p>Thanks!</p>');
  });

  it('quotes the original in HTML as escaped text, never as markup', () => {
    const html = replyHtml('<p>Hi</p>', parent({ textBody: '<script>alert(1)</script>\nBye', fromName: 'Eve "<x>"' }));
    expect(html.startsWith('<p>Hi</p><br><br><div>On Mon, 23 Nov 2026 09:00:00 GMT, Eve &#34;&#60;x&#62;&#34; &#60;carol@customer.test&#62; wrote:</div>')).toBe(true);
    expect(html).toContain('<blockquote');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;<br>Bye</blockquote>');
    expect(html).not.toContain('<script>');
  });
});

describe('forward bodies', () => {
  it('keeps the header block and quotes every line of the original', () => {
    const text = forwardText('FYI', parent());
    expect(text).toContain('FYI\n\n---------- Forwarded message ---------\nFrom: Carol Buyer <carol@customer.test>');
    expect(text).toContain('Subject: Pricing\nTo: Alice <alice@acme.test>');
    expect(text.endsWith('> Could you send pricing?\n>> earlier line\n')).toBe(true);
  });
});
