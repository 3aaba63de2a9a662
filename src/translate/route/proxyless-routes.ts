// Route configurations for proxyless gRPC clients (pilot/pkg/networking/grpcgen/rds.go buildHTTPRoute,
// filterVirtualHostsForHostname): one per service port, named `outbound|<port>||<host>` as the client's
// api_listener asks, holding only the virtual hosts that name that host (exactly, with the port, or by a
// wildcard domain). Domains keep their `:port` forms, since gRPC matches the target authority literally;
// there is no catch-all virtual host.

import { create } from '@bufbuild/protobuf';
import { hostMatches } from '../../api/host.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import type { VirtualHost } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { ProxyContext } from '../context.js';
import { proxylessRouteName } from './route-names.js';
import { buildSidecarOutboundVirtualHosts } from './sidecar-virtual-hosts.js';
import { domainName, ipv6Compliant } from './virtual-host-domains.js';

function splitHostPort(domain: string): { host: string; port: string } {
  const m = /^\[(.*)\]:(\d+)$/.exec(domain) ?? /^([^:]*):(\d+)$/.exec(domain);
  return m === null ? { host: domain, port: '' } : { host: m[1] ?? '', port: m[2] ?? '' };
}

/** filterVirtualHostsForHostname */
function forHostname(vhosts: readonly VirtualHost[], hostname: string, port: number): VirtualHost[] {
  const h = hostname.toLowerCase();
  const wantHost = ipv6Compliant(h);
  const wantHostPort = domainName(h, port);
  const wantPort = String(port);
  return vhosts.filter((vh) =>
    vh.domains.some((d) => {
      const domain = d.toLowerCase();
      if (domain === wantHost || domain === wantHostPort) return true;
      const { host, port: dp } = splitHostPort(domain);
      if (host.startsWith('*') && (dp === '' || dp === wantPort) && hostMatches(host, h)) return true;
      return host === wantHost && (dp === '' || dp === wantPort);
    }),
  );
}

export function buildProxylessRoutes(ctx: ProxyContext): RouteConfiguration[] {
  const byPort = new Map<number, VirtualHost[]>();
  const out: RouteConfiguration[] = [];
  for (const svc of ctx.services) {
    for (const p of svc.ports) {
      let vhosts = byPort.get(p.port);
      if (vhosts === undefined) byPort.set(p.port, (vhosts = buildSidecarOutboundVirtualHosts(ctx, p.port, false)));
      out.push(create(RouteConfigurationSchema, { name: proxylessRouteName(svc.hostname, p.port), virtualHosts: forHostname(vhosts, svc.hostname, p.port) }));
    }
  }
  return out;
}
