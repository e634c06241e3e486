/**
 * @module app/lib/components/inbox/html/css-filter
 * The CSS of a message, through a real parser (css-tree) and an allowlist:
 * only known presentational properties survive, with values built from
 * plain tokens and a few colour/arithmetic functions. `url()` survives only
 * when the caller maps its address (to the image proxy or a cid: image);
 * `expression()`, `var()`, `image-set()`, `attr()`, behaviours, `@import`,
 * `@font-face` and every other at-rule but `@media` are dropped, as is
 * `position` other than static/relative. Nothing is matched with a regular
 * expression on text, so escapes and comments cannot smuggle anything past
 * (Roundcube CVE-2024-42010 was a regex on a stripped copy).
 */
import { generate, parse, walk, type CssNode, type Declaration, type List } from 'css-tree';

/** Maps an address found in `url()` to the one to use, or null to drop the declaration. */
export type UrlMapper = (url: string) => string | null;

const PROPERTIES: ReadonlySet<string> = new Set([
  'color', 'background', 'background-color', 'background-image', 'background-repeat', 'background-position', 'background-size',
  'font', 'font-family', 'font-size', 'font-style', 'font-weight', 'font-variant', 'line-height', 'letter-spacing', 'word-spacing',
  'text-align', 'text-decoration', 'text-decoration-line', 'text-decoration-color', 'text-decoration-style', 'text-indent',
  'text-transform', 'white-space', 'word-break', 'word-wrap', 'overflow-wrap', 'vertical-align', 'direction',
  'margin', 'margin-top', 'margin-right', 'margin-bottom', 'margin-left',
  'padding', 'padding-top', 'padding-right', 'padding-bottom', 'padding-left',
  'border', 'border-top', 'border-right', 'border-bottom', 'border-left', 'border-color', 'border-style', 'border-width',
  'border-top-color', 'border-right-color', 'border-bottom-color', 'border-left-color',
  'border-top-style', 'border-right-style', 'border-bottom-style', 'border-left-style',
  'border-top-width', 'border-right-width', 'border-bottom-width', 'border-left-width',
  'border-radius', 'border-top-left-radius', 'border-top-right-radius', 'border-bottom-left-radius', 'border-bottom-right-radius',
  'width', 'height', 'min-width', 'max-width', 'min-height', 'max-height', 'box-sizing',
  'display', 'float', 'clear', 'overflow', 'overflow-x', 'overflow-y', 'visibility', 'opacity',
  'list-style', 'list-style-type', 'list-style-position',
  'border-collapse', 'border-spacing', 'table-layout', 'caption-side', 'empty-cells',
  'flex', 'flex-direction', 'flex-wrap', 'flex-grow', 'flex-shrink', 'flex-basis', 'justify-content', 'align-items', 'align-self', 'gap',
  'position',
]);

/** Properties whose every keyword must come from a short list. */
const KEYWORDS: Readonly<Record<string, ReadonlySet<string>>> = {
  // fixed/sticky/absolute could lay a fake login over the message.
  position: new Set(['static', 'relative']),
  direction: new Set(['ltr', 'rtl']),
};

const FUNCTIONS: ReadonlySet<string> = new Set(['rgb', 'rgba', 'hsl', 'hsla', 'calc']);

const VALUE_NODES: ReadonlySet<string> = new Set([
  'Identifier', 'Number', 'Percentage', 'Dimension', 'Hash', 'String', 'Operator', 'Function', 'Url', 'Value', 'Parentheses',
]);

/** Checks (and maps the `url()`s of) one declaration's value; false drops the declaration. */
function cleanValue(declaration: Declaration, mapUrl: UrlMapper): boolean {
  const keywords = KEYWORDS[declaration.property.toLowerCase()];
  let ok = declaration.value.type === 'Value';
  walk(declaration.value, (node: CssNode) => {
    if (!ok) {
      return;
    }
    if (!VALUE_NODES.has(node.type)) {
      ok = false;
    } else if (node.type === 'Function') {
      ok = FUNCTIONS.has(node.name.toLowerCase());
    } else if (node.type === 'Url') {
      const mapped = mapUrl(node.value);
      ok = mapped !== null;
      node.value = mapped ?? '';
    } else if (node.type === 'Identifier' && keywords) {
      ok = keywords.has(node.name.toLowerCase());
    }
  });
  return ok;
}

function cleanDeclarations(children: List<CssNode>, mapUrl: UrlMapper): string[] {
  const out: string[] = [];
  children.forEach((node) => {
    if (node.type !== 'Declaration' || !PROPERTIES.has(node.property.toLowerCase()) || !cleanValue(node, mapUrl)) {
      return;
    }
    const text = `${node.property.toLowerCase()}:${generate(node.value)}${node.important ? '!important' : ''}`;
    // A string such as "</style><img onerror>" would make the sanitizer drop the whole <style>; drop just this line.
    if (!/[<>]/.test(text)) {
      out.push(text);
    }
  });
  return out;
}

function cleanRules(children: List<CssNode>, mapUrl: UrlMapper): string[] {
  const out: string[] = [];
  children.forEach((node) => {
    if (node.type === 'Rule' && node.prelude.type === 'SelectorList') {
      const declarations = node.block.children ? cleanDeclarations(node.block.children, mapUrl) : [];
      const selector = generate(node.prelude);
      // A selector is the one place text from the message reaches the output unparsed as a value; keep markup out of it.
      if (declarations.length > 0 && !/[<>]/.test(selector)) {
        out.push(`${selector}{${declarations.join(';')}}`);
      }
      return;
    }
    if (node.type === 'Atrule' && node.name.toLowerCase() === 'media' && node.prelude && node.block) {
      const inner = cleanRules(node.block.children, mapUrl);
      const query = generate(node.prelude);
      if (inner.length > 0 && !/[<>]/.test(query)) {
        out.push(`@media ${query}{${inner.join('')}}`);
      }
    }
  });
  return out;
}

/** A `<style>` element's text, filtered. */
export function filterStylesheet(css: string, mapUrl: UrlMapper): string {
  const ast = parse(css, { context: 'stylesheet', parseValue: true, parseRulePrelude: true, parseAtrulePrelude: true });
  return ast.type === 'StyleSheet' ? cleanRules(ast.children, mapUrl).join('\n') : '';
}

/** A `style` attribute's text, filtered. */
export function filterDeclarations(css: string, mapUrl: UrlMapper): string {
  const ast = parse(css, { context: 'declarationList', parseValue: true });
  return ast.type === 'DeclarationList' ? cleanDeclarations(ast.children, mapUrl).join(';') : '';
}
