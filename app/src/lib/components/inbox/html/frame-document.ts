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

/** The whole frame document around `safeBody` (DOMPurify output, inserted as it is). */
export function frameDocument(safeBody: string, origin: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${escapeAttribute(frameCsp(origin))}"><meta name="referrer" content="no-referrer"><style>${BASE_STYLE}</style></head><body>${safeBody}</body></html>`;
}
