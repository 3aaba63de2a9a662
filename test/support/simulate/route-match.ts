// Whether one route matches a request: RouteMatch path specifiers, runtime_fraction, grpc, tls_context,
// HeaderMatcher, query parameters and StringMatcher, with RE2 (full-match) regexes compiled once per pattern.

import { RE2JS } from 're2js';
import type { HeaderMatcher, Route, RouteMatch, VirtualHost } from '../../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { StringMatcher } from '../../../src/xds/gen/envoy/type/matcher/v3/string_pb.js';
import type { Req } from './request.js';
import { Stop } from './stop.js';

/**
 * RouteMatch (route_components.proto): path specifiers see :path without query or fragment; case_sensitive
 * (default true) applies to prefix, path and path_separated_prefix, not to safe_regex, which must match the
 * whole path; every header and query matcher must hold; grpc needs content-type application/grpc[+...].
 * runtime_fraction has no randomness here: only a 0 numerator excludes the route.
 */
export function routeMatches(route: Route, index: number, vh: VirtualHost, req: Req): boolean {
  const where = `virtual host ${vh.name} route ${route.name !== '' ? route.name : `#${index}`}`;
  const m: RouteMatch | undefined = route.match;
  if (m === undefined) throw new Stop('invalid config', `${where}: match is required`);
  const cs = m.caseSensitive ?? true;
  const fold = (s: string): string => (cs ? s : s.toLowerCase());
  const p = m.pathSpecifier;
  switch (p.case) {
    case 'prefix':
      if (!fold(req.pathOnly).startsWith(fold(p.value))) return false;
      break;
    case 'path':
      if (fold(req.pathOnly) !== fold(p.value)) return false;
      break;
    case 'pathSeparatedPrefix': {
      const path = fold(req.pathOnly);
      const pre = fold(p.value);
      if (path !== pre && !path.startsWith(`${pre}/`)) return false;
      break;
    }
    case 'safeRegex':
      if (!regex(p.value.regex, where).matches(req.pathOnly)) return false;
      break;
    case 'connectMatcher':
      if (req.headers.get(':method') !== 'CONNECT') return false;
      break;
    default:
      throw new Stop('unsupported', `${where}: path specifier ${p.case ?? 'unset'}`);
  }
  if (m.dynamicMetadata.length > 0) throw new Stop('unsupported', `${where}: dynamic_metadata match`);
  const rf = m.runtimeFraction?.defaultValue;
  if (rf !== undefined && rf.numerator === 0) return false;
  if (m.grpc !== undefined) {
    const ct = req.headers.get('content-type') ?? '';
    if (ct !== 'application/grpc' && !ct.startsWith('application/grpc+')) return false;
  }
  if (m.tlsContext !== undefined) {
    if (m.tlsContext.presented !== undefined && m.tlsContext.presented !== req.clientCert) return false;
    if (m.tlsContext.validated !== undefined && m.tlsContext.validated !== req.clientCert) return false;
  }
  if (!m.headers.every((h) => headerMatches(h, req.headers, where))) return false;
  return m.queryParameters.every((qp) => {
    const v = firstQueryValue(req.query, qp.name);
    if (v === undefined) return false;
    const s = qp.queryParameterMatchSpecifier;
    if (s.case === 'presentMatch') return s.value;
    if (s.case === 'stringMatch') return stringMatches(s.value, v, where);
    return true;
  });
}

/** The first value of `name`, not URL-decoded (Envoy matches the raw query string). */
function firstQueryValue(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k === name) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

/**
 * HeaderMatcher (route_components.proto; Envoy HeaderUtility::matchHeaders): a missing header fails every rule
 * except present_match:false (or present_match:true when inverted), unless treat_missing_header_as_empty;
 * invert_match flips the result only for a header that is present or treated as empty.
 */
function headerMatches(h: HeaderMatcher, headers: ReadonlyMap<string, string>, where: string): boolean {
  const value = headers.get(h.name.toLowerCase());
  const s = h.headerMatchSpecifier;
  if (value === undefined && !h.treatMissingHeaderAsEmpty) {
    return s.case === 'presentMatch' && s.value === h.invertMatch;
  }
  const v = value ?? '';
  let ok: boolean;
  switch (s.case) {
    case 'exactMatch':
      ok = s.value === '' || v === s.value;
      break;
    case 'safeRegexMatch':
      ok = regex(s.value.regex, where).matches(v);
      break;
    case 'rangeMatch':
      ok = /^[+-]?\d+$/.test(v) && BigInt(v) >= s.value.start && BigInt(v) < s.value.end;
      break;
    case 'presentMatch':
      ok = s.value;
      break;
    case 'prefixMatch':
      ok = v.startsWith(s.value);
      break;
    case 'suffixMatch':
      ok = v.endsWith(s.value);
      break;
    case 'containsMatch':
      ok = v.includes(s.value);
      break;
    case 'stringMatch':
      ok = stringMatches(s.value, v, where);
      break;
    default:
      ok = value !== undefined;
  }
  return ok !== h.invertMatch;
}

/** StringMatcher (type/matcher/v3/string.proto): ignore_case applies to exact/prefix/suffix/contains, not regex. */
function stringMatches(m: StringMatcher, value: string, where: string): boolean {
  const p = m.matchPattern;
  const fold = (s: string): string => (m.ignoreCase ? s.toLowerCase() : s);
  switch (p.case) {
    case 'exact':
      return fold(value) === fold(p.value);
    case 'prefix':
      return fold(value).startsWith(fold(p.value));
    case 'suffix':
      return fold(value).endsWith(fold(p.value));
    case 'contains':
      return fold(value).includes(fold(p.value));
    case 'safeRegex':
      return regex(p.value.regex, where).matches(value);
    default:
      throw new Stop('unsupported', `${where}: string matcher ${p.case ?? 'unset'}`);
  }
}

const regexCache = new Map<string, RE2JS>();

/** RE2 with full-match semantics, as Envoy's safe_regex. */
function regex(pattern: string, where: string): RE2JS {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(pattern);
    } catch (e) {
      throw new Stop('invalid config', `${where}: regex ${JSON.stringify(pattern)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    regexCache.set(pattern, re);
  }
  return re;
}
