// Where a provider (or a set of providers) finds tokens in a request, compiled once (Envoy's jwt_authn
// ExtractorImpl, source/extensions/filters/http/jwt_authn/extractor.cc): header locations keyed by name
// + value prefix, query parameters and cookies, each with the issuers that configured it (a provider with
// no issuer allows any). A provider naming no location gets `Authorization: Bearer <token>` and the
// `access_token` query parameter. Extraction order is Envoy's: headers (by name+prefix), then parameters,
// then cookies, each sorted by key; the authenticator checks them from the last one back.
// A header value prefix is searched anywhere in the value, and the token is the run of base64url/'.'
// characters after it (extractJWT). Parameters are percent-decoded; cookies lose surrounding quotes.
// Only header locations can be removed (forward: false); Envoy leaves parameters and cookies in place.

import type { HeaderMap } from '../../http/headers.js';
import { headerValue } from '../../http/headers.js';

export interface IssuerCheck {
  readonly any: boolean;
  readonly issuers: ReadonlySet<string>;
}

export interface JwtLocation {
  readonly token: string;
  readonly issuers: IssuerCheck;
  /** The header to remove when the provider does not forward the token; undefined for params and cookies. */
  readonly header: string | undefined;
}

interface HeaderSpec {
  readonly header: string;
  readonly prefix: string;
  readonly issuers: IssuerCheck;
}

interface NamedSpec {
  readonly name: string;
  readonly issuers: IssuerCheck;
}

export interface Extractor {
  readonly headers: readonly HeaderSpec[];
  readonly params: readonly NamedSpec[];
  readonly cookies: readonly NamedSpec[];
  /** forward_payload_header and claim_to_headers names: removed from the request before extraction. */
  readonly sanitize: readonly string[];
}

/** What the extractor needs of a provider. */
export interface ExtractorProvider {
  readonly issuer: string;
  readonly fromHeaders: readonly { readonly name: string; readonly valuePrefix: string }[];
  readonly fromParams: readonly string[];
  readonly fromCookies: readonly string[];
  readonly forwardPayloadHeader: string;
  readonly claimToHeaders: readonly { readonly headerName: string }[];
}

interface MutableCheck {
  any: boolean;
  issuers: Set<string>;
}

function add(m: Map<string, { spec: { header?: string; prefix?: string; name?: string }; check: MutableCheck }>, key: string, spec: { header?: string; prefix?: string; name?: string }, issuer: string): void {
  let e = m.get(key);
  if (e === undefined) {
    e = { spec, check: { any: false, issuers: new Set() } };
    m.set(key, e);
  }
  if (issuer === '') e.check.any = true;
  else e.check.issuers.add(issuer);
}

function byKey<T>(m: Map<string, T>): T[] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

export function compileExtractor(providers: readonly ExtractorProvider[]): Extractor {
  const headers = new Map<string, { spec: { header?: string; prefix?: string }; check: MutableCheck }>();
  const params = new Map<string, { spec: { name?: string }; check: MutableCheck }>();
  const cookies = new Map<string, { spec: { name?: string }; check: MutableCheck }>();
  const sanitize: string[] = [];
  for (const p of providers) {
    for (const h of p.fromHeaders) {
      const header = h.name.toLowerCase();
      add(headers, header + h.valuePrefix, { header, prefix: h.valuePrefix }, p.issuer);
    }
    for (const q of p.fromParams) add(params, q, { name: q }, p.issuer);
    for (const c of p.fromCookies) add(cookies, c, { name: c }, p.issuer);
    if (p.fromHeaders.length === 0 && p.fromParams.length === 0 && p.fromCookies.length === 0) {
      add(headers, 'authorizationBearer ', { header: 'authorization', prefix: 'Bearer ' }, p.issuer);
      add(params, 'access_token', { name: 'access_token' }, p.issuer);
    }
    if (p.forwardPayloadHeader !== '') sanitize.push(p.forwardPayloadHeader.toLowerCase());
    for (const c of p.claimToHeaders) sanitize.push(c.headerName.toLowerCase());
  }
  const freezeCheck = (c: MutableCheck): IssuerCheck => Object.freeze({ any: c.any, issuers: c.issuers });
  return Object.freeze({
    headers: Object.freeze(byKey(headers).map((e) => Object.freeze({ header: e.spec.header ?? '', prefix: e.spec.prefix ?? '', issuers: freezeCheck(e.check) }))),
    params: Object.freeze(byKey(params).map((e) => Object.freeze({ name: e.spec.name ?? '', issuers: freezeCheck(e.check) }))),
    cookies: Object.freeze(byKey(cookies).map((e) => Object.freeze({ name: e.spec.name ?? '', issuers: freezeCheck(e.check) }))),
    sanitize: Object.freeze(sanitize),
  });
}

export function issuerAllowed(c: IssuerCheck, iss: string): boolean {
  return c.any || c.issuers.has(iss);
}

/** Base64url alphabet plus '.', the characters of a compact JWT. */
function isJwtChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95 || c === 46;
}

/** extractor.cc extractJWT: the first run of JWT characters at or after `from`; the whole value when there is none. */
function extractJwt(value: string, from: number): string {
  let start = from;
  while (start < value.length && !isJwtChar(value.charCodeAt(start))) start++;
  if (start >= value.length) return value;
  let end = start;
  while (end < value.length && isJwtChar(value.charCodeAt(end))) end++;
  return value.slice(start, end);
}

function decodeParam(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** The first value of each query parameter (Utility::parseAndDecodeQueryString). */
function queryParams(path: string): Map<string, string> | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  const end = path.indexOf('#', q);
  const query = path.slice(q + 1, end < 0 ? path.length : end);
  const out = new Map<string, string>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decodeParam(eq < 0 ? part : part.slice(0, eq));
    if (!out.has(k)) out.set(k, decodeParam(eq < 0 ? '' : part.slice(eq + 1)));
  }
  return out;
}

/** Utility::parseCookies: `k=v` pairs of every cookie header, first occurrence wins, quotes stripped. */
function cookieValues(headers: HeaderMap): Map<string, string> {
  const out = new Map<string, string>();
  const raw = headers['cookie'];
  const list = raw === undefined ? [] : typeof raw === 'string' ? [raw] : raw;
  for (const line of list)
    for (const pair of line.split(';')) {
      const t = pair.trim();
      const eq = t.indexOf('=');
      if (eq <= 0) continue;
      const k = t.slice(0, eq);
      let v = t.slice(eq + 1);
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      if (!out.has(k)) out.set(k, v);
    }
  return out;
}

export function extractTokens(x: Extractor, headers: HeaderMap, path: string): JwtLocation[] {
  const out: JwtLocation[] = [];
  for (const h of x.headers) {
    const v = headerValue(headers, h.header);
    if (v === undefined) continue;
    if (h.prefix === '') {
      out.push({ token: v, issuers: h.issuers, header: h.header });
      continue;
    }
    const pos = v.indexOf(h.prefix);
    if (pos < 0) continue;
    out.push({ token: extractJwt(v, pos + h.prefix.length), issuers: h.issuers, header: h.header });
  }
  if (x.params.length > 0) {
    const q = queryParams(path);
    if (q !== undefined)
      for (const p of x.params) {
        const v = q.get(p.name);
        if (v !== undefined) out.push({ token: v, issuers: p.issuers, header: undefined });
      }
  }
  if (x.cookies.length > 0 && headers['cookie'] !== undefined) {
    const c = cookieValues(headers);
    for (const k of x.cookies) {
      const v = c.get(k.name);
      if (v !== undefined) out.push({ token: v, issuers: k.issuers, header: undefined });
    }
  }
  return out;
}

export function sanitizeHeaders(x: Extractor, headers: HeaderMap): void {
  for (const h of x.sanitize) delete headers[h];
}
