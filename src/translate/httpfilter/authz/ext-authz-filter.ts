// The CUSTOM-action HTTP filters (Istio's authz builder with IsCustomBuilder, BuildHTTP): for the CUSTOM
// AuthorizationPolicies that select this workload (root namespace and its own), per provider (sorted) an
// RBAC filter whose shadow rules hold the provider's enforced rules — it never denies, it records the
// matched policy id as dynamic metadata — followed by an ext_authz filter enabled only when that id names
// the provider (custom-action.ts plans; ext-authz-provider.ts configs). A provider that is undefined,
// invalid or unresolvable gets an enforcing DENY RBAC filter instead and no ext_authz filter. Sidecar
// inbound and gateway listeners only: outbound traffic is never authorized by CUSTOM policies.

import { create } from '@bufbuild/protobuf';
import { pack } from '../../../xds/codec.js';
import { HttpFilterSchema, type HttpFilter } from '../../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RBACSchema as HttpRBACSchema } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { ExtAuthzSchema, type ExtAuthz } from '../../../xds/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import type { AuthorizationPolicy } from '../../../api/security/authorization-policy.js';
import type { ProxyContext } from '../../context.js';
import type { ListenerClass } from '../../listener/http-filters.js';
import { HTTP_RBAC_FILTER_NAME } from './build-rbac.js';
import { buildCustomHttpRbac } from './custom-action.js';
import { policiesForWorkload } from './policies-for-workload.js';
import { EXT_AUTHZ_FILTER_NAME, resolveExtAuthzProvider } from './ext-authz-provider.js';

/** The AuthorizationPolicies that may apply to the proxy: the root namespace's, then its own namespace's. */
function candidatePolicies(ctx: ProxyContext): AuthorizationPolicy[] {
  const root = ctx.snapshot.mesh.rootNamespace;
  const ns = ctx.proxy.namespace;
  const out = [...ctx.snapshot.authorizationPolicies(root)];
  if (ns !== root) out.push(...ctx.snapshot.authorizationPolicies(ns));
  return out;
}

/** The ext_authz configs of the mesh's valid providers, by name. */
function resolvedProviders(ctx: ProxyContext): Map<string, ExtAuthz> {
  const out = new Map<string, ExtAuthz>();
  const seen = new Set<string>();
  for (const p of ctx.snapshot.mesh.extensionProviders ?? []) {
    // A duplicated name is an error for every use of it (processExtensionProvider).
    if (seen.has(p.name)) {
      out.delete(p.name);
      continue;
    }
    seen.add(p.name);
    const r = resolveExtAuthzProvider(ctx.snapshot, p);
    if (r.ok) out.set(p.name, r.config);
  }
  return out;
}

/** The CUSTOM filters (RBAC shadow + ext_authz per provider) for this proxy; empty when no CUSTOM policy applies. */
export function buildCustomAuthzFilters(ctx: ProxyContext, cls: ListenerClass): HttpFilter[] {
  if (cls === 'sidecar-outbound' || ctx.proxy.type === 'proxyless') return [];
  const mesh = ctx.snapshot.mesh;
  const custom = policiesForWorkload(candidatePolicies(ctx), { namespace: ctx.proxy.namespace, labels: ctx.proxy.labels }, mesh.rootNamespace).custom;
  if (custom.length === 0) return [];
  const providers = resolvedProviders(ctx);
  const built = buildCustomHttpRbac(custom, {
    trustDomain: mesh.trustDomain,
    trustDomainAliases: mesh.trustDomainAliases,
    knownProviders: new Set(providers.keys()),
    allowMultipleProviders: ctx.snapshot.features.enableMultipleCustomAuthzProviders,
  });
  const filters: HttpFilter[] = [];
  for (const plan of built.plans) {
    filters.push(create(HttpFilterSchema, { name: HTTP_RBAC_FILTER_NAME, configType: { case: 'typedConfig', value: pack(HttpRBACSchema, plan.rbac) } }));
    if (plan.kind === 'deny') continue;
    const base = providers.get(plan.provider);
    if (base === undefined) continue; // unreachable: knownProviders holds exactly the resolved names
    const config = create(ExtAuthzSchema, { ...base, filterEnabledMetadata: plan.filterEnabledMetadata });
    filters.push(create(HttpFilterSchema, { name: EXT_AUTHZ_FILTER_NAME, configType: { case: 'typedConfig', value: pack(ExtAuthzSchema, config) } }));
  }
  return filters;
}
