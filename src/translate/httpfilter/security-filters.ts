// The security filters of a proxy's server-side connection managers and TCP chains, in Istio's order
// (listener_builder.go buildHTTPConnectionManager; authz builder.go build): CUSTOM (a shadow RBAC and ext_authz
// per provider), authentication (jwt_authn), then the RBAC filters for AUDIT, DENY and ALLOW policies, all
// before fault/cors/router. TCP chains get the network RBAC filters (AUDIT, DENY, ALLOW) before tcp_proxy.
// Sidecar inbound and gateways only: outbound traffic is authorized by the server it goes to.
// Which policies apply: the root namespace's and the workload's namespace's, selector a subset of the
// proxy's labels (policies-for-workload.ts). Built once per proxy translation (memoized on the context).

import { create } from '@bufbuild/protobuf';
import { pack } from '../../xds/codec.js';
import { FilterSchema, type Filter } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RBACSchema as HttpRBACSchema } from '../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBACSchema as NetworkRBACSchema } from '../../xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import type { AuthorizationPolicy } from '../../api/security/authorization-policy.js';
import type { ProxyContext } from '../context.js';
import type { ListenerClass } from '../listener/http-filters.js';
import { buildHttpRbac, buildTcpRbac, HTTP_RBAC_FILTER_NAME, NETWORK_RBAC_FILTER_NAME, type RbacAction } from './authz/build-rbac.js';
import { buildCustomAuthzFilters } from './authz/ext-authz-filter.js';
import { policiesForWorkload, type WorkloadPolicies } from './authz/policies-for-workload.js';
import { buildJwtFilters } from './jwt/jwt-filter.js';

/** Istio's order of the local-action RBAC filters. */
const ACTIONS: readonly RbacAction[] = ['AUDIT', 'DENY', 'ALLOW'];

const memo = new WeakMap<ProxyContext, { http: Map<ListenerClass, readonly HttpFilter[]>; tcp?: readonly Filter[]; policies?: WorkloadPolicies }>();

function memoOf(ctx: ProxyContext): { http: Map<ListenerClass, readonly HttpFilter[]>; tcp?: readonly Filter[]; policies?: WorkloadPolicies } {
  let m = memo.get(ctx);
  if (m === undefined) {
    m = { http: new Map() };
    memo.set(ctx, m);
  }
  return m;
}

/** The AuthorizationPolicies that apply to this proxy's workload, by action. */
export function workloadAuthorizationPolicies(ctx: ProxyContext): WorkloadPolicies {
  const m = memoOf(ctx);
  if (m.policies === undefined) {
    const root = ctx.snapshot.mesh.rootNamespace;
    const ns = ctx.proxy.namespace;
    const all: AuthorizationPolicy[] = [...ctx.snapshot.authorizationPolicies(root), ...(ns !== root ? ctx.snapshot.authorizationPolicies(ns) : [])];
    m.policies = policiesForWorkload(all, { namespace: ns, labels: ctx.proxy.labels }, root);
  }
  return m.policies;
}

function rbacOptions(ctx: ProxyContext): { trustDomain: string; trustDomainAliases: readonly string[] } {
  return { trustDomain: ctx.snapshot.mesh.trustDomain, trustDomainAliases: ctx.snapshot.mesh.trustDomainAliases };
}

function bucket(p: WorkloadPolicies, a: RbacAction): readonly AuthorizationPolicy[] {
  return a === 'AUDIT' ? p.audit : a === 'DENY' ? p.deny : p.allow;
}

/** The HTTP filters that go before fault/cors/router for this listener class (none for outbound). */
export function securityHttpFilters(ctx: ProxyContext, cls: ListenerClass): readonly HttpFilter[] {
  if (cls === 'sidecar-outbound') return [];
  const m = memoOf(ctx);
  let out = m.http.get(cls);
  if (out === undefined) {
    const p = workloadAuthorizationPolicies(ctx);
    const rbac: HttpFilter[] = [];
    for (const a of ACTIONS) {
      const cfg = buildHttpRbac(bucket(p, a), a, rbacOptions(ctx));
      if (cfg !== undefined) rbac.push(create(HttpFilterSchema, { name: HTTP_RBAC_FILTER_NAME, configType: { case: 'typedConfig', value: pack(HttpRBACSchema, cfg) } }));
    }
    out = [...buildCustomAuthzFilters(ctx, cls), ...buildJwtFilters(ctx, cls), ...rbac];
    m.http.set(cls, out);
  }
  return out;
}

/** The network RBAC filters a TCP chain of this proxy runs before tcp_proxy. */
export function securityNetworkFilters(ctx: ProxyContext): readonly Filter[] {
  const m = memoOf(ctx);
  if (m.tcp === undefined) {
    const p = workloadAuthorizationPolicies(ctx);
    const out: Filter[] = [];
    for (const a of ACTIONS) {
      const cfg = buildTcpRbac(bucket(p, a), a, rbacOptions(ctx));
      if (cfg !== undefined) out.push(create(FilterSchema, { name: NETWORK_RBAC_FILTER_NAME, configType: { case: 'typedConfig', value: pack(NetworkRBACSchema, cfg) } }));
    }
    m.tcp = out;
  }
  return m.tcp;
}
