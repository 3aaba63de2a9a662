// Envoy matcher messages exactly as istiod shapes them for authorization (pilot/pkg/security/authz/matcher):
// string matchers with Istio's `*` wildcard rules, header/host/path matchers, JWT-claim metadata matchers,
// CIDR ranges and the uri_template path matcher. Pure constructors; they know nothing about policies.

import { create } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import { isIPv4, isIPv6 } from 'node:net';
import { CidrRangeSchema, type CidrRange } from '../../../xds/gen/envoy/config/core/v3/address_pb.js';
import { HeaderMatcherSchema, type HeaderMatcher } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { MetadataMatcherSchema, type MetadataMatcher } from '../../../xds/gen/envoy/type/matcher/v3/metadata_pb.js';
import { PathMatcherSchema, type PathMatcher } from '../../../xds/gen/envoy/type/matcher/v3/path_pb.js';
import { StringMatcherSchema, type StringMatcher } from '../../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { ValueMatcherSchema, type ValueMatcher } from '../../../xds/gen/envoy/type/matcher/v3/value_pb.js';

/** Dynamic metadata namespace and payload key of Envoy's jwt_authn filter (istio filters.EnvoyJwtFilterName/Payload). */
export const JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';
export const JWT_PAYLOAD_KEY = 'payload';

/** Go's regexp.QuoteMeta: escapes exactly `\.+*?()|[]{}^$` (Envoy's RE2 reads the result). */
export function goQuoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

export function stringExact(exact: string, ignoreCase = false): StringMatcher {
  return create(StringMatcherSchema, { ignoreCase, matchPattern: { case: 'exact', value: exact } });
}
export function stringPrefix(prefix: string, ignoreCase = false): StringMatcher {
  return create(StringMatcherSchema, { ignoreCase, matchPattern: { case: 'prefix', value: prefix } });
}
export function stringSuffix(suffix: string, ignoreCase = false): StringMatcher {
  return create(StringMatcherSchema, { ignoreCase, matchPattern: { case: 'suffix', value: suffix } });
}
export function stringRegex(regex: string): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'safeRegex', value: { regex } } });
}

/**
 * matcher.StringMatcherWithPrefix: `*` is presence (regex `.+`, without the prefix), `*x` a suffix (a regex
 * `<prefix>.*x` when a prefix is given), `x*` a prefix, anything else exact; `prefix` is prepended.
 */
export function stringMatcherWithPrefix(v: string, prefix: string): StringMatcher {
  if (v === '*') return stringRegex('.+');
  if (v.startsWith('*')) return prefix === '' ? stringSuffix(v.slice(1)) : stringRegex(`${prefix}.*${goQuoteMeta(v.slice(1))}`);
  if (v.endsWith('*')) return stringPrefix(prefix + v.slice(0, -1));
  return stringExact(prefix + v);
}

export function stringMatcher(v: string): StringMatcher {
  return stringMatcherWithPrefix(v, '');
}

export function valueString(m: StringMatcher): ValueMatcher {
  return create(ValueMatcherSchema, { matchPattern: { case: 'stringMatch', value: m } });
}

/** matcher.OrMatcher: a single matcher is returned as is. */
export function valueOr(matchers: ValueMatcher[]): ValueMatcher {
  if (matchers.length === 1 && matchers[0] !== undefined) return matchers[0];
  return create(ValueMatcherSchema, { matchPattern: { case: 'orMatch', value: { valueMatchers: matchers } } });
}

/** matcher.StringOrMatcher. */
export function stringOrValueMatcher(values: readonly string[]): ValueMatcher {
  return valueOr(values.map((v) => valueString(stringMatcher(v))));
}

function headerWildcard(name: string, v: string, ignoreCase: boolean): HeaderMatcher {
  // `*` first: an empty prefix/suffix is invalid in a HeaderMatcher.
  if (v === '*') return create(HeaderMatcherSchema, { name, headerMatchSpecifier: { case: 'presentMatch', value: true } });
  const sm = v.startsWith('*') ? stringSuffix(v.slice(1), ignoreCase) : v.endsWith('*') ? stringPrefix(v.slice(0, -1), ignoreCase) : stringExact(v, ignoreCase);
  return create(HeaderMatcherSchema, { name, headerMatchSpecifier: { case: 'stringMatch', value: sm } });
}

/** matcher.HeaderMatcher: case-sensitive value, `*` presence, leading/trailing `*` suffix/prefix. */
export function headerMatcher(name: string, v: string): HeaderMatcher {
  return headerWildcard(name, v, false);
}

/** matcher.HostMatcher: as headerMatcher but case-insensitive (hosts compare without case). */
export function hostMatcher(name: string, v: string): HeaderMatcher {
  return headerWildcard(name, v, true);
}

/** matcher.PathMatcher. */
export function pathMatcher(path: string): PathMatcher {
  return create(PathMatcherSchema, { rule: { case: 'path', value: stringMatcher(path) } });
}

export const URI_TEMPLATE_TYPE_URL = 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig';

/** security.ContainsPathTemplate. */
export function containsPathTemplate(path: string): boolean {
  return path.includes('{*}') || path.includes('{**}');
}

/**
 * matcher.PathTemplateMatcher packed as Istio packs it: UriTemplateMatchConfig{path_template} with `{*}` -> `*`
 * and `{**}` -> `**`. The message has one string field (1), so it is encoded here directly: its generated type is
 * not in src/xds/gen (envoy/extensions/path/match/uri_template/v3 is not in scripts/gen-xds.mjs).
 */
export function uriTemplateAny(path: string): Any {
  const template = path.replaceAll('{**}', '**').replaceAll('{*}', '*');
  const value = new BinaryWriter().tag(1, WireType.LengthDelimited).string(template).finish();
  return create(AnySchema, { typeUrl: URI_TEMPLATE_TYPE_URL, value });
}

/** Reads back the template of an Any made by uriTemplateAny (for tests and `authz eval`). */
export function uriTemplateOf(any: Any): string | undefined {
  if (any.typeUrl !== URI_TEMPLATE_TYPE_URL) return undefined;
  const b = any.value;
  if (b[0] !== 0x0a) return undefined;
  let len = 0;
  let shift = 0;
  let i = 1;
  for (; i < b.length; i++) {
    const byte = b[i] ?? 0;
    len |= (byte & 0x7f) << shift;
    shift += 7;
    if ((byte & 0x80) === 0) break;
  }
  return new TextDecoder().decode(b.subarray(i + 1, i + 1 + len));
}

function keyPath(keys: readonly string[]): { segment: { case: 'key'; value: string } }[] {
  return keys.map((k) => ({ segment: { case: 'key' as const, value: k } }));
}

/** matcher.MetadataValueMatcher: one key under `filter`. */
export function metadataValueMatcher(filter: string, key: string, value: ValueMatcher): MetadataMatcher {
  return create(MetadataMatcherSchema, { filter, path: keyPath([key]), value });
}

/**
 * matcher.MetadataListValueMatcher. With `extendedJwt` (always, for JWT claims) the value matches either a list
 * containing a match or the scalar itself: `or(list.one_of(v), v)`.
 */
export function metadataListValueMatcher(filter: string, keys: readonly string[], value: ValueMatcher, extendedJwt: boolean): MetadataMatcher {
  const list = create(ValueMatcherSchema, { matchPattern: { case: 'listMatch', value: { matchPattern: { case: 'oneOf', value } } } });
  const v = extendedJwt ? create(ValueMatcherSchema, { matchPattern: { case: 'orMatch', value: { valueMatchers: [list, value] } } }) : list;
  return create(MetadataMatcherSchema, { filter, path: keyPath(keys), value: v });
}

/** model.MetadataStringMatcherForJWTClaim: `payload.<claim>` compared as a string. */
export function jwtClaimStringMatcher(claim: string, m: StringMatcher): MetadataMatcher {
  return create(MetadataMatcherSchema, { filter: JWT_AUTHN_FILTER, path: keyPath([JWT_PAYLOAD_KEY, claim]), value: valueString(m) });
}

/** model.MetadataListValueMatcherForJWTClaims: `payload.<claims...>` as list-or-scalar. */
export function jwtClaimsListMatcher(claims: readonly string[], value: ValueMatcher): MetadataMatcher {
  return metadataListValueMatcher(JWT_AUTHN_FILTER, [JWT_PAYLOAD_KEY, ...claims], value, true);
}

/** IPv6 text in Go netip's canonical form (RFC 5952: lowercase, longest zero run compressed). */
function canonicalIPv6(addr: string): string {
  const host = new URL(`http://[${addr}]/`).hostname;
  return host.slice(1, -1);
}

/** util.AddrStrToCidrRange: `a.b.c.d` -> /32, IPv6 -> /128, `addr/len` unmasked; undefined when unparsable. */
export function cidrRange(addr: string): CidrRange | undefined {
  if (addr === '') return undefined;
  const slash = addr.indexOf('/');
  const ip = slash < 0 ? addr : addr.slice(0, slash);
  const v4 = isIPv4(ip);
  if (!v4 && !isIPv6(ip)) return undefined;
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const s = addr.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(s)) return undefined;
    bits = Number(s);
    if (bits > max) return undefined;
  }
  return create(CidrRangeSchema, { addressPrefix: v4 ? ip : canonicalIPv6(ip), prefixLen: bits });
}
