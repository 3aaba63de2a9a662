// HTTPRoutes and GRPCRoutes as VirtualServices (pilot/pkg/config/kube/gateway/route_collections.go
// HTTPRouteCollection, GRPCRouteCollection, mergeHTTPRoutes; conversion.go sortHTTPRoutes, augmentPortMatch):
// - each rule is split into one route per match and converted (http-rules.ts, grpc-rules.ts);
// - for every accepted parent, one VirtualService per route hostname (`*` without hostnames; a mesh parent
//   stands for its Service's FQDN), bound to the parent's internal gateway name (`mesh` for Services), keyed
//   `<gateway>/<host>` (mesh: `<route ns>[/<port>]/<host>`); hostnames a more specific listener on the same
//   port claims are left to that listener (isolation);
// - VirtualServices with one key — from any HTTPRoute or GRPCRoute — merge into one named after the key
//   (`/` -> `~`) in the namespace of the oldest, routes concatenated oldest first, then sorted by Gateway
//   API precedence: exact before prefix before regex, longer paths first, then a method match, more
//   header matches, more query matches; routes without a match last; ties keep their order.
// The views carry `semantics: 'gateway'`: the translation gives their routes Istio's gateway semantics
// (path-separated prefixes, prefix-stripping rewrites, 500 for missing backends).

import { at, type Issue } from '../../lib/issue.js';
import type { GRPCRoute } from '../../api/gateway-api/grpc-route.js';
import { effectiveMatches, effectiveRules, type K8sHTTPRoute } from '../../api/gateway-api/http-route.js';
import type { HTTPMatchRequest, HTTPRoute } from '../../api/networking/virtual-service.js';
import type { VirtualServiceView } from '../snapshot.js';
import { KUBERNETES_GATEWAY_NAME, type ConfigError } from './conditions.js';
import type { ConversionContext } from './context.js';
import type { ConvertedGateways } from './gateways.js';
import { convertGrpcRule } from './grpc-rules.js';
import { convertHttpRule, type RuleResult } from './http-rules.js';
import { hostnameAllowedByIsolation } from './parents.js';
import { computeRoute, meshExportTo, meshHosts, virtualServiceView, type Conversion, type RouteSource } from './routes.js';
import type { BackendScope } from './backends.js';

/** A VirtualService before merging (Istio's RouteWithKey). */
interface BaseVirtualService {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly creationTimestamp: string;
  readonly host: string;
  readonly gateway: string;
  readonly http: readonly HTTPRoute[];
  readonly exportTo: readonly string[];
}

function uriRank(m: HTTPMatchRequest): number {
  if (m.uri?.exact !== undefined) return 3;
  if (m.uri?.prefix !== undefined) return 2;
  if (m.uri?.regex !== undefined) return 1;
  return -1;
}

function uriLength(m: HTTPMatchRequest): number {
  return (m.uri?.exact ?? m.uri?.prefix ?? m.uri?.regex ?? '').length;
}

/** sortHTTPRoutes' less: only match[0] counts (every generated rule has at most one match). */
function before(a: HTTPRoute, b: HTTPRoute): boolean {
  const m1 = a.match?.[0];
  const m2 = b.match?.[0];
  if (m1 === undefined) return false;
  if (m2 === undefined) return true;
  const r1 = uriRank(m1);
  const r2 = uriRank(m2);
  if (r1 !== r2) return r1 > r2;
  const l1 = uriLength(m1);
  const l2 = uriLength(m2);
  if (l1 !== l2) return l1 > l2;
  if ((m1.method === undefined) !== (m2.method === undefined)) return m1.method !== undefined;
  const h1 = Object.keys(m1.headers ?? {}).length;
  const h2 = Object.keys(m2.headers ?? {}).length;
  if (h1 !== h2) return h1 > h2;
  return Object.keys(m1.queryParams ?? {}).length > Object.keys(m2.queryParams ?? {}).length;
}

/** sortHTTPRoutes (stable). */
export function sortHttpRoutes(routes: readonly HTTPRoute[]): HTTPRoute[] {
  return [...routes].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
}

/** augmentPortMatch: every match (or a new one) restricted to the parentRef's port. */
function augmentPortMatch(routes: readonly HTTPRoute[], port: number): HTTPRoute[] {
  return routes.map((r) => ({ ...r, match: (r.match ?? [{}]).map((m) => ({ ...m, port })) }));
}

function convertAll(results: Iterable<RuleResult | ConfigError>): Conversion<HTTPRoute> {
  const routes: HTTPRoute[] = [];
  const invalid: ConfigError[] = [];
  for (const r of results) {
    if ('reason' in r) return { error: r };
    routes.push(r.route);
    invalid.push(...r.invalid);
  }
  return { routes, invalid };
}

function* httpRules(scope: BackendScope, r: K8sHTTPRoute, ns: string): Generator<RuleResult | ConfigError> {
  for (const [n, rule] of effectiveRules(r.spec).entries()) {
    const rulePath = at('spec.rules', n);
    const matches = effectiveMatches(rule);
    if (matches.length === 0) yield convertHttpRule(scope, rule, undefined, { namespace: ns, name: r.metadata.name }, n, rulePath);
    for (const m of matches) yield convertHttpRule(scope, rule, m, { namespace: ns, name: r.metadata.name }, n, rulePath);
  }
}

function* grpcRules(scope: BackendScope, r: GRPCRoute, ns: string): Generator<RuleResult | ConfigError> {
  for (const [n, rule] of (r.spec.rules ?? []).entries()) {
    const rulePath = at('spec.rules', n);
    const matches = rule.matches ?? [];
    if (matches.length === 0) yield convertGrpcRule(scope, rule, undefined, rulePath, { namespace: ns, name: r.metadata.name }, n, rulePath);
    for (const [j, m] of matches.entries()) yield convertGrpcRule(scope, rule, m, at(at(rulePath, 'matches'), j), { namespace: ns, name: r.metadata.name }, n, rulePath);
  }
}

export type HttpLikeRoute = { readonly kind: 'HTTPRoute'; readonly route: K8sHTTPRoute } | { readonly kind: 'GRPCRoute'; readonly route: GRPCRoute };

function baseVirtualServices(ctx: ConversionContext, gateways: ConvertedGateways, input: HttpLikeRoute, problems: Issue[]): BaseVirtualService[] {
  const r = input.route;
  const ns = r.metadata.namespace ?? 'default';
  const src: RouteSource = {
    kind: input.kind,
    namespace: ns,
    name: r.metadata.name,
    creationTimestamp: r.metadata.creationTimestamp ?? '',
    parentRefs: r.spec.parentRefs ?? [],
    hostnames: r.spec.hostnames ?? [],
  };
  const computed = computeRoute(
    ctx,
    gateways,
    src,
    (scope) => convertAll(input.kind === 'HTTPRoute' ? httpRules(scope, input.route, ns) : grpcRules(scope, input.route, ns)),
    problems,
  );
  const out: BaseVirtualService[] = [];
  let count = 0;
  for (const p of computed.parents) {
    let key = p.parent.internalName;
    let hosts: readonly string[] = src.hostnames.length === 0 ? ['*'] : src.hostnames;
    let routes: readonly HTTPRoute[] = computed.gateway;
    let exportTo: readonly string[] = ['*'];
    if (p.kind !== 'Gateway') {
      routes = computed.mesh;
      key = ns;
      if (p.ref.port !== undefined) {
        routes = augmentPortMatch(routes, p.ref.port);
        key += `/${p.ref.port}`;
      }
      hosts = meshHosts(ctx, p);
      exportTo = meshExportTo(p, ns);
    }
    if (routes.length === 0) continue;
    for (const host of hosts) {
      if (!hostnameAllowedByIsolation(p, host)) continue;
      out.push({
        key: `${key}/${host}`,
        name: `${r.metadata.name}~${count}~${KUBERNETES_GATEWAY_NAME}`,
        namespace: ns,
        creationTimestamp: src.creationTimestamp,
        host,
        gateway: p.parent.internalName,
        http: sortHttpRoutes(routes),
        exportTo,
      });
      count++;
    }
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every HTTPRoute and GRPCRoute as merged VirtualService views; problems are appended to `problems`. */
export function httpVirtualServices(
  ctx: ConversionContext,
  gateways: ConvertedGateways,
  routes: readonly HttpLikeRoute[],
  problems: Issue[],
): VirtualServiceView[] {
  const byKey = new Map<string, BaseVirtualService[]>();
  for (const r of routes) {
    for (const b of baseVirtualServices(ctx, gateways, r, problems)) byKey.set(b.key, [...(byKey.get(b.key) ?? []), b]);
  }
  const views: VirtualServiceView[] = [];
  for (const [key, group] of byKey) {
    const sorted = [...group].sort((a, b) => cmp(a.creationTimestamp, b.creationTimestamp) || cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
    const base = sorted[0] as BaseVirtualService;
    const http = sorted.length === 1 ? base.http : sortHttpRoutes(sorted.flatMap((b) => b.http));
    views.push(
      virtualServiceView({
        name: key.replaceAll('/', '~'),
        namespace: base.namespace,
        creationTimestamp: base.creationTimestamp,
        exportTo: base.exportTo,
        spec: { hosts: [base.host], gateways: [base.gateway], http: [...http] },
      }),
    );
  }
  return views;
}
