/**
 * @module app/lib/components/inbox/html/frame-document
 * The `srcdoc` of the message frame: a fixed head (a strict CSP, no
 * referrer, base styles) around the sanitized body. The frame's sandbox has
 * neither `allow-scripts` nor `allow-same-origin`; the CSP is a second lock
 * in case a sanitizer bug lets something through: no script, no plugin, no
 * form target, no base, and images only as data: (cid images) or from the
 * image proxy on our own origin.
 */

/** The frame's Content-Security-Policy; `origin` is the app's, whose proxy serves remote images. */
export function frameCsp(origin: string): string {
  return [
    "default-src 'none'",
    "script-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "style-src 'unsafe-inline'",
    `img-src data: ${origin}/api/image-proxy`,
    'font-src data:',
  ].join('; ');
}

const BASE_STYLE = `html{color-scheme:light}body{margin:0;padding:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#fff;overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}blockquote{margin:0 0 0 .8ex;padding-left:1ex;border-left:2px solid #ccd}a{color:#0b57d0}`;

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * How mail clients mark the quoted earlier message: Gmail, Apple Mail and
 * Thunderbird (and Shoal's own replies), Outlook (its reply header and
 * everything after it), Yahoo. Hidden by the frame's own style, so the
 * sanitized body is never edited; the sender's CSS can only make it show.
 */
export const QUOTE_SELECTORS = [
  '.gmail_quote',
  'blockquote[type="cite"]',
  '.moz-cite-prefix',
  '#divRplyFwdMsg',
  '#divRplyFwdMsg ~ *',
  '.yahoo_quoted',
] as const;

const COLLAPSE_STYLE = `${QUOTE_SELECTORS.join(',')}{display:none!important}`;

/**
 * The whole frame document around `safeBody` (DOMPurify output, inserted as
 * it is); `collapseQuotes` hides the quoted earlier messages.
 */
export function frameDocument(safeBody: string, origin: string, collapseQuotes = false): string {
  const style = collapseQuotes ? BASE_STYLE + COLLAPSE_STYLE : BASE_STYLE;
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${escapeAttribute(frameCsp(origin))}"><meta name="referrer" content="no-referrer"><style>${style}</style></head><body>${safeBody}</body></html>`;
}
