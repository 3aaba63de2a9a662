// URI templates: the envoy.path.match.uri_template matcher (`/videos/{id}/{file=**}.mp4`) and the
// envoy.path.rewrite.uri_template rewriter (`/v2/{file}`), with Envoy's parser rules:
// `*` one segment, `**` zero or more segments (no glob after it), `{x}` = `{x=*}`, `{x=**}`,
// `{x=a/*/b}`, a literal suffix after the last segment, at most 5 variables of 1..16 characters.
// Segments are RFC 3986 pchars without `*` and `=`. The rewrite uses only variables the match defines.
// Envoy: source/extensions/path/uri_template_lib/uri_template_internal.cc and uri_template.cc;
// docs api-v3/extensions/path/match/uri_template/v3/uri_template_match.proto.
// Neither config proto is generated here, so the Any is decoded by hand (one string field, number 1).

import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { Any } from '@bufbuild/protobuf/wkt';

export const URI_TEMPLATE_MATCH_TYPE = 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig';
export const URI_TEMPLATE_REWRITE_TYPE = 'type.googleapis.com/envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig';

const PCHAR = "a-zA-Z0-9\\-._~%!$&'()+,;:@";
const PATH_GLOB = `[${PCHAR}]+`;
const TEXT_GLOB = `[${PCHAR}/]*`;
const LITERAL = new RegExp(`^[${PCHAR}]+$`);
const REWRITE_LITERAL = new RegExp(`^[${PCHAR}/]+$`);
const VARIABLE_NAME = /^[a-zA-Z][a-zA-Z0-9_]*$/;
const MAX_VARIABLES = 5;
const MAX_VARIABLE_NAME = 16;

export interface UriTemplate {
  readonly template: string;
  /** Variable names in capture-group order (group i + 1). */
  readonly variables: readonly string[];
  /** Captures of `pathOnly`, or undefined when it does not match the whole template. */
  exec(pathOnly: string): RegExpExecArray | null;
}

export type UriRewrite = readonly (string | number)[];

/** The string field 1 of an Any's payload (both template configs have exactly that). */
export function decodeTemplateAny(any: Any, typeUrl: string): { ok: true; value: string } | { ok: false; reason: string } {
  if (any.typeUrl !== typeUrl) return { ok: false, reason: `unsupported type ${JSON.stringify(any.typeUrl)} (want ${typeUrl})` };
  try {
    const r = new BinaryReader(any.value);
    let value = '';
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WireType.LengthDelimited) value = r.string();
      else r.skip(wt, no);
    }
    return { ok: true, value };
  } catch (e) {
    return { ok: false, reason: `cannot decode ${typeUrl}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

type Segment = { kind: 'literal'; text: string } | { kind: 'glob'; text: boolean } | { kind: 'variable'; name: string; match: readonly Segment[] };

function escape(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

function toRegex(s: Segment): string {
  switch (s.kind) {
    case 'literal':
      return escape(s.text);
    case 'glob':
      return s.text ? TEXT_GLOB : PATH_GLOB;
    case 'variable':
      return `(${s.match.length === 0 ? PATH_GLOB : s.match.map(toRegex).join('/')})`;
  }
}

/** Parses one `*`/`**`/literal piece; returns it and the rest. */
function consumePiece(p: string): [Segment, string] | string {
  if (p.startsWith('**')) return [{ kind: 'glob', text: true }, p.slice(2)];
  if (p.startsWith('*')) return [{ kind: 'glob', text: false }, p.slice(1)];
  const slash = p.indexOf('/');
  const lit = slash < 0 ? p : p.slice(0, slash);
  if (!LITERAL.test(lit)) return `invalid literal ${JSON.stringify(lit)}`;
  return [{ kind: 'literal', text: lit }, p.slice(lit.length)];
}

function consumeVariable(p: string): [Segment, string] | string {
  const close = p.indexOf('}');
  if (close < 0) return 'unmatched variable bracket';
  const body = p.slice(1, close);
  const eq = body.indexOf('=');
  const name = eq < 0 ? body : body.slice(0, eq);
  if (!VARIABLE_NAME.test(name)) return `invalid variable name ${JSON.stringify(name)}`;
  const match: Segment[] = [];
  if (eq >= 0) {
    let vp = body.slice(eq + 1);
    if (vp === '') return `empty match for variable ${name}`;
    while (vp !== '') {
      const r = consumePiece(vp);
      if (typeof r === 'string') return r;
      match.push(r[0]);
      vp = r[1];
      if (vp !== '') {
        if (vp[0] !== '/' || vp.length === 1) return `invalid match for variable ${name}`;
        vp = vp.slice(1);
      }
    }
  }
  return [{ kind: 'variable', name, match }, p.slice(close + 1)];
}

/** Parses a path_template; a string is the reason it is invalid. */
export function parseUriTemplate(template: string): UriTemplate | string {
  if (!/^\/[!-~]*$/.test(template)) return 'must start with / and contain only printable characters';
  const segments: Segment[] = [];
  let suffix = '';
  let p = template.slice(1);
  while (p !== '') {
    const r = p[0] === '{' ? consumeVariable(p) : consumePiece(p);
    if (typeof r === 'string') return r;
    segments.push(r[0]);
    p = r[1];
    if (p === '') break;
    if (p === '/') {
      segments.push({ kind: 'literal', text: '' });
      break;
    }
    if (p[0] === '/') {
      p = p.slice(1);
      continue;
    }
    const slash = p.indexOf('/');
    if (slash >= 0) return 'a suffix must end the template';
    if (!LITERAL.test(p)) return `invalid suffix ${JSON.stringify(p)}`;
    suffix = p;
    break;
  }
  const variables: string[] = [];
  let seenTextGlob = false;
  const globs = (s: Segment): Segment[] => (s.kind === 'glob' ? [s] : s.kind === 'variable' ? (s.match.length === 0 ? [{ kind: 'glob', text: false }] : s.match.filter((m) => m.kind === 'glob')) : []);
  for (const s of segments) {
    if (s.kind === 'variable') {
      if (variables.length >= MAX_VARIABLES) return `more than ${MAX_VARIABLES} variables`;
      if (s.name.length > MAX_VARIABLE_NAME) return `variable name ${JSON.stringify(s.name)} is longer than ${MAX_VARIABLE_NAME} characters`;
      if (variables.includes(s.name)) return `repeated variable name ${JSON.stringify(s.name)}`;
      variables.push(s.name);
    }
    for (const g of globs(s)) {
      if (seenTextGlob) return 'no glob may follow **';
      seenTextGlob = g.kind === 'glob' && g.text;
    }
  }
  const re = new RegExp(`^/${segments.map(toRegex).join('/')}${escape(suffix)}$`);
  return Object.freeze({ template, variables: Object.freeze(variables), exec: (path: string) => re.exec(path) });
}

/** Parses a path_template_rewrite against the variables of the match template. */
export function parseUriRewrite(rewrite: string, match: UriTemplate): UriRewrite | string {
  if (rewrite === '' || rewrite[0] !== '/') return 'must start with /';
  if (rewrite.includes('//')) return 'must not contain //';
  const parts: (string | number)[] = [];
  let p = rewrite;
  while (p !== '') {
    const open = p.indexOf('{');
    const lit = open < 0 ? p : p.slice(0, open);
    if (lit !== '') {
      if (!REWRITE_LITERAL.test(lit)) return `invalid literal ${JSON.stringify(lit)}`;
      parts.push(lit);
    }
    if (open < 0) break;
    const close = p.indexOf('}', open);
    if (close < 0) return 'unmatched variable bracket';
    const name = p.slice(open + 1, close);
    if (!VARIABLE_NAME.test(name)) return `invalid variable name ${JSON.stringify(name)}`;
    const index = match.variables.indexOf(name);
    if (index < 0) return `variable ${JSON.stringify(name)} is not in the match template ${JSON.stringify(match.template)}`;
    parts.push(index + 1);
    p = p.slice(close + 1);
  }
  return Object.freeze(parts);
}

/** The rewritten path for a path that matched the template, or undefined when it does not match. */
export function applyUriRewrite(match: UriTemplate, rewrite: UriRewrite, pathOnly: string): string | undefined {
  const m = match.exec(pathOnly);
  if (m === null) return undefined;
  let out = '';
  for (const part of rewrite) out += typeof part === 'number' ? (m[part] ?? '') : part;
  return out;
}
