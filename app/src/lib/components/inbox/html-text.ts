/**
 * @module app/lib/components/inbox/html-text
 * A plain-text reading of an HTML-only message. DOMParser builds an inert
 * document (no scripts run, nothing loads) and only text nodes come out, so
 * no markup from a message ever reaches the page. Safe HTML rendering in a
 * sandboxed frame is a later milestone.
 */

const SKIPPED = new Set(['HEAD', 'SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT', 'TITLE', 'META', 'LINK', 'SVG', 'OBJECT', 'IFRAME']);
const BLOCKS = new Set([
  'ADDRESS', 'ARTICLE', 'ASIDE', 'BODY', 'CENTER', 'DD', 'DIV', 'DL', 'DT', 'FIELDSET', 'FIGCAPTION', 'FIGURE', 'FOOTER', 'FORM',
  'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HEADER', 'HR', 'LI', 'MAIN', 'NAV', 'OL', 'P', 'PRE', 'SECTION', 'TABLE', 'TR', 'UL',
]);

function walk(node: Node, out: string[]): void {
  if (node.nodeType === Node.TEXT_NODE) {
    // Source line breaks and runs of spaces are layout, not content, outside <pre>.
    out.push((node.textContent ?? '').replace(/\s+/g, ' '));
    return;
  }
  if (!(node instanceof Element) || SKIPPED.has(node.tagName.toUpperCase())) {
    return;
  }
  const tag = node.tagName.toUpperCase();
  if (tag === 'BR') {
    out.push('\n');
    return;
  }
  if (tag === 'PRE') {
    out.push('\n', node.textContent ?? '', '\n');
    return;
  }
  if (tag === 'BLOCKQUOTE') {
    // Quoted HTML becomes '>' lines, so the quote toggle treats it like quoted plain text.
    const inner = tidy(collect(node));
    out.push('\n', inner.split('\n').map((line) => (line ? `> ${line}` : '>')).join('\n'), '\n');
    return;
  }
  const block = BLOCKS.has(tag);
  if (block) {
    out.push('\n');
  }
  if (tag === 'TD' || tag === 'TH') {
    out.push(' ');
  }
  for (const child of node.childNodes) {
    walk(child, out);
  }
  if (block) {
    out.push('\n');
  }
}

function collect(node: Node): string {
  const out: string[] = [];
  for (const child of node.childNodes) {
    walk(child, out);
  }
  return out.join('');
}

/** Trims each line and keeps at most one empty line between paragraphs. */
function tidy(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The text of an HTML body, with paragraphs, line breaks and quotes kept as plain-text structure. */
export function htmlToText(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  return tidy(collect(doc.body));
}
