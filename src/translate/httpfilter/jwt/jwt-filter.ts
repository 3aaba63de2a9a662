// The jwt_authn HTTP filter for a proxy's RequestAuthentications (Istio's authn plugin BuildHTTP and
// policy_applier.go JwtFilter / convertToEnvoyJwtConfig). Sidecar inbound listeners and gateways get it;
// sidecar outbound listeners never do. Every jwtRule of every applicable policy becomes a provider
// `origins-<i>` (rules sorted by issuer), publishing its payload as `payload` metadata with `permission` and
// `scope` (plus spaceDelimitedClaims) normalised to lists, and clearing the route cache on gateways.
// One provider: requires_any {provider, allow_missing}; several: requires_any {each provider, requires_all
// {requires_any {provider_i, allow_missing}...}}, so a request without a token passes and any token present
// must be valid. Keys are always inline (istiod's default fetch mode): the rule's `jwks`, else the document
// the control plane fetched for the rule's source (jwks-source.ts), else Istio's fail-closed key set.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { JWTRule } from '../../../api/security/request-authentication.js';
import { pack } from '../../../xds/codec.js';
import {
  JwtAuthenticationSchema,
  JwtClaimToHeaderSchema,
  JwtHeaderSchema,
  JwtProviderSchema,
  JwtRequirementSchema,
  type JwtAuthentication,
  type JwtProvider,
  type JwtRequirement,
} from '../../../xds/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { MeshSnapshot } from '../../../model/snapshot.js';
import type { ProxyContext } from '../../context.js';
import type { ListenerClass } from '../../listener/http-filters.js';
import { jwksSourceKey, PUBLIC_ONLY_JWKS } from './jwks-source.js';
import { requestAuthenticationsForProxy } from './request-authentications-for-proxy.js';

/** authn model EnvoyJwtFilterName. */
export const JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';
/** filters.EnvoyJwtFilterPayload. */
export const JWT_PAYLOAD_METADATA_KEY = 'payload';

const DEFAULT_SPACE_DELIMITED = ['permission', 'scope'];

/** buildSpaceDelimitedClaims: the defaults, or the sorted union with the rule's claims. */
function spaceDelimitedClaims(rule: JWTRule): string[] {
  const extra = rule.spaceDelimitedClaims ?? [];
  if (extra.length === 0) return [...DEFAULT_SPACE_DELIMITED];
  return [...new Set([...extra, ...DEFAULT_SPACE_DELIMITED])].sort();
}

/** BuildLocalJwks: the inline jwks, else the fetched document, else the fail-closed key set. */
function jwksFor(rule: JWTRule, snapshot: MeshSnapshot): string {
  const inline = rule.jwks ?? '';
  if (inline !== '') return inline;
  const key = jwksSourceKey(rule);
  const fetched = key !== undefined ? snapshot.jwks(key) : undefined;
  return fetched === undefined || fetched === '' ? PUBLIC_ONLY_JWKS : fetched;
}

function provider(rule: JWTRule, snapshot: MeshSnapshot, clearRouteCache: boolean): JwtProvider {
  return create(JwtProviderSchema, {
    issuer: rule.issuer ?? '',
    audiences: rule.audiences ?? [],
    forward: rule.forwardOriginalToken ?? false,
    forwardPayloadHeader: rule.outputPayloadToHeader ?? '',
    payloadInMetadata: JWT_PAYLOAD_METADATA_KEY,
    normalizePayloadInMetadata: { spaceDelimitedClaims: spaceDelimitedClaims(rule) },
    clearRouteCache,
    claimToHeaders: (rule.outputClaimToHeaders ?? []).map((c) => create(JwtClaimToHeaderSchema, { headerName: c.header ?? '', claimName: c.claim ?? '' })),
    fromHeaders: (rule.fromHeaders ?? []).map((h) => create(JwtHeaderSchema, { name: h.name ?? '', valuePrefix: h.prefix ?? '' })),
    fromParams: rule.fromParams ?? [],
    fromCookies: rule.fromCookies ?? [],
    jwksSourceSpecifier: { case: 'localJwks', value: { specifier: { case: 'inlineString', value: jwksFor(rule, snapshot) } } },
  });
}

const requirement = (r: NonNullable<MessageInitShape<typeof JwtRequirementSchema>['requiresType']>): JwtRequirement => create(JwtRequirementSchema, { requiresType: r });
const byName = (name: string): JwtRequirement => requirement({ case: 'providerName', value: name });
const anyOf = (list: JwtRequirement[]): JwtRequirement => requirement({ case: 'requiresAny', value: { requirements: list } });

/** convertToEnvoyJwtConfig; undefined when there are no rules. */
export function buildJwtAuthentication(rules: readonly JWTRule[], snapshot: MeshSnapshot, clearRouteCache: boolean): JwtAuthentication | undefined {
  if (rules.length === 0) return undefined;
  const providers: Record<string, JwtProvider> = {};
  const inner: JwtRequirement[] = [];
  const outer: JwtRequirement[] = [];
  rules.forEach((rule, i) => {
    const name = `origins-${i}`;
    providers[name] = provider(rule, snapshot, clearRouteCache);
    inner.push(anyOf([byName(name), requirement({ case: 'allowMissing', value: {} })]));
    outer.push(byName(name));
  });
  const requires = inner.length === 1 ? (inner[0] as JwtRequirement) : anyOf([...outer, requirement({ case: 'requiresAll', value: { requirements: inner } })]);
  return create(JwtAuthenticationSchema, {
    rules: [{ match: { pathSpecifier: { case: 'prefix', value: '/' } }, requirementType: { case: 'requires', value: requires } }],
    providers,
    bypassCorsPreflight: true,
  });
}

/** The jwt_authn filter for the RequestAuthentications that select this proxy; empty when none do. */
export function buildJwtFilters(ctx: ProxyContext, cls: ListenerClass): HttpFilter[] {
  if (cls === 'sidecar-outbound') return [];
  const policies = requestAuthenticationsForProxy(ctx.snapshot, { namespace: ctx.proxy.namespace, labels: ctx.proxy.labels });
  // newPolicyApplier: every policy's rules, sorted by issuer (stably, for a deterministic config).
  const rules = policies.flatMap((p) => p.spec.jwtRules ?? []).map((r, i) => ({ r, i }));
  rules.sort((a, b) => {
    const ia = a.r.issuer ?? '';
    const ib = b.r.issuer ?? '';
    return ia < ib ? -1 : ia > ib ? 1 : a.i - b.i;
  });
  const config = buildJwtAuthentication(
    rules.map((x) => x.r),
    ctx.snapshot,
    ctx.proxy.type !== 'sidecar',
  );
  if (config === undefined) return [];
  return [create(HttpFilterSchema, { name: JWT_AUTHN_FILTER, configType: { case: 'typedConfig', value: pack(JwtAuthenticationSchema, config) } })];
}
