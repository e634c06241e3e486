/**
 * The mail sanitizer in real Chromium (DOMPurify on the browser's own
 * parser): every hostile payload and a seeded fuzz of generated trees come
 * out with no script-capable markup, links of allowed schemes only (new tab,
 * noopener noreferrer), images only from cid data: URLs or the signed proxy,
 * CSS without fetches or overlays, and a second pass over what the frame
 * parses removes nothing.
 */
import fc from 'fast-check';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchBrowser } from '../helpers/browser';
import { hostilePayloads } from '../helpers/hostile-mail';
import { sanitizerBundle } from '../helpers/sanitizer-bundle';

const REMOTE = 'http://remote.invalid';
const APP = 'https://app.test';
const PNG = 'data:image/png;base64,iVBORw0KGgo=';
const RUNS = Number(process.env.HTML_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.SHOAL_TEST_SEED ?? Date.now() % 2 ** 31);

interface Verdict {
  problems: string[];
  blocked: string[];
  idempotent: boolean;
  html: string;
}

/** Runs in the page: sanitizes and inspects the result in an inert document. */
function inspectInPage(args: { dirty: string; proxy: boolean; app: string; png: string }): Verdict {
  type Sanitize = (html: string, o: { cidImages: Map<string, string>; proxied: Map<string, string> | null }) => { html: string; blockedImages: string[] };
  const sanitize = (window as unknown as { ShoalSanitize: { sanitizeEmailHtml: Sanitize } }).ShoalSanitize.sanitizeEmailHtml;
  const cid = new Map([['logo@evil.test', args.png]]);
  const first = sanitize(args.dirty, { cidImages: cid, proxied: null });
  const proxied = args.proxy ? new Map(first.blockedImages.map((u, i) => [u, `${args.app}/api/image-proxy?n=${i}`])) : null;
  const out = args.proxy ? sanitize(args.dirty, { cidImages: cid, proxied }) : first;
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${out.html}`, 'text/html');
  const problems: string[] = [];
  const forbidden = 'script,iframe,frame,object,embed,applet,form,input,button,textarea,select,base,meta,link,svg,math,template,noscript,xmp,video,audio,source,picture,portal';
  for (const el of doc.querySelectorAll(forbidden)) {problems.push(`element <${el.localName}>`);}
  const imageOk = (v: string) => v.startsWith('data:image/png;base64,') || (args.proxy && v.startsWith(`${args.app}/api/image-proxy?`));
  for (const el of doc.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value;
      if (name.startsWith('on')) {problems.push(`handler ${name} on <${el.localName}>`);}
      if (['srcset', 'ping', 'action', 'formaction', 'poster', 'xlink:href', 'usemap'].includes(name)) {problems.push(`attribute ${name}`);}
      if (name === 'href' && !/^(?:https?|mailto|tel):/i.test(value)) {problems.push(`href ${value.slice(0, 40)}`);}
      if ((name === 'src' || name === 'background') && !imageOk(value)) {problems.push(`${name} ${value.slice(0, 60)}`);}
      if (name === 'style' && /url\(|expression|var\(|image-set|behavior|binding|position:\s*(fixed|absolute|sticky)/i.test(value) && !/url\("?https:\/\/app\.test\/api\/image-proxy/.test(value)) {problems.push(`style ${value.slice(0, 60)}`);}
    }
    if (el.localName === 'a' || el.localName === 'area') {
      if (el.hasAttribute('href') && (el.getAttribute('target') !== '_blank' || el.getAttribute('rel') !== 'noopener noreferrer')) {problems.push('link without _blank noopener noreferrer');}
    }
  }
  for (const style of doc.querySelectorAll('style')) {
    const css = style.textContent ?? '';
    if (/@import|@font-face|expression|behavior|binding|javascript:|position:\s*(fixed|absolute|sticky)|<\//i.test(css)) {problems.push(`stylesheet ${css.slice(0, 80)}`);}
    for (const m of css.matchAll(/url\(\s*"?([^")]*)/gi)) {if (!imageOk(m[1] ?? '')) {problems.push(`stylesheet url ${m[1]}`);}}
  }
  // Stability, on the image-free rendering (rewritten data:/proxy addresses are not inputs the sanitizer takes back):
  // what the frame parses out of the output is already clean, so a second pass removes no element and no attribute.
  // (Text may move: unwrapping a forbidden <select> or <xmp> leaves trees the parser re-nests on the next parse.)
  const none = { cidImages: new Map<string, string>(), proxied: null };
  const base = sanitize(args.dirty, none).html;
  const shape = (html: string) =>
    [...new DOMParser().parseFromString(`<!doctype html><body>${html}`, 'text/html').body.querySelectorAll('*')]
      // An empty, attribute-less element is a parser artefact (a <table> closing a <p> in standards mode), not content.
      .filter((el) => el.attributes.length > 0 || el.childNodes.length > 0 || el.localName === 'img')
      .map((el) => `${el.localName}[${[...el.attributes].map((a) => `${a.name}=${a.value}`).sort().join(' ')}]`)
      .sort()
      .join('\n');
  return { problems, blocked: first.blockedImages, idempotent: shape(sanitize(base, none).html) === shape(base), html: out.html };
}

describe.runIf(browserAvailable())('mail sanitizer in Chromium', () => {
  let browser: Browser;
  let page: Page;
  const inspect = (dirty: string, proxy = false) => page.evaluate(inspectInPage, { dirty, proxy, app: APP, png: PNG });

  beforeAll(async () => {
    const bundle = await sanitizerBundle();
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.setContent('<!doctype html><title>sanitizer</title>');
    await page.addScriptTag({ content: bundle });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it.each(hostilePayloads(REMOTE).map((p) => [p.name, p] as const))('%s: nothing dangerous survives, with images blocked and shown', async (_name, payload) => {
    for (const proxy of [false, true]) {
      const verdict = await inspect(payload.html, proxy);
      expect(verdict.problems, `${payload.name} proxy=${proxy}\n${verdict.html.slice(0, 400)}`).toEqual([]);
      expect(verdict.idempotent, `${payload.name} is stable`).toBe(true);
    }
  });

  it('reports blocked remote images and leaves safe content intact', async () => {
    const pixel = await inspect(`<p>Hi</p><img src="${REMOTE}/pixel.png" width=1><div style="background:url(${REMOTE}/bg.png);color:red">x</div><img src="cid:logo@evil.test">`);
    expect(pixel.blocked).toEqual([`${REMOTE}/pixel.png`, `${REMOTE}/bg.png`]);
    expect(pixel.html).toContain('<p>Hi</p>');
    expect(pixel.html).toContain('style="color:red"');
    expect(pixel.html).toContain(`src="${PNG}"`);
    expect(pixel.html).not.toContain('remote.invalid');

    const shown = await inspect(`<img src="${REMOTE}/pixel.png"><div style="background:url(${REMOTE}/bg.png)">x</div>`, true);
    expect(shown.html).toContain(`src="${APP}/api/image-proxy?n=0"`);
    expect(shown.html).toContain(`background:url(${APP}/api/image-proxy?n=1)`);

    const rich = await inspect('<table style="border-collapse:collapse"><tr><td style="padding:8px;font-weight:bold">Q3</td></tr></table><a href="mailto:a@b.example">mail</a><a href="tel:+1555">tel</a><a href="https://x.example/">web</a>');
    expect(rich.html).toContain('<td style="padding:8px;font-weight:bold">Q3</td>');
    expect(rich.html).toContain('<a href="mailto:a@b.example" target="_blank" rel="noopener noreferrer">mail</a>');
    expect(rich.html).toContain('href="tel:+1555"');
    expect(rich.html).toContain('href="https://x.example/"');
  });

  it(`survives ${RUNS} generated hostile trees (seed ${SEED})`, async () => {
    const tag = fc.constantFrom('div', 'p', 'a', 'img', 'svg', 'math', 'style', 'table', 'td', 'form', 'noscript', 'xmp', 'iframe', 'template', 'mglyph', 'mtext', 'select', 'textarea', 'title', 'object', 'b');
    const attr = fc.constantFrom(
      'onerror="top.__c()"', 'onload=alert(1)', `href="javascript:alert(1)"`, 'href="java&#x09;script:alert(1)"', `src="${REMOTE}/p.png"`,
      'src="x"', 'style="background:url(javascript:alert(1));position:fixed"', `style="background-image:url(${REMOTE}/y.png)"`, 'href="https://ok.example/"',
      `srcset="${REMOTE}/s.png 1x"`, 'xlink:href="javascript:alert(1)"', 'title="</style><img src=x onerror=alert(1)>"', 'id="</noscript><img src=x onerror=alert(1)>"',
      `background="${REMOTE}/b.png"`, 'formaction="javascript:alert(1)"', 'target="_self"', 'src="cid:logo@evil.test"',
    );
    const text = fc.constantFrom('text', '<!--', '-->', '</style>', '<img src=x onerror=alert(1)>', `@import "${REMOTE}/a.css";`, 'a{b:expression(alert(1))}', ']]>', '&lt;script&gt;', '<![CDATA[');
    const tree: fc.Arbitrary<string> = fc.letrec<{ node: string }>((rec) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        text,
        fc.tuple(tag, fc.array(attr, { maxLength: 3 }), fc.array(rec('node'), { maxLength: 4 }), fc.boolean()).map(
          ([t, attrs, kids, close]) => `<${t} ${attrs.join(' ')}>${kids.join('')}${close ? `</${t}>` : ''}`,
        ),
      ),
    })).node;
    console.log(`html fuzz seed ${SEED}, runs ${RUNS}`);
    const samples = fc.sample(tree, { seed: SEED, numRuns: RUNS });
    for (const [i, dirty] of samples.entries()) {
      const verdict = await inspect(dirty, i % 2 === 1);
      expect(verdict.problems, `sample ${i} (seed ${SEED}): ${dirty}`).toEqual([]);
      expect(verdict.idempotent, `sample ${i} (seed ${SEED}) is stable: ${dirty}`).toBe(true);
    }
  }, 120_000);
});
