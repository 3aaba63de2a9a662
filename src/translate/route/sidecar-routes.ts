// A sidecar's outbound HTTP route configurations (pilot/pkg/networking/core/httproute.go
// buildSidecarOutboundHTTPRouteConfig, getVirtualHostsForSniffedServicePort):
// - `<port>` for every port a visible service serves HTTP (or an undetected protocol) on: the virtual hosts
//   of that port sorted by name, then the catch-all (`allow_any` / `block_all`), matching hosts without the
//   port;
// - `<host>:<port>` for each service port whose protocol the proxy detects and which has a VIP (Istio gives
//   it its own VIP listener): just that service's virtual host, answering any authority, no catch-all.
// Both are what Istio answers when the listener asks for those names.
// The list is shared by every proxy whose inputs are the same (translate/memo.ts): see routesKey.

import { clone, create } from '@bufbuild/protobuf';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema, type VirtualHost } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { ProxyContext } from '../context.js';
import { identity, memo } from '../memo.js';
import { catchAllVirtualHost } from './default-routes.js';
import { sidecarOutboundRouteName, sniffedServiceRouteName } from './route-names.js';
import { buildSidecarOutboundVirtualHosts, isHttpOrSniffed } from './sidecar-virtual-hosts.js';

/** Envoy's 4 KiB default is too small for direct responses; Istio raises it to what its webhook allows. */
export const MAX_DIRECT_RESPONSE_BODY_BYTES = 1024 * 1024;

/** util.SortVirtualHosts: by name, stable. */
export function sortVirtualHosts(vhosts: VirtualHost[]): VirtualHost[] {
  return vhosts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function sidecarRouteConfig(name: string, virtualHosts: VirtualHost[]): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name,
    virtualHosts,
    validateClusters: false,
    maxDirectResponseBodySizeBytes: MAX_DIRECT_RESPONSE_BODY_BYTES,
    ignorePortInHostMatching: true,
  });
}

/** getVirtualHostsForSniffedServicePort: the one virtual host naming the service, answering every authority. */
function sniffedVirtualHosts(vhosts: readonly VirtualHost[], hostname: string, routeName: string): VirtualHost[] {
  const hits = vhosts.filter((vh) => vh.domains.some((d) => d === routeName || d === hostname));
  const only = hits[0];
  if (hits.length === 1 && only !== undefined) {
    const vh = clone(VirtualHostSchema, only);
    vh.domains = ['*'];
    return [vh];
  }
  return hits;
}

/** The ports of visible services that carry HTTP (or a protocol to detect), ascending. */
export function sidecarHttpPorts(ctx: ProxyContext): number[] {
  const ports = new Set<number>();
  for (const svc of ctx.services) for (const p of svc.ports) if (isHttpOrSniffed(p.protocol)) ports.add(p.port);
  return [...ports].sort((a, b) => a - b);
}

/**
 * Everything the sidecar's outbound route configurations read besides the snapshot itself: proxy type,
 * namespace (sourceNamespace) and DNS domain (short-name domains), the Sidecar, the visible services and
 * VirtualServices, the DestinationRule of every host a hash policy may be looked up for (each service and
 * each route destination), and which `sourceLabels` matches the proxy's labels satisfy.
 */
function routesKey(ctx: ProxyContext): string {
  const hosts = new Set<string>();
  const services: string[] = [];
  for (const s of ctx.services) {
    services.push(identity(s));
    hosts.add(s.hostname).add(s.hostname.toLowerCase());
  }
  const vss: string[] = [];
  let sources = '';
  for (const vs of ctx.meshVirtualServices) {
    vss.push(identity(vs));
    for (const http of vs.spec.http ?? []) {
      for (const r of http.route ?? []) if (r.destination?.host !== undefined) hosts.add(r.destination.host);
      for (const m of http.match ?? []) {
        const labels = Object.entries(m.sourceLabels ?? {});
        if (labels.length > 0) sources += labels.every(([k, v]) => ctx.proxy.labels[k] === v) ? '1' : '0';
      }
    }
  }
  const rules: string[] = [];
  for (const h of hosts) rules.push(identity(ctx.destinationRule(h)));
  const p = ctx.proxy;
  return `sidecar-routes|${p.type}|${p.namespace}|${p.dnsDomain}|${identity(ctx.sidecar)}|${sources}|${services.join(',')}|${vss.join(',')}|${rules.join(',')}`;
}

export function buildSidecarOutboundRoutes(ctx: ProxyContext): RouteConfiguration[] {
  // A copy: the caller sorts the list it gets.
  return [...memo(ctx.snapshot, routesKey(ctx), () => sidecarOutboundRoutes(ctx))];
}

function sidecarOutboundRoutes(ctx: ProxyContext): readonly RouteConfiguration[] {
  const out: RouteConfiguration[] = [];
  for (const port of sidecarHttpPorts(ctx)) {
    const vhosts = buildSidecarOutboundVirtualHosts(ctx, port, true);
    out.push(sidecarRouteConfig(sidecarOutboundRouteName(port), [...sortVirtualHosts([...vhosts]), catchAllVirtualHost(ctx)]));
    for (const svc of ctx.services) {
      const sp = svc.ports.find((p) => p.port === port);
      const vip = svc.addresses[0];
      if (sp === undefined || sp.protocol !== undefined || vip === undefined || vip === '0.0.0.0') continue;
      const name = sniffedServiceRouteName(svc.hostname, port);
      out.push(sidecarRouteConfig(name, sortVirtualHosts(sniffedVirtualHosts(vhosts, svc.hostname, name))));
    }
  }
  return out;
}
