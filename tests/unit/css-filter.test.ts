/**
 * The CSS allowlist on its own (css-tree runs anywhere): what survives, what
 * is dropped, and how url() is mapped or refused.
 */
import { describe, expect, it } from 'vitest';
import { filterDeclarations, filterStylesheet } from '../../app/src/lib/components/inbox/html/css-filter';

const none = () => null;
const proxy = (url: string) => (url.startsWith('https://') ? `https://app.test/api/image-proxy?u=${encodeURIComponent(url)}` : null);

describe('filterDeclarations', () => {
  it('keeps presentational properties and drops the rest', () => {
    expect(filterDeclarations('color:#123;font-weight:bold;padding:4px 8px;text-align:center', none)).toBe('color:#123;font-weight:bold;padding:4px 8px;text-align:center');
    expect(filterDeclarations('behavior:url(x.htc);-moz-binding:url(x);content:"x";cursor:pointer;z-index:9;top:0', none)).toBe('');
    expect(filterDeclarations('position:fixed;position:absolute;position:sticky;position:relative', none)).toBe('position:relative');
  });

  it('refuses functions that fetch, compute from the page or run script', () => {
    for (const bad of ['width:expression(alert(1))', 'width:exp\\ression(alert(1))', 'color:var(--x)', 'background:image-set("https://a.example/x.png" 1x)', 'width:attr(title)', 'background:element(#x)', 'color:env(x)']) {
      expect(filterDeclarations(bad, proxy), bad).toBe('');
    }
    expect(filterDeclarations('color:rgb(1,2,3);width:calc(100% - 4px)', none)).toBe('color:rgb(1,2,3);width:calc(100% - 4px)');
  });

  it('maps url() through the caller or drops the declaration, whatever its spelling', () => {
    expect(filterDeclarations('background:url(https://a.example/x.png) no-repeat', none)).toBe('');
    expect(filterDeclarations('background:url(https://a.example/x.png) no-repeat', proxy)).toBe('background:url(https://app.test/api/image-proxy?u=https%3A%2F%2Fa.example%2Fx.png)no-repeat');
    expect(filterDeclarations('background:u\\72l(https://a.example/x.png)', none)).toBe('');
    expect(filterDeclarations('background:url(javascript:alert(1))', proxy)).toBe('');
    expect(filterDeclarations('background:url("data:text/html,<script>")', proxy)).toBe('');
  });

  it('keeps markup out of the output', () => {
    expect(filterDeclarations('font-family:"</style><script>alert(1)</script>"', none)).toBe('');
  });
});

describe('filterStylesheet', () => {
  it('drops @import, @font-face and other at-rules, keeps @media with filtered rules', () => {
    const css = '@import "https://a.example/a.css"; @\\69mport "x.css"; @font-face{font-family:x;src:url(https://a.example/f.woff)} @keyframes k{from{color:red}} @media (max-width:600px){p{color:red;position:fixed}} p{color:blue}';
    expect(filterStylesheet(css, proxy)).toBe('@media (max-width:600px){p{color:red}}\np{color:blue}');
  });

  it('drops rules left empty and selectors carrying markup', () => {
    expect(filterStylesheet('a[href^="h"]{background:url(https://e.example/h)}', none)).toBe('');
    expect(filterStylesheet('a[title="</style><img src=x onerror=alert(1)>"]{color:red}', none)).toBe('');
    expect(filterStylesheet('body{display:none !important}', none)).toBe('body{display:none!important}');
  });

  it('survives garbage and comments without letting anything through', () => {
    expect(filterStylesheet('p{color:red;/*}*/position:fixed}', none)).toBe('p{color:red}');
    expect(filterStylesheet('}}}{{{color:red', none)).toBe('');
    expect(filterStylesheet('a{'.repeat(500), none)).toBe('');
  });
});
