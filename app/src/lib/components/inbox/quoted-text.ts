/**
 * @module app/lib/components/inbox/quoted-text
 * Splits a plain-text body into what the sender wrote and what they quoted,
 * so the quoted parts can sit behind a toggle, and finds web addresses to
 * link without rendering any HTML. Pure, for unit tests.
 */

export interface BodySegment {
  kind: 'text' | 'quote';
  text: string;
}

const QUOTED = /^\s*>/;
const ATTRIBUTION = /^\s*On\b.*\bwrote:\s*$/i;
const ATTRIBUTION_START = /^\s*On\b/i;
const ATTRIBUTION_END = /\bwrote:\s*$/i;
/** Outlook and Apple Mail put the whole earlier message under a separator instead of '>' lines. */
const FORWARD_HEADER = /^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}\s*$/i;

/** Lines from `i` that open a quotation to the end of the body: "On … wrote:" (possibly wrapped) or a separator. */
function opensTrailingQuote(lines: readonly string[], i: number): boolean {
  const line = lines[i] ?? '';
  if (ATTRIBUTION.test(line) || FORWARD_HEADER.test(line)) {
    return true;
  }
  // Clients wrap a long attribution ("On Mon, 3 Mar 2026 at 10:02, Bob Buyer <bob@…>\nwrote:").
  const next = lines[i + 1] ?? '';
  return ATTRIBUTION_START.test(line) && !ATTRIBUTION_END.test(line) && ATTRIBUTION_END.test(next) && next.length < 80;
}

function push(segments: BodySegment[], kind: BodySegment['kind'], lines: readonly string[]): void {
  const text = lines.join('\n').replace(/^\n+|\s+$/g, '');
  if (text === '') {
    return;
  }
  const last = segments.at(-1);
  if (last && last.kind === kind) {
    last.text = `${last.text}\n\n${text}`;
    return;
  }
  segments.push({ kind, text });
}

/**
 * Text and quote segments, in order. A run of '>' lines is one quote; an
 * attribution ("On … wrote:") or an "Original Message" separator starts a
 * quote that runs to the end. Blank lines between quoted lines stay inside
 * the quote, so one reply does not become many toggles.
 */
export function splitQuoted(body: string): BodySegment[] {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const segments: BodySegment[] = [];
  let current: string[] = [];
  let kind: BodySegment['kind'] = 'text';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (opensTrailingQuote(lines, i)) {
      push(segments, kind, current);
      push(segments, 'quote', lines.slice(i));
      return segments;
    }
    const blank = line.trim() === '';
    const lineKind: BodySegment['kind'] = QUOTED.test(line) ? 'quote' : blank ? kind : 'text';
    if (lineKind !== kind) {
      push(segments, kind, current);
      current = [];
      kind = lineKind;
    }
    current.push(line);
  }
  push(segments, kind, current);
  return segments;
}

export interface TextPart {
  text: string;
  /** Set for a web address: only http(s), so a message can never plant a javascript: link. */
  href?: string;
}

const WEB_ADDRESS = /\bhttps?:\/\/[^\s<>"']+/gi;
/** Punctuation that ends a sentence rather than the address ("see https://x.test/a."). */
const TRAILING = /[).,;:!?\]}'"]+$/;

/** Plain text cut into runs and web addresses, for rendering links without any HTML. */
export function linkParts(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const match of text.matchAll(WEB_ADDRESS)) {
    const start = match.index;
    const href = match[0].replace(TRAILING, '');
    if (start > at) {
      parts.push({ text: text.slice(at, start) });
    }
    parts.push({ text: href, href });
    at = start + href.length;
  }
  if (at < text.length) {
    parts.push({ text: text.slice(at) });
  }
  return parts;
}
