// One VirtualService HTTP rule to Envoy routes (pilot/pkg/networking/core/route/route.go
// BuildHTTPRoutesForVirtualService, TranslateRoute, sourceMatchHTTP, GetRouteOperation):
// - one route per match (one for a rule without matches), in the VirtualService's order; the first
//   catch-all (prefix `/`, no conditions) ends the list, since Envoy takes the first route that matches;
// - a match is dropped when its `port` is not the port the routes are built for, when it lists `gateways`
//   that do not include this context's gateway, or when `sourceLabels` / `sourceNamespace` do not fit the
//   proxy;
// - route name `<rule name>` or `<rule name>.<match name>`; metadata names the VirtualService; a decorator
//   names the operation for tracing;
// - redirect, direct response or forwarding (route-action.ts); route-level header operations; fault and
//   CORS as per-filter configs, and the persistent-session config of the destination services when
//   PILOT_ENABLE_PERSISTENT_SESSION_FILTER is on (never for proxyless gRPC: httpfilter/stateful-session.ts);
// - a VirtualService generated from the Gateway API (`semantics: 'gateway'`) translates its matches and
//   forwarding with gateway semantics (match.ts, route-action.ts).

import { create } from '@bufbuild/protobuf';
import type { HTTPMatchRequest, HTTPRoute } from '../../api/networking/virtual-service.js';
import type { VirtualServiceView } from '../../model/snapshot.js';
import { RouteSchema, DecoratorSchema, type Route } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { MetadataSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { HTTPFaultSchema } from '../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { CorsPolicySchema } from '../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { pack } from '../../xds/codec.js';
import { parseSubsetKey } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { translateCorsPolicy } from './cors.js';
import { translateFault } from './fault.js';
import { translateHeaderOperations } from './headers.js';
import { isCatchAllMatch, translateRouteMatch } from './match.js';
import { applyDirectResponse, applyRedirect } from './redirect.js';
import { applyRouteDestination, type RouteOptions } from './route-action.js';
import { routeStatefulSession, statefulSessionPerRoute } from '../httpfilter/stateful-session.js';
import { STATEFUL_SESSION_FILTER } from '../listener/well-known.js';

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const CORS_FILTER = 'envoy.filters.http.cors';

/** The `istio` filter metadata naming the config a route came from (util.BuildConfigInfoMetadata). */
export function configMetadata(namespace: string, name: string, kebabKind = 'virtual-service') {
  return create(MetadataSchema, { filterMetadata: { istio: { config: `/apis/networking.istio.io/v1/namespaces/${namespace}/${kebabKind}/${name}` } } });
}

/** GetRouteOperation: `<host>:<port><path>` for a single subset-key cluster, else `<vs name>:<port><path>`. */
export function routeOperation(r: Route, vsName: string, port: number): string {
  const p = r.match?.pathSpecifier;
  let path = '/*';
  if (p?.case === 'prefix') path = `${p.value}*`;
  else if (p?.case === 'path') path = p.value;
  else if (p?.case === 'safeRegex') path = p.value.regex;
  if (r.action.case === 'route' && r.action.value.clusterSpecifier.case === 'cluster') {
    const key = parseSubsetKey(r.action.value.clusterSpecifier.value);
    if (key !== undefined) return `${key.host}:${key.port}${path}`;
  }
  return `${vsName}:${port}${path}`;
}

/** sourceMatchHTTP: whether the match applies to this proxy (`gateways` of the match, else source labels/namespace). */
function sourceMatches(ctx: ProxyContext, m: HTTPMatchRequest | undefined, gatewayNames: ReadonlySet<string>): boolean {
  if (m === undefined) return true;
  if ((m.gateways ?? []).length > 0) return (m.gateways ?? []).some((g) => gatewayNames.has(g));
  for (const [k, v] of Object.entries(m.sourceLabels ?? {})) if (ctx.proxy.labels[k] !== v) return false;
  return (m.sourceNamespace ?? '') === '' || m.sourceNamespace === ctx.proxy.namespace;
}

/** TranslateRoute: the Envoy route for one rule and one of its matches; undefined when the match does not apply here. */
export function translateRoute(
  ctx: ProxyContext,
  in_: HTTPRoute,
  match: HTTPMatchRequest | undefined,
  listenPort: number,
  vs: VirtualServiceView,
  gatewayNames: ReadonlySet<string>,
  opts: RouteOptions,
): Route | undefined {
  if (match !== undefined && (match.port ?? 0) !== 0 && match.port !== listenPort) return undefined;
  if (!sourceMatches(ctx, match, gatewayNames)) return undefined;
  let name = in_.name ?? '';
  if (match?.name !== undefined && match.name !== '') name = `${name}.${match.name}`;
  const out = create(RouteSchema, { name, match: translateRouteMatch(match, { semantics: vs.semantics, proxyless: opts.proxyless }), metadata: configMetadata(vs.namespace, vs.name) });
  if (match?.statPrefix !== undefined && match.statPrefix !== '') out.statPrefix = match.statPrefix;
  let authority = '';
  if (in_.headers !== undefined) {
    const ops = translateHeaderOperations(in_.headers);
    out.requestHeadersToAdd = ops.requestHeadersToAdd;
    out.requestHeadersToRemove = ops.requestHeadersToRemove;
    out.responseHeadersToAdd = ops.responseHeadersToAdd;
    out.responseHeadersToRemove = ops.responseHeadersToRemove;
    authority = ops.authority;
  }
  let hostnames: readonly string[] = [];
  if (in_.redirect !== undefined) applyRedirect(out, in_.redirect, listenPort, opts.isTls);
  else if (in_.directResponse !== undefined) applyDirectResponse(out, in_.directResponse);
  else hostnames = applyRouteDestination(out, in_, opts, authority, listenPort, vs.semantics);
  out.decorator = create(DecoratorSchema, { operation: routeOperation(out, vs.name, listenPort) });
  if (in_.fault !== undefined) out.typedPerFilterConfig[FAULT_FILTER] = pack(HTTPFaultSchema, translateFault(in_.fault));
  if (in_.corsPolicy !== undefined) out.typedPerFilterConfig[CORS_FILTER] = pack(CorsPolicySchema, translateCorsPolicy(in_.corsPolicy));
  // Proxyless gRPC never gets it (its options carry no lookupService; see stateful-session.ts).
  if (!opts.proxyless && opts.lookupService !== undefined) {
    const session = routeStatefulSession(ctx.snapshot.features, hostnames, opts.lookupService);
    if (session !== undefined) out.typedPerFilterConfig[STATEFUL_SESSION_FILTER] = statefulSessionPerRoute(session);
  }
  return out;
}

/**
 * BuildHTTPRoutesForVirtualService: the routes of every HTTP rule for `listenPort`, in order, stopping after
 * the first catch-all. Empty when no rule applies here (Istio's "no routes matched").
 */
export function buildVirtualServiceRoutes(
  ctx: ProxyContext,
  vs: VirtualServiceView,
  listenPort: number,
  gatewayNames: ReadonlySet<string>,
  opts: RouteOptions,
): Route[] {
  const out: Route[] = [];
  for (const http of vs.spec.http ?? []) {
    let catchAll = false;
    if ((http.match ?? []).length === 0) {
      const r = translateRoute(ctx, http, undefined, listenPort, vs, gatewayNames, opts);
      if (r !== undefined) out.push(r);
      catchAll = true;
    } else {
      for (const m of http.match ?? []) {
        const r = translateRoute(ctx, http, m, listenPort, vs, gatewayNames, opts);
        if (r === undefined) continue;
        out.push(r);
        if (isCatchAllMatch(r.match)) {
          catchAll = true;
          break;
        }
      }
    }
    if (catchAll) break;
  }
  return out;
}
