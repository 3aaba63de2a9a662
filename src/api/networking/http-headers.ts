// networking.istio.io VirtualService HTTP headers: Istio's rules for header names and values (validation.go
// ValidateHTTPHeaderName / ...OperationName / ...Value, and Envoy's header formatter syntax as
// header_value_validator.go ports it), the header operations of a route or destination, and the single
// authority rewrite rule (validateAuthorityRewrite).

import { at, error, type Issue } from '../../lib/issue.js';
import { goQuote } from '../validation/go-format.js';
import type { Headers, HTTPRewrite } from './http-route.js';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;

/** An HTTP header name token (RFC 7230 tchar). */
export function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
const HEADER_VALUE_CHARS = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
const JWT_CLAIM_HEADER = '@request.auth.claims';

/** jwt.ToRoutingClaim(name).Match: `@request.auth.claims.a.b` or `@request.auth.claims[a][b]`. */
export function isJwtClaimRoute(name: string): boolean {
  if (!name.toLowerCase().startsWith(JWT_CLAIM_HEADER)) return false;
  const rest = name.slice(JWT_CLAIM_HEADER.length);
  return (rest.startsWith('.') && rest.length > 1) || (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2);
}

/** A match header name: a valid HTTP header name, a pseudo-header, or a JWT claim route. */
export function headerNameOrJwtClaimErrors(name: string): string[] {
  if (name === '') return ['header name cannot be empty'];
  if (isJwtClaimRoute(name) || PSEUDO_HEADERS.has(name)) return [];
  return HEADER_NAME.test(name) ? [] : [`header name ${name} is not a valid header name`];
}

function isInternalHeader(k: string): boolean {
  return k.startsWith(':') || k.toLowerCase() === 'host';
}

function isAuthorityHeader(k: string): boolean {
  const l = k.toLowerCase();
  return l === ':authority' || l === 'host';
}

/** ValidateHTTPHeaderWithAuthorityOperationName: request add/set may target the authority (checked later). */
function headerWithAuthorityOperationNameErrors(name: string): string[] {
  if (name === '') return ['header name cannot be empty'];
  if (isInternalHeader(name) && !isAuthorityHeader(name)) return [`invalid header ${goQuote(name)}: header cannot have ":" prefix`];
  return [];
}

/** ValidateHTTPHeaderOperationName: request remove and every response operation. */
function headerOperationNameErrors(name: string): string[] {
  if (name === '') return ['header name cannot be empty'];
  if (name.toLowerCase() === 'host') return [`invalid header ${goQuote(name)}: cannot set Host header`];
  if (isInternalHeader(name)) return [`invalid header ${goQuote(name)}: header cannot have ":" prefix`];
  return [];
}

/** Port of Envoy's header formatter parser (validateHeaderValue): `%VAR%`, `%VAR(args)%`, `%%`. */
function headerFormatterError(v: string): string | undefined {
  if (v === '') return undefined;
  type State = 'literal' | 'varName' | 'expectArray' | 'expectString' | 'string' | 'expectDelimOrEnd' | 'expectArgsEnd' | 'expectVarEnd';
  let state: State = 'literal';
  for (let pos = 0; pos < v.length; pos++) {
    const ch = v[pos];
    const hasNext = pos + 1 < v.length;
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (!hasNext) return 'invalid header configuration. Un-escaped %';
        if (v[pos + 1] === '%') {
          pos++;
          break;
        }
        state = 'varName';
        break;
      case 'varName':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'expectArray';
        break;
      case 'expectArray':
        if (ch === '[') state = 'expectString';
        else if (ch !== ' ') state = 'string';
        break;
      case 'expectDelimOrEnd':
        if (ch === ',') state = 'expectString';
        else if (ch === ']') state = 'expectArgsEnd';
        else if (ch !== ' ') return "invalid header configuration. Expecting ',', ']', or whitespace";
        break;
      case 'expectString':
        if (ch === '"') state = 'string';
        else if (ch !== ' ') return `invalid header configuration. Expecting '"'`;
        break;
      case 'string':
        if (ch === '\\') {
          if (!hasNext) return 'invalid header configuration. Un-terminated backslash in JSON string';
          pos++;
        } else if (ch === ')') state = 'expectVarEnd';
        else if (ch === '"') state = 'expectDelimOrEnd';
        break;
      case 'expectArgsEnd':
        if (ch === ')') state = 'expectVarEnd';
        else if (ch !== ' ') return "invalid header configuration. Expecting ')' or whitespace after '{}', but found '{}'";
        break;
      case 'expectVarEnd':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return "invalid header configuration. Expecting '%' or whitespace after";
        break;
    }
  }
  return state === 'literal' ? undefined : `invalid header configuration. Un-terminated variable expression '${v}'`;
}

/** ValidateHTTPHeaderValue */
function headerValueErrors(v: string): string[] {
  if (!HEADER_VALUE_CHARS.test(v)) return [`header value configuration ${v} is invalid`];
  const e = headerFormatterError(v);
  return e === undefined ? [] : [`header value configuration: ${e}`];
}

/** The header operations of a route or of one destination. */
export function headersIssues(path: string, h: Headers | undefined): Issue[] {
  if (h === undefined) return [];
  const out: Issue[] = [];
  const req = at(path, 'request');
  const resp = at(path, 'response');
  for (const op of ['add', 'set'] as const) {
    for (const [k, v] of Object.entries(h.request?.[op] ?? {})) {
      const p = at(at(req, op), k);
      for (const m of headerWithAuthorityOperationNameErrors(k)) out.push(error(p, m));
      for (const m of headerValueErrors(v)) out.push(error(p, m));
    }
  }
  for (const [i, k] of (h.request?.remove ?? []).entries()) for (const m of headerOperationNameErrors(k)) out.push(error(at(at(req, 'remove'), i), m));
  for (const op of ['add', 'set'] as const) {
    for (const [k, v] of Object.entries(h.response?.[op] ?? {})) {
      const p = at(at(resp, op), k);
      for (const m of headerOperationNameErrors(k)) out.push(error(p, m));
      for (const m of headerValueErrors(v)) out.push(error(p, m));
    }
  }
  for (const [i, k] of (h.response?.remove ?? []).entries()) for (const m of headerOperationNameErrors(k)) out.push(error(at(at(resp, 'remove'), i), m));
  return out;
}

/** validateAuthorityRewrite: the authority may be rewritten in one place only (rewrite.authority or a Host/:authority header). */
export function authorityRewriteIssues(path: string, rewrite: HTTPRewrite | undefined, headers: Headers | undefined): Issue[] {
  let current = rewrite?.authority ?? '';
  for (const op of ['set', 'add'] as const) {
    for (const [k, v] of Object.entries(headers?.request?.[op] ?? {})) {
      if (!isAuthorityHeader(k)) continue;
      if (current !== '')
        return [error(at(at(at(at(path, 'headers'), 'request'), op), k), `authority header cannot be set multiple times: have ${goQuote(current)}, attempting to set ${goQuote(v)}`)];
      current = v;
    }
  }
  return [];
}
