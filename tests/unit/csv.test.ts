/**
 * The CSV reader: RFC 4180 quoting, line ends, BOM, separator detection,
 * forgiving where real exports are sloppy, and a round trip property
 * against an independent writer. Plus header mapping and country names.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvError, detectSeparator, parseCsv, type CsvSeparator } from '../../server/records/csv';
import { cellOf, mapColumns } from '../../server/records/import-columns';
import { countryName, normalizeCountry } from '../../sync/countries';

const runs = Number(process.env.PROPERTY_RUNS ?? 300);

const cells = (text: string) => parseCsv(text).map((r) => r.cells);

describe('parseCsv', () => {
  it('reads plain rows with any line end and no trailing empty row', () => {
    expect(cells('a,b\r\n1,2\n3,4\r5,6\r\n')).toEqual([['a', 'b'], ['1', '2'], ['3', '4'], ['5', '6']]);
    expect(cells('a,b\n1,2')).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('reads quoted fields with separators, doubled quotes and line breaks', () => {
    const text = 'name,notes\r\n"Doe, Jane","She said ""hi""\r\nthen left"\r\n"",x\r\n';
    expect(cells(text)).toEqual([
      ['name', 'notes'],
      ['Doe, Jane', 'She said "hi"\r\nthen left'],
      ['', 'x'],
    ]);
  });

  it('strips a byte-order mark and keeps empty cells', () => {
    expect(cells('\uFEFFName,Email\nA,,\n')).toEqual([['Name', 'Email'], ['A', '', '']]);
  });

  it('numbers rows like a spreadsheet: blank rows skipped but counted, quoted line breaks not counted', () => {
    const rows = parseCsv('h\n"multi\nline"\n\n , \nlast\n');
    expect(rows).toEqual([
      { row: 1, cells: ['h'] },
      { row: 2, cells: ['multi\nline'] },
      { row: 5, cells: ['last'] },
    ]);
  });

  it('is forgiving about stray quotes in unquoted fields and text after a closing quote', () => {
    expect(cells('a,b\n5" screen,"Acme" Inc\n')).toEqual([['a', 'b'], ['5" screen', 'Acme Inc']]);
  });

  it('refuses a quote that is never closed, naming the row', () => {
    expect(() => parseCsv('a,b\n1,2\n"open,3\n')).toThrow(CsvError);
    try {
      parseCsv('a,b\n1,2\n"open,3\n');
    } catch (error) {
      expect((error as CsvError).row).toBe(3);
    }
  });

  it('detects semicolons and tabs from the header line, ignoring quoted ones', () => {
    expect(detectSeparator('Name;Email;Company\nA,B;c;d')).toBe(';');
    expect(detectSeparator('Name\tEmail\n')).toBe('\t');
    expect(detectSeparator('"a;b;c",d\n')).toBe(',');
    expect(detectSeparator('single\n')).toBe(',');
    expect(cells('Name;Email\n"Doe; Jane";j@x.test\n')).toEqual([['Name', 'Email'], ['Doe; Jane', 'j@x.test']]);
  });

  it('round-trips any table through an RFC 4180 writer', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', ';', '\t', '"', '\r', '\n', 'é', '😀') });
    const table = fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 });
    const separator = fc.constantFrom<CsvSeparator>(',', ';', '\t');
    fc.assert(
      fc.property(table, separator, fc.constantFrom('\r\n', '\n'), fc.boolean(), (rows, sep, eol, bom) => {
        // Quote every cell that is not plain, as spreadsheets do; the reader must give the cells back.
        const write = (c: string) => (/^[a-zA-Zé😀]*$/u.test(c) && c !== '' ? c : `"${c.replace(/"/g, '""')}"`);
        const text = (bom ? '\uFEFF' : '') + rows.map((r) => r.map(write).join(sep)).join(eol) + eol;
        const expected = rows.filter((r) => !r.every((c) => c.trim() === ''));
        expect(parseCsv(text, sep).map((r) => r.cells)).toEqual(expected);
      }),
      { numRuns: runs },
    );
  });
});

describe('mapColumns', () => {
  it('recognizes common header names in any case and punctuation, and reports the rest', () => {
    const map = mapColumns(['Full Name', 'E-mail', 'Other Emails', 'Company Name', 'Country/Region', 'Lead Owner', 'Phone', '']);
    expect(map.index).toEqual({ name: 0, email: 1, secondaryEmails: 2, company: 3, country: 4, owner: 5 });
    expect(map.ignored).toEqual(['Phone']);
    expect(cellOf(map, [' Ada ', 'a@b.test'], 'name')).toBe('Ada');
    expect(cellOf(map, ['Ada'], 'owner')).toBe('');
    expect(mapColumns(['First name', 'Last name', 'Email Address']).index).toEqual({ firstName: 0, lastName: 1, email: 2 });
  });
});

describe('normalizeCountry', () => {
  it('accepts codes and English names in any case, with common aliases and without accents', () => {
    const cases: [string, string | null][] = [
      ['de', 'DE'],
      [' Germany ', 'DE'],
      ['UNITED KINGDOM', 'GB'],
      ['U.K.', 'GB'],
      ['usa', 'US'],
      ['United States of America', 'US'],
      ["Cote d'Ivoire", 'CI'],
      ['Türkiye', 'TR'],
      ['Turkey', 'TR'],
      ['Saint Kitts and Nevis', 'KN'],
      ['the netherlands', 'NL'],
      ['Atlantis', null],
      ['XX', null],
      ['', null],
    ];
    for (const [input, code] of cases) {
      expect(normalizeCountry(input), input).toBe(code);
    }
    expect(countryName('DE')).toBe('Germany');
  });
});
