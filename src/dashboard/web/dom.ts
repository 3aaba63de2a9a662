// Element builders for the web app, over the browser's own DOM types (this folder is type-checked with
// the DOM library by its own tsconfig.json; the rest of src/ is a Node program without it).

export type El = Element;
export type InputEl = HTMLInputElement;
export type Ev = Event;

export const doc: Document = document;
export const win: Window = window;

type Attrs = Readonly<Record<string, string | number | undefined>>;
type Child = El | string | undefined | false;

function fill<E extends Element>(el: E, attrs: Attrs, children: readonly Child[]): E {
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) if (c !== undefined && c !== false) el.append(c);
  return el;
}

/** An HTML element: `h('a', { href: '/graph', 'data-testid': 'nav-graph' }, 'Graph')`. */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  return fill(doc.createElement(tag), attrs, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element. */
export function s(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  return fill(doc.createElementNS(SVG_NS, tag), attrs, children);
}
