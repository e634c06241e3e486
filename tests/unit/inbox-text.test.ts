/**
 * The inbox's plain-text helpers: quoted text behind a toggle, links only
 * for http(s) addresses, list dates, names and sizes.
 */
import { describe, expect, it } from 'vitest';
import { fileSize, fullAddress, localDateTime, personName, shortDate } from '../../app/src/lib/components/inbox/mail-format';
import { linkParts, splitQuoted } from '../../app/src/lib/components/inbox/quoted-text';

describe('splitQuoted', () => {
  it('keeps a body without quotes as one text segment', () => {
    expect(splitQuoted('Hi Bob,\n\nThanks!\n')).toEqual([{ kind: 'text', text: 'Hi Bob,\n\nThanks!' }]);
  });

  it('puts everything from an "On … wrote:" line on into one trailing quote', () => {
    const body = 'Sounds good.\n\nOn Mon, 2 Mar 2026 at 10:00, Bob <bob@globex.example> wrote:\n> Shall we meet?\n>\n> Bob';
    expect(splitQuoted(body)).toEqual([
      { kind: 'text', text: 'Sounds good.' },
      { kind: 'quote', text: 'On Mon, 2 Mar 2026 at 10:00, Bob <bob@globex.example> wrote:\n> Shall we meet?\n>\n> Bob' },
    ]);
  });

  it('recognises an attribution wrapped over two lines', () => {
    const body = 'Yes.\nOn Mon, 2 Mar 2026 at 10:00, Bob Buyer <bob@globex.example>\nwrote:\n> Shall we?';
    expect(splitQuoted(body).map((s) => s.kind)).toEqual(['text', 'quote']);
    expect(splitQuoted(body)[1]?.text.startsWith('On Mon')).toBe(true);
  });

  it('treats an Outlook separator as the start of the quoted message', () => {
    const body = 'See below.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\n\nHello';
    expect(splitQuoted(body)).toEqual([
      { kind: 'text', text: 'See below.' },
      { kind: 'quote', text: '-----Original Message-----\nFrom: Bob\nSent: Monday\n\nHello' },
    ]);
  });

  it('interleaved replies alternate text and quote, blank lines inside a quote stay in it', () => {
    const body = '> first question\n>\n> still first\n\nMy answer\n> second question\nSecond answer';
    expect(splitQuoted(body)).toEqual([
      { kind: 'quote', text: '> first question\n>\n> still first' },
      { kind: 'text', text: 'My answer' },
      { kind: 'quote', text: '> second question' },
      { kind: 'text', text: 'Second answer' },
    ]);
  });

  it('an empty body has no segments, and "On" alone in a sentence is not an attribution', () => {
    expect(splitQuoted('')).toEqual([]);
    expect(splitQuoted('On Monday we ship.\nThanks')).toEqual([{ kind: 'text', text: 'On Monday we ship.\nThanks' }]);
  });
});

describe('linkParts', () => {
  it('links http(s) addresses and leaves sentence punctuation outside', () => {
    expect(linkParts('See https://globex.example/rfp. Or (http://a.test/x).')).toEqual([
      { text: 'See ' },
      { text: 'https://globex.example/rfp', href: 'https://globex.example/rfp' },
      { text: '. Or (' },
      { text: 'http://a.test/x', href: 'http://a.test/x' },
      { text: ').' },
    ]);
  });

  it('never links other schemes', () => {
    expect(linkParts('javascript:alert(1) data:text/html,x mailto:a@b.test')).toEqual([
      { text: 'javascript:alert(1) data:text/html,x mailto:a@b.test' },
    ]);
  });

  it('joins back to the original text', () => {
    const text = 'a https://x.test/?q=1&r=2, b http://y.test';
    expect(linkParts(text).map((p) => p.text).join('')).toBe(text);
  });
});

describe('mail-format', () => {
  const now = new Date(2026, 10, 23, 15, 0);

  it('shortDate: time today, Yesterday, weekday this week, day and month this year, else with the year', () => {
    expect(shortDate(new Date(2026, 10, 23, 9, 5).toISOString(), now, 'en-GB')).toMatch(/^0?9:05$/);
    expect(shortDate(new Date(2026, 10, 22, 23, 0).toISOString(), now, 'en-GB')).toBe('Yesterday');
    expect(shortDate(new Date(2026, 10, 19, 12, 0).toISOString(), now, 'en-GB')).toBe('Thu');
    expect(shortDate(new Date(2026, 2, 3, 12, 0).toISOString(), now, 'en-GB')).toBe('3 Mar');
    expect(shortDate(new Date(2025, 2, 3, 12, 0).toISOString(), now, 'en-GB')).toBe('3 Mar 2025');
    expect(shortDate('not a date', now)).toBe('not a date');
  });

  it('localDateTime writes what toLocaleString() writes, in each locale', () => {
    const iso = new Date(2026, 10, 23, 9, 5, 7).toISOString();
    for (const locale of ['en-US', 'en-GB', 'de-DE']) {
      expect(localDateTime(iso, locale)).toBe(new Date(iso).toLocaleString(locale));
    }
    expect(localDateTime(iso)).toBe(new Date(iso).toLocaleString());
    expect(localDateTime('not a date')).toBe('not a date');
  });

  it('names people by display name, else address', () => {
    expect(personName({ address: 'bob@globex.example', name: 'Bob Buyer' })).toBe('Bob Buyer');
    expect(personName({ address: 'bob@globex.example', name: '  ' })).toBe('bob@globex.example');
    expect(personName(null)).toBe('(no sender)');
    expect(fullAddress({ address: 'bob@globex.example', name: 'Bob Buyer' })).toBe('Bob Buyer <bob@globex.example>');
    expect(fullAddress({ address: 'bob@globex.example', name: null })).toBe('bob@globex.example');
  });

  it('sizes files', () => {
    expect(fileSize(820)).toBe('820 B');
    expect(fileSize(14 * 1024)).toBe('14 KB');
    expect(fileSize(2.4 * 1024 * 1024)).toBe('2.4 MB');
    expect(fileSize(25 * 1024 * 1024)).toBe('25 MB');
  });
});
