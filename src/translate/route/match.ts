// HTTPMatchRequest to Envoy's RouteMatch (pilot/pkg/networking/core/route/route.go TranslateRouteMatch):
// - uri exact -> path, prefix -> prefix, regex -> safe_regex; no match at all is prefix `/`;
//   case_sensitive is set on every translated match (false for `ignoreUriCase`);
// - headers -> header matchers (string_match, or present_match for an empty match or the regex `*`),
//   sorted by name; `withoutHeaders` the same inverted, treating a missing header as empty unless it is a
//   present match; `@request.auth.claims.*` names become dynamic metadata matchers on the JWT payload;
// - method, authority and scheme -> `:method`, `:authority`, `:scheme` header matchers, after the sort;
// - queryParams -> query parameter matchers in the order written.
// Gateway semantics (VirtualServices generated from the Gateway API, model.UseGatewaySemantics): a uri prefix
// other than `/` matches whole path segments, Envoy's path_separated_prefix with a trailing `/` trimmed
// (`/p` matches `/p` and `/p/x`, not `/px`). Proxyless gRPC clients get the same match as the safe_regex
// `<p>(/.*)?`: grpc-js-xds rejects a whole RouteConfiguration with a path_separated_prefix (it accepts only
// prefix, path and safe_regex), where Istio sends path_separated_prefix to every client.

import { create } from '@bufbuild/protobuf';
import type { HTTPMatchRequest, StringMatch } from '../../api/networking/virtual-service.js';
import type { VirtualServiceView } from '../../model/snapshot.js';
import {
  HeaderMatcherSchema,
  QueryParameterMatcherSchema,
  RouteMatchSchema,
  type HeaderMatcher,
  type QueryParameterMatcher,
  type RouteMatch,
} from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { MetadataMatcherSchema, MetadataMatcher_PathSegmentSchema, type MetadataMatcher } from '../../xds/gen/envoy/type/matcher/v3/metadata_pb.js';
import { ListMatcherSchema, OrMatcherSchema, ValueMatcherSchema, type ValueMatcher } from '../../xds/gen/envoy/type/matcher/v3/value_pb.js';
import { isPresentMatch, regexMatcher, stringMatcher } from './string-match.js';

const JWT_CLAIM_HEADER = '@request.auth.claims';
const JWT_FILTER = 'envoy.filters.http.jwt_authn';
const JWT_PAYLOAD = 'payload';

/** The match every route without conditions gets: prefix `/`. */
export function catchAllMatch(): RouteMatch {
  return create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/' } });
}

/** jwt.ToRoutingClaim: the claim path of `@request.auth.claims.a.b` or `@request.auth.claims[a][b]`. */
export function jwtClaimPath(name: string): string[] | undefined {
  if (!name.toLowerCase().startsWith(JWT_CLAIM_HEADER)) return undefined;
  const rest = name.slice(JWT_CLAIM_HEADER.length);
  if (rest.startsWith('.') && rest.length > 1) return rest.slice(1).split('.');
  if (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2) return rest.slice(1, -1).split('][');
  return undefined;
}

/** authz MetadataMatcherForJWTClaims: the claim equals the value, or is a list containing it. */
function jwtClaimMatcher(claims: readonly string[], m: StringMatch): MetadataMatcher {
  const sm = stringMatcher(m);
  const value: ValueMatcher = create(ValueMatcherSchema, sm !== undefined ? { matchPattern: { case: 'stringMatch', value: sm } } : {});
  const list = create(ValueMatcherSchema, { matchPattern: { case: 'listMatch', value: create(ListMatcherSchema, { matchPattern: { case: 'oneOf', value } }) } });
  return create(MetadataMatcherSchema, {
    filter: JWT_FILTER,
    path: [JWT_PAYLOAD, ...claims].map((key) => create(MetadataMatcher_PathSegmentSchema, { segment: { case: 'key', value: key } })),
    value: create(ValueMatcherSchema, { matchPattern: { case: 'orMatch', value: create(OrMatcherSchema, { valueMatchers: [list, value] }) } }),
  });
}

/** translateHeaderMatch */
export function headerMatcher(name: string, m: StringMatch | undefined): HeaderMatcher {
  const out = create(HeaderMatcherSchema, { name });
  if (isPresentMatch(m)) {
    out.headerMatchSpecifier = { case: 'presentMatch', value: true };
    return out;
  }
  const sm = m === undefined ? undefined : stringMatcher(m);
  if (sm !== undefined) out.headerMatchSpecifier = { case: 'stringMatch', value: sm };
  return out;
}

function queryParamMatcher(name: string, m: StringMatch): QueryParameterMatcher {
  const out = create(QueryParameterMatcherSchema, { name });
  if (isPresentMatch(m)) {
    out.queryParameterMatchSpecifier = { case: 'presentMatch', value: true };
    return out;
  }
  const sm = stringMatcher(m);
  if (sm !== undefined) out.queryParameterMatchSpecifier = { case: 'stringMatch', value: sm };
  return out;
}

/** How a VirtualService's matches translate: its semantics, and whether the client is proxyless gRPC. */
export interface MatchOptions {
  readonly semantics?: VirtualServiceView['semantics'];
  readonly proxyless?: boolean;
}

/** Go's regexp.QuoteMeta: `s` as an RE2 pattern matching itself. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** The uri prefix as a path specifier (TranslateRouteMatch's StringMatch_Prefix case). */
function prefixSpecifier(prefix: string, opts: MatchOptions): RouteMatch['pathSpecifier'] {
  if (opts.semantics !== 'gateway' || prefix === '/') return { case: 'prefix', value: prefix };
  const path = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (opts.proxyless === true) return { case: 'safeRegex', value: regexMatcher(`${quoteMeta(path)}(/.*)?`) };
  return { case: 'pathSeparatedPrefix', value: path };
}

/** TranslateRouteMatch */
export function translateRouteMatch(m: HTTPMatchRequest | undefined, opts: MatchOptions = {}): RouteMatch {
  const out = catchAllMatch();
  if (m === undefined) return out;
  for (const [name, sm] of Object.entries(m.headers ?? {})) {
    const claims = jwtClaimPath(name);
    if (claims !== undefined) out.dynamicMetadata.push(jwtClaimMatcher(claims, sm));
    else out.headers.push(headerMatcher(name, sm));
  }
  for (const [name, sm] of Object.entries(m.withoutHeaders ?? {})) {
    const claims = jwtClaimPath(name);
    if (claims !== undefined) {
      const mm = jwtClaimMatcher(claims, sm);
      mm.invert = true;
      out.dynamicMetadata.push(mm);
      continue;
    }
    const hm = headerMatcher(name, sm);
    hm.invertMatch = true;
    if (!isPresentMatch(sm)) hm.treatMissingHeaderAsEmpty = true;
    out.headers.push(hm);
  }
  out.headers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const uri = m.uri;
  if (uri !== undefined) {
    if (uri.exact !== undefined) out.pathSpecifier = { case: 'path', value: uri.exact };
    else if (uri.prefix !== undefined) out.pathSpecifier = prefixSpecifier(uri.prefix, opts);
    else if (uri.regex !== undefined) out.pathSpecifier = { case: 'safeRegex', value: regexMatcher(uri.regex) };
  }
  out.caseSensitive = !(m.ignoreUriCase ?? false);
  if (m.method !== undefined) out.headers.push(headerMatcher(':method', m.method));
  if (m.authority !== undefined) out.headers.push(headerMatcher(':authority', m.authority));
  if (m.scheme !== undefined) out.headers.push(headerMatcher(':scheme', m.scheme));
  for (const [name, sm] of Object.entries(m.queryParams ?? {})) out.queryParameters.push(queryParamMatcher(name, sm));
  return out;
}

/** IsCatchAllRoute: prefix `/` (or regex `.*`) with no header, query or metadata condition. */
export function isCatchAllMatch(m: RouteMatch | undefined): boolean {
  if (m === undefined) return false;
  const p = m.pathSpecifier;
  const all =
    (p.case === 'prefix' && p.value === '/') ||
    (p.case === 'pathSeparatedPrefix' && p.value === '/') ||
    (p.case === 'safeRegex' && p.value.regex === '.*');
  return all && m.headers.length === 0 && m.queryParameters.length === 0 && m.dynamicMetadata.length === 0;
}
