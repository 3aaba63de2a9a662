// envoy.filters.http.jwt_authn configuration (envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication)
// compiled once into an immutable JwtAuthnConfig: the providers (issuer, audiences, the inline JWKS compiled
// to keys, token locations, what to forward and publish), the rules (a route match and the requirement
// tree, Envoy's Verifier::create in verifier.cc) and the filter-wide switches. An unknown provider name is a
// problem, as Envoy's "Required provider ['x'] is not configured.". What cannot be honoured here makes the
// update a NACK rather than a silently weaker check: remote_jwks (the control plane is expected to inline
// keys, as istiod does by default), JWKS from files or environment variables, subjects, require_expiration,
// max_lifetime and filter_state_rules. Accepted and not acted on: jwt_cache_config (a cache only) and
// clear_route_cache (the route is selected before the filter chain runs).
// Envoy: api envoy/extensions/filters/http/jwt_authn/v3/config.proto; source/extensions/filters/http/jwt_authn/.

import type { JwtAuthentication, JwtProvider, JwtRequirement } from '../../../xds/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import type { Compiled } from '../../runtime/compile-cluster.js';
import { compileRouteMatch, type CompiledRouteMatch } from '../../http/route/route-match.js';
import { compileExtractor, type Extractor } from './extractor.js';
import { compileJwks, type CompiledJwks } from './jwks.js';
import { compileAudiences, type AudienceSet } from './jwt.js';

export const JWT_AUTHN_FILTER_TYPE = 'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
/** The dynamic metadata namespace the filter writes (filter.cc setExtractedData). */
export const JWT_AUTHN_METADATA_NAMESPACE = 'envoy.filters.http.jwt_authn';
/** jwt_verify_lib kClockSkewInSecond. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

export interface JwtProviderConfig {
  readonly name: string;
  readonly issuer: string;
  readonly audiences: AudienceSet;
  /** undefined: no usable key (requests verified by this provider fail with JwksNoValidKeys). */
  readonly jwks: CompiledJwks | undefined;
  readonly forward: boolean;
  /** Lower-case; '' = none. */
  readonly forwardPayloadHeader: string;
  readonly padForwardPayloadHeader: boolean;
  readonly payloadInMetadata: string;
  readonly headerInMetadata: string;
  readonly failedStatusInMetadata: string;
  readonly spaceDelimitedClaims: readonly string[];
  readonly clockSkewSeconds: number;
  readonly claimToHeaders: readonly { readonly headerName: string; readonly claimName: string }[];
  /** This provider's own token locations (provider_name requirements). */
  readonly extractor: Extractor;
}

export type JwtVerifierNode =
  | { readonly kind: 'provider'; readonly provider: JwtProviderConfig; readonly audiences: AudienceSet | undefined }
  | { readonly kind: 'any'; readonly children: readonly JwtVerifierNode[]; readonly allowMissing: boolean; readonly allowMissingOrFailed: boolean }
  | { readonly kind: 'all'; readonly children: readonly JwtVerifierNode[] }
  | { readonly kind: 'allow-missing'; readonly extractor: Extractor }
  | { readonly kind: 'allow-missing-or-failed'; readonly extractor: Extractor }
  | { readonly kind: 'allow-all' };

export interface JwtAuthnRule {
  readonly match: CompiledRouteMatch;
  readonly verifier: JwtVerifierNode;
}

export interface JwtAuthnConfig {
  /** In configuration order: an issuer-less lookup (allow_missing) takes the first provider with the token's issuer. */
  readonly providers: readonly JwtProviderConfig[];
  readonly rules: readonly JwtAuthnRule[];
  readonly bypassCorsPreflight: boolean;
  readonly stripFailureResponse: boolean;
}

function jwksOf(p: JwtProvider, path: string, problems: string[]): CompiledJwks | undefined {
  const s = p.jwksSourceSpecifier;
  if (s.case === 'remoteJwks') {
    problems.push(`${path}.remote_jwks: not supported (the control plane must inline the keys as local_jwks)`);
    return undefined;
  }
  if (s.case !== 'localJwks') {
    problems.push(`${path}.jwks_source_specifier: must be set`);
    return undefined;
  }
  const d = s.value.specifier;
  if (d.case === 'inlineString') return compileJwks(d.value);
  if (d.case === 'inlineBytes') return compileJwks(Buffer.from(d.value).toString('utf8'));
  if (d.case === undefined) return undefined;
  problems.push(`${path}.local_jwks.${d.case === 'filename' ? 'filename' : 'environment_variable'}: not supported (use inline_string)`);
  return undefined;
}

function compileProvider(name: string, p: JwtProvider, path: string, problems: string[]): JwtProviderConfig {
  const jwks = jwksOf(p, path, problems);
  if (p.subjects !== undefined) problems.push(`${path}.subjects: not supported`);
  if (p.requireExpiration) problems.push(`${path}.require_expiration: not supported`);
  if (p.maxLifetime !== undefined) problems.push(`${path}.max_lifetime: not supported`);
  p.fromHeaders.forEach((h, i) => {
    if (h.name === '') problems.push(`${path}.from_headers[${i}].name: must not be empty`);
  });
  const claimToHeaders = p.claimToHeaders.map((c) => Object.freeze({ headerName: c.headerName.toLowerCase(), claimName: c.claimName }));
  return Object.freeze({
    name,
    issuer: p.issuer,
    audiences: compileAudiences(p.audiences),
    jwks,
    forward: p.forward,
    forwardPayloadHeader: p.forwardPayloadHeader.toLowerCase(),
    padForwardPayloadHeader: p.padForwardPayloadHeader,
    payloadInMetadata: p.payloadInMetadata,
    headerInMetadata: p.headerInMetadata,
    failedStatusInMetadata: p.failedStatusInMetadata,
    spaceDelimitedClaims: Object.freeze([...(p.normalizePayloadInMetadata?.spaceDelimitedClaims ?? [])]),
    clockSkewSeconds: p.clockSkewSeconds > 0 ? p.clockSkewSeconds : DEFAULT_CLOCK_SKEW_SECONDS,
    claimToHeaders: Object.freeze(claimToHeaders),
    extractor: compileExtractor([p]),
  });
}

interface TreeEnv {
  readonly providers: ReadonlyMap<string, JwtProviderConfig>;
  /** All providers' locations, for allow_missing / allow_missing_or_failed (getAllProvidersAsList). */
  readonly all: Extractor;
  readonly problems: string[];
}

const ALLOW_ALL: JwtVerifierNode = Object.freeze({ kind: 'allow-all' });

/** verifier.cc innerCreate. */
function compileRequirement(r: JwtRequirement | undefined, path: string, env: TreeEnv): JwtVerifierNode {
  const t = r?.requiresType;
  switch (t?.case) {
    case undefined:
      return ALLOW_ALL;
    case 'providerName':
    case 'providerAndAudiences': {
      const name = t.case === 'providerName' ? t.value : t.value.providerName;
      const provider = env.providers.get(name);
      if (provider === undefined) {
        env.problems.push(`${path}: Required provider ['${name}'] is not configured.`);
        return ALLOW_ALL;
      }
      const audiences = t.case === 'providerAndAudiences' && t.value.audiences.length > 0 ? compileAudiences(t.value.audiences) : undefined;
      return Object.freeze({ kind: 'provider', provider, audiences });
    }
    case 'requiresAny': {
      // AnyVerifierImpl: allow_missing(_or_failed) entries are flags, not children, unless nothing else is listed.
      let allowMissing = false;
      let allowMissingOrFailed = false;
      const children: JwtVerifierNode[] = [];
      t.value.requirements.forEach((c, i) => {
        if (c.requiresType.case === 'allowMissingOrFailed') allowMissingOrFailed = true;
        else if (c.requiresType.case === 'allowMissing') allowMissing = true;
        else children.push(compileRequirement(c, `${path}.requires_any.requirements[${i}]`, env));
      });
      if (children.length === 0 && (allowMissing || allowMissingOrFailed))
        children.push(Object.freeze({ kind: allowMissingOrFailed ? 'allow-missing-or-failed' : 'allow-missing', extractor: env.all }));
      return Object.freeze({ kind: 'any', children: Object.freeze(children), allowMissing, allowMissingOrFailed });
    }
    case 'requiresAll':
      return Object.freeze({ kind: 'all', children: Object.freeze(t.value.requirements.map((c, i) => compileRequirement(c, `${path}.requires_all.requirements[${i}]`, env))) });
    case 'allowMissingOrFailed':
      return Object.freeze({ kind: 'allow-missing-or-failed', extractor: env.all });
    case 'allowMissing':
      return Object.freeze({ kind: 'allow-missing', extractor: env.all });
  }
}

export function compileJwtAuthn(m: JwtAuthentication, path: string): Compiled<JwtAuthnConfig> {
  const problems: string[] = [];
  const providers = new Map<string, JwtProviderConfig>();
  const rawProviders: JwtProvider[] = [];
  for (const [name, p] of Object.entries(m.providers)) {
    providers.set(name, compileProvider(name, p, `${path}.providers[${name}]`, problems));
    rawProviders.push(p);
  }
  const env: TreeEnv = { providers, all: compileExtractor(rawProviders), problems };
  const requirementMap = new Map<string, JwtVerifierNode>();
  for (const [name, r] of Object.entries(m.requirementMap)) requirementMap.set(name, compileRequirement(r, `${path}.requirement_map[${name}]`, env));
  const rules: JwtAuthnRule[] = [];
  m.rules.forEach((r, i) => {
    const rp = `${path}.rules[${i}]`;
    const match = compileRouteMatch(r.match, `${rp}.match`, problems);
    let verifier: JwtVerifierNode = ALLOW_ALL;
    const rt = r.requirementType;
    if (rt.case === 'requires') verifier = compileRequirement(rt.value, `${rp}.requires`, env);
    else if (rt.case === 'requirementName') {
      const v = requirementMap.get(rt.value);
      if (v === undefined) problems.push(`${rp}.requirement_name: Wrong requirement_name: ${rt.value}. It should be one of [${[...requirementMap.keys()].join(',')}]`);
      else verifier = v;
    }
    rules.push(Object.freeze({ match, verifier }));
  });
  if (m.filterStateRules !== undefined) problems.push(`${path}.filter_state_rules: not supported`);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: Object.freeze({ providers: Object.freeze([...providers.values()]), rules: Object.freeze(rules), bypassCorsPreflight: m.bypassCorsPreflight, stripFailureResponse: m.stripFailureResponse }),
  };
}
