// HTTPRoute/GRPCRoute filters as VirtualService HTTP route fields (pilot/pkg/config/kube/gateway/
// conversion.go createRedirectFilter, createRewriteFilter, createMirrorFilter, createCorsFilter):
// - RequestRedirect: status code, hostname (authority), scheme, port (absent: the request's port, or the
//   scheme's default when the scheme changes), ReplaceFullPath -> uri, ReplacePrefixMatch -> prefixRewrite;
// - URLRewrite: ReplacePrefixMatch -> uri (a trailing `/` dropped; `/` alone removes the prefix),
//   ReplaceFullPath -> uriRegexRewrite `/.*`, hostname -> authority;
// - RequestMirror: a mirror destination with its percentage (fraction as a percentage);
// - CORS: origins as exact / prefix / regex matches (a bare `*` is any valid origin), unmatched preflights
//   ignored.

import type { HTTPRequestMirrorFilter } from '../../api/gateway-api/common.js';
import type { HTTPCORSFilter, HTTPRequestRedirectFilter, HTTPURLRewriteFilter } from '../../api/gateway-api/http-route.js';
import type { CorsPolicy, HTTPMirrorPolicy, HTTPRedirect, HTTPRewrite, StringMatch } from '../../api/networking/virtual-service.js';
import type { ConfigError } from './conditions.js';
import { buildDestination, type BackendScope } from './backends.js';

export function redirectOf(f: HTTPRequestRedirectFilter): HTTPRedirect {
  const out: HTTPRedirect = {};
  if (f.statusCode !== undefined) out.redirectCode = f.statusCode;
  if (f.hostname !== undefined) out.authority = f.hostname;
  if (f.scheme !== undefined) out.scheme = f.scheme;
  if (f.port !== undefined) out.port = f.port;
  else out.derivePort = f.scheme !== undefined ? 'FROM_PROTOCOL_DEFAULT' : 'FROM_REQUEST_PORT';
  if (f.path?.type === 'ReplaceFullPath' && f.path.replaceFullPath !== undefined) out.uri = f.path.replaceFullPath;
  else if (f.path?.type === 'ReplacePrefixMatch' && f.path.replacePrefixMatch !== undefined) out.prefixRewrite = f.path.replacePrefixMatch;
  return out;
}

export function rewriteOf(f: HTTPURLRewriteFilter): HTTPRewrite | undefined {
  const out: HTTPRewrite = {};
  if (f.path?.type === 'ReplacePrefixMatch' && f.path.replacePrefixMatch !== undefined) {
    const trimmed = f.path.replacePrefixMatch.endsWith('/') ? f.path.replacePrefixMatch.slice(0, -1) : f.path.replacePrefixMatch;
    out.uri = trimmed === '' ? '/' : trimmed;
  } else if (f.path?.type === 'ReplaceFullPath' && f.path.replaceFullPath !== undefined) {
    out.uriRegexRewrite = { match: '/.*', rewrite: f.path.replaceFullPath };
  }
  if (f.hostname !== undefined) out.authority = f.hostname;
  return out.uri === undefined && out.uriRegexRewrite === undefined && out.authority === undefined ? undefined : out;
}

/** createMirrorFilter; any error leaves the mirror out. */
export function mirrorOf(scope: BackendScope, f: HTTPRequestMirrorFilter, path: string): HTTPMirrorPolicy | ConfigError {
  const r = buildDestination(scope, f.backendRef, path);
  if (!r.ok) return r.error;
  if (r.invalid !== undefined) return r.invalid;
  const out: HTTPMirrorPolicy = { destination: r.destination };
  if (f.fraction !== undefined) out.percentage = { value: (100 * f.fraction.numerator) / (f.fraction.denominator ?? 100) };
  else if (f.percent !== undefined) out.percentage = { value: f.percent };
  return out;
}

/** Go's regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

const ANY_ORIGIN = '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/\\s?#]+$';

function originMatch(o: string): StringMatch {
  if (o === '*') return { regex: ANY_ORIGIN };
  if (!o.includes('*')) return { exact: o };
  if (o.indexOf('*') === o.length - 1) return { prefix: o.slice(0, -1) };
  return { regex: `^${quoteMeta(o).replaceAll('\\*', '.*')}$` };
}

export function corsOf(f: HTTPCORSFilter): CorsPolicy {
  const out: CorsPolicy = {};
  const origins = (f.allowOrigins ?? []).filter((o) => o !== '').map(originMatch);
  if (origins.length > 0) out.allowOrigins = origins;
  if (f.allowCredentials === true) out.allowCredentials = true;
  if ((f.allowMethods ?? []).length > 0) out.allowMethods = [...(f.allowMethods ?? [])];
  if ((f.allowHeaders ?? []).length > 0) out.allowHeaders = [...(f.allowHeaders ?? [])];
  if ((f.exposeHeaders ?? []).length > 0) out.exposeHeaders = [...(f.exposeHeaders ?? [])];
  if ((f.maxAge ?? 0) > 0) out.maxAge = `${f.maxAge ?? 0}s`;
  out.unmatchedPreflights = 'IGNORE';
  return out;
}
