// One generator per AuthorizationPolicy attribute (source.*, request.*, destination.*, connection.sni, ...), turning
// a value into an Envoy RBAC principal or permission as istiod's pilot/pkg/security/authz/model/generator.go does.
// A generator answers with an error reason instead of a node when the attribute cannot be expressed: HTTP-only
// attributes on a TCP filter chain, malformed values. What an error means (skip the rule or the value) is the
// rule model's decision, not the generator's.

import type { Permission, Principal } from '../../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import type { ValueMatcher } from '../../../xds/gen/envoy/type/matcher/v3/value_pb.js';
import { create } from '@bufbuild/protobuf';
import { ValueMatcherSchema } from '../../../xds/gen/envoy/type/matcher/v3/value_pb.js';
import {
  cidrRange, containsPathTemplate, goQuoteMeta, headerMatcher, hostMatcher, jwtClaimStringMatcher, jwtClaimsListMatcher,
  metadataValueMatcher, pathMatcher, stringExact, stringMatcher, stringMatcherWithPrefix,
  stringOrValueMatcher, stringPrefix, stringRegex, stringSuffix, uriTemplateAny, valueOr, valueString,
} from './matchers.js';
import {
  permissionDestinationIp, permissionDestinationPort, permissionHeader, permissionMetadata, permissionRequestedServerName,
  permissionUriTemplate, permissionUrlPath, principalAnd, principalAuthenticated, principalDirectRemoteIp, principalHeader,
  principalMetadata, principalOr, principalRemoteIp,
} from './rbac-nodes.js';

/** A node, nothing (the value adds no condition), or the reason it cannot be generated. */
export type Generated<T> = { readonly ok: true; readonly value: T | undefined } | { readonly ok: false; readonly reason: string };

/** Generates one node per value; the rule model ORs them. */
export interface ValueGenerator {
  readonly kind: 'value';
  permission(key: string, value: string, forTCP: boolean): Generated<Permission>;
  principal(key: string, value: string, forTCP: boolean, useAuthenticated: boolean): Generated<Principal>;
}

/** Generates one node for all values at once (JWT claims, metadata): Istio's extendedGenerator. */
export interface ListGenerator {
  readonly kind: 'list';
  permission(key: string, values: readonly string[], forTCP: boolean): Generated<Permission>;
  principal(key: string, values: readonly string[], forTCP: boolean): Generated<Principal>;
}

export type AttributeGenerator = ValueGenerator | ListGenerator;

const ok = <T>(value: T | undefined): Generated<T> => ({ ok: true, value });
const fail = <T>(reason: string): Generated<T> => ({ ok: false, reason });
const unimplemented = <T>(): Generated<T> => fail('unimplemented');
const httpOnly = <T>(key: string): Generated<T> => fail(`${JSON.stringify(key)} is HTTP only`);
const SPIFFE_PREFIX = 'spiffe://';

function permissionOnly(f: (key: string, value: string, forTCP: boolean) => Generated<Permission>): ValueGenerator {
  return { kind: 'value', permission: f, principal: unimplemented };
}
function principalOnly(f: (key: string, value: string, forTCP: boolean, useAuthenticated: boolean) => Generated<Principal>): ValueGenerator {
  return { kind: 'value', permission: unimplemented, principal: f };
}

/** model.convertToPort: strconv.ParseUint(v, 10, 32) and <= 65535. */
export function convertToPort(v: string): number | undefined {
  if (!/^[0-9]+$/.test(v)) return undefined;
  const p = Number(v);
  return p > 65535 ? undefined : p;
}

/** model.extractNameInBrackets: `[name]` -> `name`. */
export function extractNameInBrackets(s: string): string | undefined {
  if (!s.startsWith('[') || !s.endsWith(']')) return undefined;
  return s.slice(1, -1);
}

/** model.extractNameInNestedBrackets: `[a][b]` -> [a, b]; a single `[a[b]]`-like form falls back to one name. */
export function extractNameInNestedBrackets(s: string): string[] | undefined {
  const claims: string[] = [];
  const findEnd = (begin: number): number => {
    if (begin >= s.length || s[begin] !== '[') return -1;
    for (let i = begin + 1; i < s.length; i++) {
      if (s[i] === '[') return -1;
      if (s[i] === ']') return i;
    }
    return -1;
  };
  for (let begin = 0; begin < s.length; ) {
    const end = findEnd(begin);
    if (end === -1) {
      const one = extractNameInBrackets(s);
      return one === undefined ? undefined : [one];
    }
    claims.push(s.slice(begin + 1, end));
    begin = end + 1;
  }
  return claims;
}

const cidrOr = <T>(value: string, f: (c: NonNullable<ReturnType<typeof cidrRange>>) => T): Generated<T> => {
  const c = cidrRange(value);
  return c === undefined ? fail(`invalid IP address or CIDR range ${JSON.stringify(value)}`) : ok(f(c));
};

export const destIpGenerator = permissionOnly((_k, v) => cidrOr(v, permissionDestinationIp));

export const destPortGenerator = permissionOnly((_k, v) => {
  const p = convertToPort(v);
  return p === undefined ? fail(`invalid port ${v}`) : ok(permissionDestinationPort(p));
});

export const connSniGenerator = permissionOnly((_k, v) => ok(permissionRequestedServerName(stringMatcher(v))));

/** `experimental.envoy.filters.a.b[c]` -> filter `envoy.filters.a.b`, key `c`. */
function envoyFilterKey(key: string): [string, string] | undefined {
  let k = key.startsWith('experimental.') ? key.slice('experimental.'.length) : key;
  if (k.endsWith(']')) k = k.slice(0, -1);
  const open = k.indexOf('[');
  return open < 0 ? undefined : [k.slice(0, open), k.slice(open + 1)];
}

/** strings.Trim(value, "[]"). */
const trimBrackets = (v: string): string => v.replace(/^[[\]]+/, '').replace(/[[\]]+$/, '');

/** `experimental.envoy.filters.*`: dynamic metadata; a `[v]` value matches an element of a list. */
export const envoyFilterGenerator: ListGenerator = {
  kind: 'list',
  permission(key, values) {
    const parts = envoyFilterKey(key);
    if (parts === undefined) return fail(`invalid key: ${key}`);
    const matchers: ValueMatcher[] = values.map((v) =>
      v.startsWith('[') && v.endsWith(']')
        ? create(ValueMatcherSchema, { matchPattern: { case: 'listMatch', value: { matchPattern: { case: 'oneOf', value: valueString(stringMatcher(trimBrackets(v))) } } } })
        : valueString(stringMatcher(v)),
    );
    return ok(permissionMetadata(metadataValueMatcher(parts[0], parts[1], valueOr(matchers))));
  },
  principal: unimplemented,
};

export const srcIpGenerator = principalOnly((_k, v) => cidrOr(v, principalDirectRemoteIp));
export const remoteIpGenerator = principalOnly((_k, v) => cidrOr(v, principalRemoteIp));

/** `ns` -> `.*\/ns/<ns>/.*` with each `*` as `.*`. */
export const srcNamespaceGenerator = principalOnly((_k, v, _t, useAuth) => {
  const ns = v.split('*').map(goQuoteMeta).join('.*');
  return ok(principalAuthenticated(stringRegex(`.*/ns/${ns}/.*`), useAuth));
});

/** model.serviceAccountRegex: `sa` (policy namespace) or `ns/sa`, any trust domain, optional extra segments. */
export function serviceAccountRegex(defaultNamespace: string, value: string): string {
  const slash = value.indexOf('/');
  const ns = slash < 0 ? defaultNamespace : value.slice(0, slash);
  const sa = slash < 0 ? value : value.slice(slash + 1);
  return `spiffe://.+/ns/${goQuoteMeta(ns)}/(.+/|)sa/${goQuoteMeta(sa)}(/.+)?`;
}

export function srcServiceAccountGenerator(policyNamespace: string): ValueGenerator {
  return principalOnly((_k, v, _t, useAuth) => ok(principalAuthenticated(stringRegex(serviceAccountRegex(policyNamespace, v)), useAuth)));
}

export const srcTrustDomainGenerator = principalOnly((_k, v, _t, useAuth) => {
  if (v === '*') return ok(principalAuthenticated(stringPrefix(SPIFFE_PREFIX), useAuth));
  if (!v.includes('*')) return ok(principalAuthenticated(stringPrefix(`${SPIFFE_PREFIX}${v}/`), useAuth));
  const star = v.indexOf('*');
  const escaped = `${goQuoteMeta(v.slice(0, star))}[^/]*${goQuoteMeta(v.slice(star + 1))}`;
  return ok(principalAuthenticated(stringRegex(`${SPIFFE_PREFIX}${escaped}/.*`), useAuth));
});

export const srcPrincipalGenerator = principalOnly((_k, v, _t, useAuth) => ok(principalAuthenticated(stringMatcherWithPrefix(v, SPIFFE_PREFIX), useAuth)));

const MATCH_ANY = (): ReturnType<typeof stringRegex> => stringRegex('.+');

/** `iss/sub` against the JWT payload; the last `/` splits, since issuers are URLs. */
export const requestPrincipalGenerator: ListGenerator = {
  kind: 'list',
  permission: unimplemented,
  principal(key, values, forTCP) {
    if (forTCP) return httpOnly(key);
    const or: Principal[] = values.map((value) => {
      const idx = value.lastIndexOf('/');
      const found = idx >= 0;
      const iss = found ? value.slice(0, idx) : value;
      const sub = found ? value.slice(idx + 1) : '';
      let matchIss;
      let matchSub;
      if (value === '*') {
        matchIss = MATCH_ANY();
        matchSub = MATCH_ANY();
      } else if (value.startsWith('*')) {
        if (found) {
          matchIss = iss === '*' ? MATCH_ANY() : stringSuffix(iss.slice(1));
          matchSub = stringExact(sub);
        } else {
          matchIss = MATCH_ANY();
          matchSub = stringSuffix(value.slice(1));
        }
      } else if (value.endsWith('*')) {
        if (found) {
          matchIss = stringExact(iss);
          matchSub = sub === '*' ? MATCH_ANY() : stringPrefix(sub.slice(0, -1));
        } else {
          matchIss = stringPrefix(value.slice(0, -1));
          matchSub = MATCH_ANY();
        }
      } else {
        matchIss = stringExact(iss);
        matchSub = stringExact(sub);
      }
      return principalAnd([principalMetadata(jwtClaimStringMatcher('iss', matchIss)), principalMetadata(jwtClaimStringMatcher('sub', matchSub))]);
    });
    if (or.length === 1) return ok(or[0]);
    return ok(or.length > 0 ? principalOr(or) : undefined);
  },
};

function claimListGenerator(claims: (key: string) => string[] | undefined): ListGenerator {
  return {
    kind: 'list',
    permission: unimplemented,
    principal(key, values, forTCP) {
      if (forTCP) return httpOnly(key);
      const path = claims(key);
      if (path === undefined) return fail(`expecting format [<NAME>], but found ${key}`);
      return ok(principalMetadata(jwtClaimsListMatcher(path, stringOrValueMatcher(values))));
    },
  };
}

export const requestAudiencesGenerator = claimListGenerator(() => ['aud']);
export const requestPresenterGenerator = claimListGenerator(() => ['azp']);
/** `request.auth.claims[a][b]` -> payload.a.b. */
export const requestClaimGenerator = claimListGenerator((key) => extractNameInNestedBrackets(key.slice('request.auth.claims'.length)));

export const requestHeaderGenerator = principalOnly((key, v, forTCP) => {
  if (forTCP) return httpOnly(key);
  const header = extractNameInBrackets(key.slice('request.headers'.length));
  return header === undefined ? fail(`expecting format [<NAME>], but found ${key}`) : ok(principalHeader(headerMatcher(header, v)));
});

export const hostGenerator = permissionOnly((key, v, forTCP) => (forTCP ? httpOnly(key) : ok(permissionHeader(hostMatcher(':authority', v)))));

export const pathGenerator = permissionOnly((key, v, forTCP) => {
  if (forTCP) return httpOnly(key);
  return ok(containsPathTemplate(v) ? permissionUriTemplate(uriTemplateAny(v)) : permissionUrlPath(pathMatcher(v)));
});

export const methodGenerator = permissionOnly((key, v, forTCP) => (forTCP ? httpOnly(key) : ok(permissionHeader(headerMatcher(':method', v)))));

