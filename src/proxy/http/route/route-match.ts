// envoy.config.route.v3.RouteMatch compiled into one predicate over a request, in Envoy's order
// (RouteEntryImplBase::matchRoute, then the path): runtime_fraction, grpc, headers, query parameters,
// then the path specifier. CONNECT routes check the method first.
// The path is matched without query string and fragment; prefix, path and path_separated_prefix honour
// case_sensitive (default true), safe_regex and uri templates do not.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routematch
// Matching on TLS context or dynamic metadata needs connection state the route table is not given, so
// such routes are problems rather than silently wider matches.

import type { RouteMatch } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { asciiLower, equalsIgnoreCase, startsWithIgnoreCase } from './ascii.js';
import { compileHeaderMatchers, compileQueryParameterMatcher, type CompiledHeaderMatcher, type CompiledQueryParameterMatcher } from './header-matcher.js';
import { compileFraction, fractionHit, ALWAYS } from './proto-values.js';
import { compileRegex } from './regex.js';
import type { RequestView } from './request-view.js';
import type { Fraction } from './types.js';
import { decodeTemplateAny, parseUriTemplate, URI_TEMPLATE_MATCH_TYPE, type UriTemplate } from './uri-template.js';

export type PathSpecifierKind = 'prefix' | 'path' | 'safeRegex' | 'connectMatcher' | 'pathSeparatedPrefix' | 'pathMatchPolicy';

export interface CompiledRouteMatch {
  readonly kind: PathSpecifierKind;
  /**
   * How much of the path prefix_rewrite replaces: the configured prefix/path length, or undefined for
   * the whole path without query (safe_regex and CONNECT routes).
   */
  readonly matchedLength: number | undefined;
  /** The match template of a uri_template route (path_template_rewrite needs it). */
  readonly template: UriTemplate | undefined;
  matches(req: RequestView): boolean;
}

type PathTest = (req: RequestView) => boolean;

const NEVER: PathTest = () => false;
const PATH_SEPARATED_PREFIX = /^[^?#]+[^?#/]$/;

/** Grpc::Common::isGrpcRequestHeaders: content-type is application/grpc or application/grpc+... */
export function isGrpcRequest(req: RequestView): boolean {
  const ct = req.header('content-type');
  if (ct === undefined || !ct.startsWith('application/grpc')) return false;
  return ct.length === 16 || ct.charCodeAt(16) === 43 /* + */;
}

function pathTest(m: RouteMatch, path: string, problems: string[]): { test: PathTest; matchedLength: number | undefined; template: UriTemplate | undefined } {
  const caseSensitive = m.caseSensitive ?? true;
  const s = m.pathSpecifier;
  switch (s.case) {
    case 'prefix': {
      const prefix = caseSensitive ? s.value : asciiLower(s.value);
      const test: PathTest = caseSensitive ? (r) => r.matchPath.startsWith(prefix) : (r) => startsWithIgnoreCase(r.matchPath, prefix);
      return { test, matchedLength: prefix.length, template: undefined };
    }
    case 'path': {
      const want = caseSensitive ? s.value : asciiLower(s.value);
      const test: PathTest = caseSensitive ? (r) => r.matchPath === want : (r) => equalsIgnoreCase(r.matchPath, want);
      return { test, matchedLength: want.length, template: undefined };
    }
    case 'pathSeparatedPrefix': {
      if (!PATH_SEPARATED_PREFIX.test(s.value)) {
        problems.push(`${path}.path_separated_prefix: must not contain ? or # and must not end with / (got ${JSON.stringify(s.value)})`);
        return { test: NEVER, matchedLength: undefined, template: undefined };
      }
      const prefix = caseSensitive ? s.value : asciiLower(s.value);
      const n = prefix.length;
      const test: PathTest = (r) => {
        const p = r.matchPath;
        if (p.length < n || !(caseSensitive ? p.startsWith(prefix) : startsWithIgnoreCase(p, prefix))) return false;
        return p.length === n || p.charCodeAt(n) === 47 /* / */;
      };
      return { test, matchedLength: n, template: undefined };
    }
    case 'safeRegex': {
      const r = compileRegex(s.value.regex);
      if (!r.ok) {
        problems.push(`${path}.safe_regex.regex: ${r.reason}`);
        return { test: NEVER, matchedLength: undefined, template: undefined };
      }
      const re = r.regex;
      return { test: (req) => re.fullMatch(req.matchPath), matchedLength: undefined, template: undefined };
    }
    case 'connectMatcher':
      return { test: (r) => r.input.method === 'CONNECT', matchedLength: undefined, template: undefined };
    case 'pathMatchPolicy': {
      const cfg = s.value.typedConfig;
      const decoded = cfg === undefined ? ({ ok: false, reason: 'typed_config must be set' } as const) : decodeTemplateAny(cfg, URI_TEMPLATE_MATCH_TYPE);
      if (!decoded.ok) {
        problems.push(`${path}.path_match_policy: ${decoded.reason}`);
        return { test: NEVER, matchedLength: undefined, template: undefined };
      }
      const t = parseUriTemplate(decoded.value);
      if (typeof t === 'string') {
        problems.push(`${path}.path_match_policy.typed_config.path_template: ${JSON.stringify(decoded.value)}: ${t}`);
        return { test: NEVER, matchedLength: undefined, template: undefined };
      }
      return { test: (r) => t.exec(r.pathOnly) !== null, matchedLength: undefined, template: t };
    }
    case undefined:
      problems.push(`${path}: one of prefix, path, safe_regex, connect_matcher, path_separated_prefix or path_match_policy must be set`);
      return { test: NEVER, matchedLength: undefined, template: undefined };
  }
}

class RouteMatchImpl implements CompiledRouteMatch {
  constructor(
    readonly kind: PathSpecifierKind,
    readonly matchedLength: number | undefined,
    readonly template: UriTemplate | undefined,
    private readonly fraction: Fraction | undefined,
    private readonly grpc: boolean,
    private readonly headers: readonly CompiledHeaderMatcher[],
    private readonly query: readonly CompiledQueryParameterMatcher[],
    private readonly path: PathTest,
  ) {}

  matches(req: RequestView): boolean {
    if (this.kind === 'connectMatcher' && !this.path(req)) return false;
    if (this.fraction !== undefined && !fractionHit(this.fraction, req.randomValue)) return false;
    if (this.grpc && !isGrpcRequest(req)) return false;
    for (const h of this.headers) if (!h.matches(req)) return false;
    for (const q of this.query) if (!q.matches(req)) return false;
    return this.kind === 'connectMatcher' || this.path(req);
  }
}

/** Compiles a route's match; `path` is the field path of the RouteMatch for problems. */
export function compileRouteMatch(m: RouteMatch | undefined, path: string, problems: string[]): CompiledRouteMatch {
  if (m === undefined) {
    problems.push(`${path}: must be set`);
    return new RouteMatchImpl('prefix', undefined, undefined, undefined, false, [], [], NEVER);
  }
  const p = pathTest(m, path, problems);
  let fraction: Fraction | undefined;
  if (m.runtimeFraction !== undefined) {
    if (m.runtimeFraction.defaultValue === undefined) problems.push(`${path}.runtime_fraction.default_value: must be set`);
    fraction = compileFraction(m.runtimeFraction.defaultValue, ALWAYS);
  }
  const headers = compileHeaderMatchers(m.headers, `${path}.headers`, problems);
  const query = Object.freeze(m.queryParameters.map((q, i) => compileQueryParameterMatcher(q, `${path}.query_parameters[${i}]`, problems)));
  if (m.tlsContext !== undefined && (m.tlsContext.presented !== undefined || m.tlsContext.validated !== undefined)) {
    problems.push(`${path}.tls_context: matching on the client certificate is not supported`);
  }
  if (m.dynamicMetadata.length > 0) problems.push(`${path}.dynamic_metadata: matching on dynamic metadata is not supported`);
  return new RouteMatchImpl(m.pathSpecifier.case ?? 'prefix', p.matchedLength, p.template, fraction, m.grpc !== undefined, headers, query, p.test);
}
