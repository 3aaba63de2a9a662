// A gateway's HTTP route configurations (pilot/pkg/networking/core/gateway.go buildGatewayHTTPRouteConfig,
// collapseDuplicateRoutes, buildNameToServiceMapForHTTPRoutes), one per route name of the servers merged by
// listener/merge-gateways.ts (the same merge the gateway listeners use, so the names agree):
// - for each server, the VirtualServices bound to its Gateway and visible to the proxy's namespace whose
//   hosts intersect the server's (`ns/host` server hosts only for VirtualServices in `ns`); one virtual host
//   `<host>:<server port>` per intersecting host (the more specific of each matching pair), holding the
//   routes of every such VirtualService, catch-alls last;
// - `httpsRedirect`: the server's virtual hosts require TLS (301 to https), and server hosts without a
//   VirtualService get a virtual host that only redirects;
// - virtual hosts with identical routes are collapsed into the first by host specificity;
// - nothing at all: `blackhole:<port>` for every authority with no routes, so Envoy answers 404.
// Destinations without a port take the service's only port, else the server port.
// With PILOT_ENABLE_PERSISTENT_SESSION_FILTER on, routes carry the persistent-session config of their
// destination services, and a virtual host whose host is one of the VirtualService's destination or mirror
// hosts carries that service's (gateway.go: nameToServiceMap; httpfilter/stateful-session.ts).

import { create } from '@bufbuild/protobuf';
import { namesForNamespace } from '../../api/host.js';
import type { VirtualServiceView } from '../../model/snapshot.js';
import type { Service } from '../../registry/types.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import {
  VirtualHostSchema,
  VirtualHost_TlsRequirementType as TlsRequirement,
  type Route,
  type VirtualHost,
} from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { Server } from '../../api/networking/gateway.js';
import type { ProxyContext } from '../context.js';
import { mergeGateways } from '../listener/merge-gateways.js';
import { hashForDestination } from './hash-policy.js';
import { isCatchAllMatch } from './match.js';
import type { RouteOptions } from './route-action.js';
import { MAX_DIRECT_RESPONSE_BODY_BYTES, sortVirtualHosts } from './sidecar-routes.js';
import { buildVirtualServiceRoutes } from './translate-route.js';
import { domainName } from './virtual-host-domains.js';
import { virtualHostSessionConfig } from '../httpfilter/stateful-session.js';

/** host.Name.SubsetOf: `a` is covered by `b`. */
function subsetOf(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw) return bw && a.length >= b.length && a.slice(1).endsWith(b.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** host.Names.Intersection: for each overlapping pair, the narrower name. */
function intersection(serverHosts: readonly string[], vsHosts: readonly string[]): string[] {
  const out: string[] = [];
  const add = (h: string): void => {
    if (!out.includes(h)) out.push(h);
  };
  for (const s of serverHosts) {
    for (const v of vsHosts) {
      if (subsetOf(s, v)) add(s);
      else if (subsetOf(v, s)) add(v);
    }
  }
  return out;
}

/** host.MoreSpecific as a comparator: names before wildcards, longer first, then alphabetical. */
function bySpecificity(a: string, b: string): number {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw !== bw) return aw ? 1 : -1;
  if (a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The hosts buildNameToServiceMapForHTTPRoutes keys its map by: every HTTP rule's mirror, mirrors and route destinations. */
function nameToServiceHosts(vs: VirtualServiceView): ReadonlySet<string> {
  const out = new Set<string>();
  for (const http of vs.spec.http ?? []) {
    if (http.mirror !== undefined) out.add(http.mirror.host ?? '');
    for (const m of http.mirrors ?? []) if (m.destination !== undefined) out.add(m.destination.host ?? '');
    for (const r of http.route ?? []) if (r.destination !== undefined) out.add(r.destination.host ?? '');
  }
  return out;
}

/**
 * buildNameToServiceMapForHTTPRoutes as a lookup: for a destination or mirror host of the VirtualService, its
 * service, preferring the VirtualService's namespace; undefined for any other host (not in Istio's map).
 */
function serviceLookup(ctx: ProxyContext, vs: VirtualServiceView): (host: string) => Service | undefined {
  const memo = new Map<string, Service | undefined>();
  const hosts = nameToServiceHosts(vs);
  return (host) => {
    if (!hosts.has(host)) return undefined;
    if (!memo.has(host)) {
      const local = ctx.snapshot.services.find(
        (s) => s.hostname === host && s.namespace === vs.namespace && (s.namespace === ctx.proxy.namespace || s.exportTo.includes('*') || s.exportTo.includes(ctx.proxy.namespace)),
      );
      memo.set(host, local ?? ctx.snapshot.serviceFor(host, ctx.proxy.namespace));
    }
    return memo.get(host);
  };
}

/** collapseDuplicateRoutes: hosts whose virtual hosts hold the very same routes share one virtual host. */
function collapse(vhosts: ReadonlyMap<string, VirtualHost>): VirtualHost[] {
  const ids = new Map<Route, number>();
  const idOf = (r: Route): number => {
    let id = ids.get(r);
    if (id === undefined) ids.set(r, (id = ids.size));
    return id;
  };
  const primaries = new Map<string, VirtualHost>();
  const out: VirtualHost[] = [];
  for (const h of [...vhosts.keys()].sort(bySpecificity)) {
    const vh = vhosts.get(h) as VirtualHost;
    const key = `${vh.requireTls}|${vh.includeRequestAttemptCount}|${vh.routes.map(idOf).join(',')}`;
    const primary = primaries.get(key);
    if (primary !== undefined) primary.domains.push(...vh.domains);
    else {
      primaries.set(key, vh);
      out.push(vh);
    }
  }
  return out;
}

/** SortVHostRoutes: catch-all routes move to the end, the others keep their order. */
function catchAllLast(routes: readonly Route[]): Route[] {
  return [...routes.filter((r) => !isCatchAllMatch(r.match)), ...routes.filter((r) => isCatchAllMatch(r.match))];
}

/** One route config: `servers` are the merged servers naming it, with the `ns/name` of their Gateway. */
function buildGatewayRouteConfig(ctx: ProxyContext, routeName: string, servers: readonly { server: Server; gateway: string }[]): RouteConfiguration {
  const vhosts = new Map<string, VirtualHost>();
  const routeCache = new Map<string, Route[]>();
  for (const { gateway, server } of servers) {
    const port = server.port.number;
    const redirect = server.tls?.httpsRedirect === true;
    for (const vs of ctx.snapshot.virtualServices(ctx.proxy.namespace, gateway)) {
      const hosts = intersection(namesForNamespace(server.hosts, vs.namespace), vs.hosts);
      if (hosts.length === 0) continue;
      const cacheKey = `${gateway}|${vs.namespace}/${vs.name}`;
      const lookup = serviceLookup(ctx, vs);
      let routes = routeCache.get(cacheKey);
      if (routes === undefined) {
        const opts: RouteOptions = {
          isTls: server.tls !== undefined,
          proxyless: false,
          servicePorts: (h) => lookup(h)?.ports.map((p) => p.port),
          hash: (d) => hashForDestination(ctx, d),
          lookupService: lookup,
        };
        routes = buildVirtualServiceRoutes(ctx, vs, port, new Set([gateway]), opts);
        if (routes.length === 0) continue;
        routeCache.set(cacheKey, routes);
      }
      for (const raw of hosts) {
        const h = raw.toLowerCase();
        const existing = vhosts.get(h);
        if (existing !== undefined) {
          existing.routes.push(...routes);
          if (redirect) existing.requireTls = TlsRequirement.ALL;
          continue;
        }
        vhosts.set(h, create(VirtualHostSchema, {
          name: domainName(h, port),
          domains: [h],
          routes: [...routes],
          // Only when the virtual host is first made: later VirtualServices for the host add routes, not this.
          typedPerFilterConfig: virtualHostSessionConfig(ctx, lookup(h)),
          includeRequestAttemptCount: true,
          requireTls: redirect ? TlsRequirement.ALL : TlsRequirement.NONE,
        }));
      }
    }
    if (!redirect) continue;
    for (const raw of server.hosts) {
      const h = raw.toLowerCase();
      const existing = vhosts.get(h);
      if (existing !== undefined) existing.requireTls = TlsRequirement.ALL;
      else vhosts.set(h, create(VirtualHostSchema, { name: domainName(h, port), domains: [h], includeRequestAttemptCount: true, requireTls: TlsRequirement.ALL }));
    }
  }
  let virtualHosts: VirtualHost[];
  if (vhosts.size === 0) {
    virtualHosts = [create(VirtualHostSchema, { name: domainName('blackhole', servers[0]?.server.port.number ?? 0), domains: ['*'], routes: [] })];
  } else {
    virtualHosts = collapse(vhosts);
    for (const vh of virtualHosts) vh.routes = catchAllLast(vh.routes);
  }
  return create(RouteConfigurationSchema, {
    name: routeName,
    virtualHosts: sortVirtualHosts(virtualHosts),
    validateClusters: false,
    ignorePortInHostMatching: true,
    maxDirectResponseBodySizeBytes: MAX_DIRECT_RESPONSE_BODY_BYTES,
  });
}

/**
 * Every HTTP route configuration the gateway's merged servers name (the listener builder merges the same
 * way, with the gateway workload's service ports translating server ports, so names agree).
 */
export function buildGatewayRoutes(ctx: ProxyContext): RouteConfiguration[] {
  const merged = mergeGateways(ctx.gateways, ctx.snapshot.serviceTargets(ctx.scope));
  const out: RouteConfiguration[] = [];
  for (const [name, servers] of merged.serversByRouteName) {
    if (name === '') continue;
    out.push(buildGatewayRouteConfig(ctx, name, servers.map((server) => ({ server, gateway: merged.gatewayNameForServer.get(server) ?? '' }))));
  }
  return out;
}
