/**
 * @module server/ingest/snippet
 * The one-line preview of a message: from its text part, or from its HTML
 * with markup, hidden elements and quoted lines removed, in one bounded pass.
 */

/** Snippet limits: length, how much text is scanned, and which HTML elements hold no visible text. */
const snippet = {
  length: 200,
  scanChars: 256 * 1024,
  // Not <head>: spam often leaves it unclosed, and its children are covered one by one.
  hiddenElements: ['style', 'script', 'title', 'template', 'noscript'],
  // Block-level tags separate words; inline ones (`<b>`, `<a>`, `<span>`) do not.
  blockElements: new Set<string>([
    'br', 'p', 'div', 'tr', 'td', 'th', 'li', 'ul', 'ol', 'dt', 'dd', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'hr', 'pre',
    'blockquote', 'section', 'article', 'header', 'footer', 'center', 'img',
  ]),
} as const;

const closingTags = new Map<string, RegExp>(snippet.hiddenElements.map((name) => [name, new RegExp(`</${name}\\s*>`, 'giu')]));
const namedEntities: Readonly<Record<string, string>> = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", zwnj: '', zwj: '', shy: '',
  mdash: '\u2014', ndash: '\u2013', hellip: '\u2026', rsquo: '\u2019', lsquo: '\u2018', ldquo: '\u201c', rdquo: '\u201d',
};

/**
 * Up to 200 characters of whitespace-collapsed text, from the text part, or
 * from the HTML with tags and hidden elements removed when there is none.
 * Quoted lines (`>`) are skipped. Only a prefix is scanned, so a 50 MB body
 * costs no more than a small one.
 */
export function snippetOf(text: string | null, html: string | null): string {
  const source = text !== null && text.trim() !== '' ? text.slice(0, snippet.scanChars) : htmlToLines(html?.slice(0, snippet.scanChars) ?? '');
  let out = '';
  for (const line of source.split('\n')) {
    if (out.length > snippet.length) {
      break;
    }
    const words = line.replace(/\s+/gu, ' ').trim();
    if (words !== '' && !words.startsWith('>')) {
      out = out === '' ? words : `${out} ${words}`;
    }
  }
  return out.slice(0, snippet.length).replace(/[\ud800-\udfff]/gu, '').trim();
}

/**
 * HTML → text lines in one linear pass: tags dropped (block tags become line
 * breaks), comments and hidden elements skipped; an unclosed one ends the
 * scan, so no input makes this quadratic. Entities decoded afterwards.
 */
function htmlToLines(html: string): string {
  let out = '';
  let pos = 0;
  while (pos < html.length) {
    const open = html.indexOf('<', pos);
    if (open < 0) {
      out += html.slice(pos);
      break;
    }
    out += html.slice(pos, open);
    const skip = skipMarkup(html, open);
    if (skip === null) {
      break;
    }
    out += skip.replacement;
    pos = skip.end;
  }
  return decodeEntities(out);
}

const tagName = /<\/?([a-z][a-z0-9-]*)/iuy;

/** What to put in place of the markup at `open` and where text resumes; null when it never ends. */
function skipMarkup(html: string, open: number): { end: number; replacement: string } | null {
  const marker = html.startsWith('<!--', open) ? '-->' : '>';
  tagName.lastIndex = open;
  const name = tagName.exec(html)?.[1]?.toLowerCase();
  if (name === undefined && marker === '>' && html[open + 1] !== '!' && html[open + 1] !== '?') {
    return { end: open + 1, replacement: '<' }; // "a < b" is text
  }
  const close = html.indexOf(marker, open + 1);
  if (close < 0) {
    return null;
  }
  const end = close + marker.length;
  const block = name !== undefined && snippet.blockElements.has(name);
  const hidden = name === undefined || html[open + 1] === '/' ? undefined : closingTags.get(name);
  if (hidden === undefined) {
    return { end, replacement: block ? '\n' : '' };
  }
  hidden.lastIndex = end;
  return hidden.exec(html) === null ? null : { end: hidden.lastIndex, replacement: '\n' };
}

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/giu, (whole, entity: string) => {
    if (entity.startsWith('#')) {
      const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : '';
    }
    return namedEntities[entity.toLowerCase()] ?? whole;
  });
}
