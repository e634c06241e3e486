/**
 * @module app/lib/components/inbox/html/sanitize
 * A message's HTML → safe HTML for the sandboxed frame, in one DOMPurify
 * pass (string in, string out; never edited afterwards, the mistake behind
 * Roundcube CVE-2024-42009). The same pass, through hooks on a private
 * DOMPurify instance (no shared hook state between renders):
 * - links keep only http(s), mailto and tel, and open in a new tab with
 *   `rel="noopener noreferrer"`;
 * - every image address (`src`, `background`, CSS `url()`) becomes a `cid:`
 *   image the caller fetched (a data: URL), a signed proxy path, or nothing:
 *   remote images are blocked unless the viewer chose to show them, and the
 *   blocked addresses are reported so "show images" can sign them;
 * - `<style>` text and `style` attributes go through the CSS allowlist.
 * HTML profile only (no SVG, no MathML: the namespace-confusion mXSS class
 * is gone with them), no forms, frames, embeds, media, meta, base or link.
 */
import DOMPurify, { type Config } from 'dompurify';
import { filterDeclarations, filterStylesheet } from './css-filter';

export interface SanitizeOptions {
  /** `cid:` Content-ID (no brackets) → the data: URL of that attachment; an unknown cid shows nothing. */
  cidImages: ReadonlyMap<string, string>;
  /** Remote address → signed proxy URL; null while remote images are blocked. */
  proxied: ReadonlyMap<string, string> | null;
}

export interface SanitizedHtml {
  html: string;
  /** Remote image addresses left out (blocked, or not yet signed), in order of appearance, without repeats. */
  blockedImages: string[];
}

const LINK_SCHEMES = /^(?:https?|mailto|tel):/i;
const REMOTE = /^https?:\/\//i;
/** Where the element's address points at an image. */
const IMAGE_ATTRIBUTES: ReadonlySet<string> = new Set(['src', 'background']);
const LINK_TAGS: ReadonlySet<string> = new Set(['a', 'area']);

const CONFIG: Config = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    'form', 'input', 'button', 'select', 'textarea', 'option', 'optgroup', 'iframe', 'frame', 'frameset', 'object', 'embed',
    'applet', 'base', 'meta', 'link', 'noscript', 'noembed', 'noframes', 'xmp', 'plaintext', 'template', 'dialog', 'video',
    'audio', 'source', 'track', 'portal', 'picture',
  ],
  FORBID_ATTR: ['srcset', 'ping', 'action', 'formaction', 'poster', 'lowsrc', 'dynsrc', 'longdesc', 'usemap', 'xmlns', 'target', 'rel'],
  ALLOW_DATA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|tel:)/i,
  WHOLE_DOCUMENT: false,
  // Parse in body context: a message's <head><style> (or a leading <style>) would otherwise land in a head that is thrown away.
  FORCE_BODY: true,
  RETURN_TRUSTED_TYPE: false,
};

/** Address text as browsers read it: entities are already decoded by the parser; controls and edge spaces are not part of it. */
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const normalise = (value: string) => value.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');

/** Sanitizes one message body; a fresh DOMPurify instance per call, so hooks never outlive the call. */
export function sanitizeEmailHtml(dirty: string, options: SanitizeOptions): SanitizedHtml {
  const blocked: string[] = [];
  const mapImage = (raw: string): string | null => {
    const url = normalise(raw);
    if (/^cid:/i.test(url)) {
      return options.cidImages.get(decodeURIComponent(url.slice(4)).replace(/^<|>$/g, '')) ?? null;
    }
    if (!REMOTE.test(url)) {
      return null;
    }
    const proxied = options.proxied?.get(url);
    if (!proxied) {
      if (!blocked.includes(url)) {
        blocked.push(url);
      }
      return null;
    }
    return proxied;
  };

  const purify = DOMPurify(window);
  purify.addHook('uponSanitizeElement', (node, event) => {
    if (event.tagName === 'style') {
      node.textContent = filterStylesheet(node.textContent ?? '', mapImage);
    }
  });
  purify.addHook('uponSanitizeAttribute', (node, event) => {
    const name = event.attrName;
    if (name === 'style') {
      event.attrValue = filterDeclarations(event.attrValue, mapImage);
      event.keepAttr = event.attrValue !== '';
    } else if (IMAGE_ATTRIBUTES.has(name)) {
      const mapped = node.localName === 'img' || name === 'background' ? mapImage(event.attrValue) : null;
      event.attrValue = mapped ?? '';
      event.keepAttr = mapped !== null;
    } else if (name === 'href') {
      const url = normalise(event.attrValue);
      event.attrValue = url;
      event.keepAttr = LINK_TAGS.has(node.localName) && LINK_SCHEMES.test(url);
    }
  });
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (LINK_TAGS.has(node.localName) && node.hasAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  });
  const html = purify.sanitize(dirty, CONFIG);
  return { html, blockedImages: blocked };
}
