import { describe, expect, it } from 'vitest';
import { domainOf, flattenMailboxes, normalizeAddress } from '../../server/ingest/addresses';
import { isGenericSubject, normalizeSubject } from '../../server/ingest/subject';

describe('normalizeAddress', () => {
  it.each([
    ['Jane.Doe@Example.COM', 'jane.doe@example.com'],
    ['  <Jane@Example.com>  ', 'jane@example.com'],
    ['sales+acme@shoal.co.uk', 'sales+acme@shoal.co.uk'],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ['user@MÜNCHEN.de', 'user@münchen.de'],
    ['user@xn--mnchen-3ya.de', 'user@xn--mnchen-3ya.de'],
    ['kre@munnari.OZ.AU', 'kre@munnari.oz.au'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });

  it.each([
    '',
    '   ',
    'no-at-sign',
    '@example.com',
    'user@',
    'user@localhost',
    'two@@example.com',
    'a@b@example.com',
    'user@example..com',
    'user@.example.com',
    'user@example.com.',
    'user@-example.com',
    'john doe@example.com',
    'user@exa mple.com',
    'user\u0000@example.com',
    'user@example.com\r\nBcc: x@evil.com',
    '"quoted"@example.com',
    'user@[192.168.0.1]',
    '<a@example.com>, b@example.com',
    `${'a'.repeat(250)}@example.com`,
  ])('rejects %j', (input) => {
    expect(normalizeAddress(input)).toBeNull();
  });

  it('is idempotent', () => {
    const once = normalizeAddress('<Mixed.Case@Example.Org>');
    expect(once).toBe('mixed.case@example.org');
    expect(normalizeAddress(once ?? '')).toBe(once);
  });
});

describe('domainOf', () => {
  it.each([
    ['jane@example.com', 'example.com'],
    ['jane@Sub.Example.COM', 'sub.example.com'],
    ['no-at', ''],
  ])('%j → %j', (address, domain) => {
    expect(domainOf(address)).toBe(domain);
  });
});

describe('flattenMailboxes', () => {
  it('flattens groups, drops invalid and duplicate addresses, cleans names', () => {
    const flat = flattenMailboxes([
      { name: 'Team', group: [{ name: 'Alice', address: 'Alice@Example.com' }, { name: '', address: 'broken' }] },
      { name: 'Alice again', address: 'alice@example.com' },
      { name: 'Bob\r\n  Smith\u0007', address: '<bob@example.com>' },
      { name: 'No address' },
    ]);
    expect(flat).toEqual([
      { address: 'alice@example.com', name: 'Alice' },
      { address: 'bob@example.com', name: 'Bob Smith' },
    ]);
  });

  it('caps a header stuffed with thousands of addresses', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ name: '', address: `u${i}@example.com` }));
    expect(flattenMailboxes(many)).toHaveLength(1000);
  });
});

describe('normalizeSubject', () => {
  it.each([
    ['Re: Quarterly review', 'quarterly review'],
    ['RE: RE: re: Quarterly review', 'quarterly review'],
    ['Re: Fwd: RE[2]: Quarterly review', 'quarterly review'],
    ['Re(3): Fw: FWD: Quarterly   review  ', 'quarterly review'],
    ['Re : Quarterly review', 'quarterly review'],
    ['[SAtalk] Re: [SAtalk] Spam scores', 'spam scores'],
    ['Re: [ILUG] Re: [ILUG] Modem problems', 'modem problems'],
    ['AW: WG: Angebot Acme GmbH', 'angebot acme gmbh'],
    ['SV: VS: Tilbud', 'tilbud'],
    ['Antw: Doorst: Offerte', 'offerte'],
    ['RIF: R: Preventivo', 'r: preventivo'],
    ['TR: Devis signé', 'devis signé'],
    ['RV: ENC: Propuesta', 'propuesta'],
    ['ODP: PD: Oferta', 'oferta'],
    ['YNT: Teklif', 'teklif'],
    ['ΑΠ: Προσφορά', 'προσφορά'],
    ['回复：报价单', '报价单'],
    ['答复: 转发: 合同', '合同'],
    ['Ｒｅ：　Quarterly review', 'quarterly review'],
    ['Meeting notes (fwd)', 'meeting notes'],
    ['Re:', ''],
    ['', ''],
    ['Regarding the renewal', 'regarding the renewal'],
    ['Rework: the deck', 'rework: the deck'],
    ['Return policy', 'return policy'],
  ])('%j → %j', (subject, expected) => {
    expect(normalizeSubject(subject)).toBe(expected);
  });

  it('stays linear on hostile input', () => {
    const hostile = `${'Re: [x] '.repeat(20_000)}${'['.repeat(50_000)}`;
    const started = performance.now();
    normalizeSubject(hostile);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('isGenericSubject', () => {
  it.each(['', 'hi', 'Hey', 'hello!', 'quick question', 'Quick question?', 'follow-up', 'following up', 'meeting', 'call', 'thanks!!', 'thank you', 'update', '(no subject)', 'test', 'invoice', 're', 'fwd', 'checking in', 'introduction', 'intro', '...', '!!!!'])(
    '%j is generic',
    (subject) => {
      expect(isGenericSubject(normalizeSubject(subject))).toBe(true);
    },
  );

  it.each(['Acme renewal pricing for 2025', 'Re: Quarterly review', 'Invoice #4411 for Acme', 'Spam scores', '报价单', '見積書', 'Demo for Globex on Friday'])(
    '%j is specific',
    (subject) => {
      expect(isGenericSubject(normalizeSubject(subject))).toBe(false);
    },
  );
});
