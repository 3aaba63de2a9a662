// Network (non-HCM) filter chains of a gateway server (Istio's gateway.go createGatewayTCPFilterChainOpts and
// buildGatewayNetworkFiltersFrom{TCP,TLS}Routes, builtAutoPassthroughFilterChains):
// - TCP servers (and TCP servers terminating TLS): the first VirtualService `tcp` route bound to the gateway
//   whose hosts match the server's, as a tcp_proxy; an ISTIO_MUTUAL server's chain starts with the TCP metadata
//   exchange (includeMx), as its clients are mesh proxies that offer `istio-peer-exchange`;
// - PASSTHROUGH: one SNI chain per matching `tls` route match, the TLS left intact;
// - AUTO_PASSTHROUGH: one chain per visible in-mesh service port (and DestinationRule subset) the server's
//   hosts cover, matching the SNI `outbound_.<port>_.<subset>_.<host>` an Istio client sends across networks
//   and the Istio mTLS ALPNs, to the cluster of that name (the cluster translation must build those clusters).

import { warning, type Issue } from '../../lib/issue.js';
import type { Server } from '../../api/networking/gateway.js';
import { effectiveTlsMode, isPassThroughServer } from '../../api/networking/gateway.js';
import { hostMatches } from '../../api/host.js';
import type { L4MatchAttributes, TLSMatchAttributes } from '../../api/networking/virtual-service.js';
import type { VirtualServiceView } from '../../model/snapshot.js';
import type { ProxyContext } from '../context.js';
import { buildGatewayTlsContext } from './downstream-tls.js';
import { chainOpts, type FilterChainOpts } from './filter-chain-opts.js';
import type { MergedGateway } from './merge-gateways.js';
import { outboundNetworkFilters, singleDestinationFilters } from './tcp-proxy.js';
import { ALL_ISTIO_MTLS_ALPNS } from './well-known.js';

/** `outbound_.<port>_.<subset>_.<host>` (model.BuildDNSSrvSubsetKey): the SNI and cluster name of AUTO_PASSTHROUGH. */
export function dnsSrvSubsetKey(subset: string, host: string, port: number): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}

/** host.Name.SubsetOf: every name `n` matches is matched by `o`. */
function hostSubsetOf(n: string, o: string): boolean {
  const nw = n.startsWith('*');
  const ow = o.startsWith('*');
  if (nw) return ow && n.length >= o.length && n.slice(1).endsWith(o.slice(1));
  if (ow) return n.endsWith(o.slice(1));
  return n === o;
}

/** pickMatchingGatewayHosts: does the VirtualService claim a host the server serves (`ns/host` only for that namespace)? */
function matchesServerHosts(server: Server, vs: VirtualServiceView): boolean {
  return vs.hosts.some((vh) =>
    server.hosts.some((gh) => {
      const slash = gh.indexOf('/');
      if (slash >= 0 && gh.slice(0, slash) !== vs.namespace) return false;
      return hostMatches(slash >= 0 ? gh.slice(slash + 1) : gh, vh);
    }),
  );
}

/** l4SingleMatch: port and gateway predicates against the server. */
function l4Match(m: L4MatchAttributes | TLSMatchAttributes, server: Server, gateway: string): boolean {
  const portOk = (m.port ?? 0) === 0 || m.port === server.port.number;
  const gws = m.gateways ?? [];
  return portOk && (gws.length === 0 || gws.includes(gateway));
}

function tcpRouteFilters(ctx: ProxyContext, server: Server, gateway: string): FilterChainOpts['networkFilters'] | undefined {
  for (const vs of ctx.snapshot.virtualServices(ctx.proxy.namespace, gateway)) {
    if (!matchesServerHosts(server, vs)) continue;
    for (const tcp of vs.spec.tcp ?? []) {
      const matches = tcp.match ?? [];
      if (matches.length > 0 && !matches.some((m) => l4Match(m, server, gateway))) continue;
      if ((tcp.route ?? []).length === 0) continue;
      return outboundNetworkFilters(ctx, tcp.route ?? [], server.port.number, vs.ref);
    }
  }
  return undefined;
}

function tlsRouteChains(ctx: ProxyContext, server: Server, gateway: string, known: Map<string, string>, issues: Issue[]): FilterChainOpts[] {
  const out: FilterChainOpts[] = [];
  for (const vs of ctx.snapshot.virtualServices(ctx.proxy.namespace, gateway)) {
    if (!matchesServerHosts(server, vs)) continue;
    (vs.spec.tls ?? []).forEach((tls, i) => {
      if ((tls.route ?? []).length === 0) return;
      for (const m of tls.match ?? []) {
        if (!l4Match(m, server, gateway)) continue;
        const sni = m.sniHosts ?? [];
        const bind = server.bind ?? '';
        const dups = sni.filter((h) => known.get(h) === bind);
        if (dups.length > 0) {
          issues.push(warning(`VirtualService ${vs.namespace}/${vs.name} spec.tls[${i}]`, `skipping rule on server port ${server.port.number} of gateway ${gateway}, duplicate SNI host names: ${dups.join(', ')}`));
          continue;
        }
        for (const h of sni) known.set(h, bind);
        out.push(chainOpts({ sniHosts: sni, networkFilters: outboundNetworkFilters(ctx, tls.route ?? [], server.port.number, vs.ref) }));
      }
    });
  }
  return out;
}

function autoPassthroughChains(ctx: ProxyContext, sniHosts: readonly string[]): FilterChainOpts[] {
  const out: FilterChainOpts[] = [];
  for (const service of ctx.services) {
    if (service.location === 'MESH_EXTERNAL') continue;
    for (const port of service.ports) {
      if (port.protocol === 'UDP' || !sniHosts.some((h) => hostSubsetOf(service.hostname, h))) continue;
      const dr = ctx.destinationRule(service.hostname);
      const cluster = dnsSrvSubsetKey('', service.hostname, port.port);
      out.push(chainOpts({ sniHosts: [cluster], applicationProtocols: ALL_ISTIO_MTLS_ALPNS, networkFilters: singleDestinationFilters(cluster, cluster, '', dr) }));
      for (const subset of dr?.spec.subsets ?? []) {
        const name = dnsSrvSubsetKey(subset.name, service.hostname, port.port);
        out.push(chainOpts({ sniHosts: [name], applicationProtocols: ALL_ISTIO_MTLS_ALPNS, networkFilters: singleDestinationFilters(name, name, subset.name, dr) }));
      }
    }
  }
  return out;
}

/** createGatewayTCPFilterChainOpts; `tlsHosts` tracks SNI hosts already used on this listener port. */
export function gatewayTcpChains(
  ctx: ProxyContext,
  merged: MergedGateway,
  server: Server,
  tlsHosts: Map<string, string>,
  issues: Issue[],
): FilterChainOpts[] {
  const gateway = merged.gatewayNameForServer.get(server) ?? '';
  const missed = (): FilterChainOpts[] => {
    issues.push(warning(`Gateway ${gateway}`, `gateway ${gateway}:${server.port.number} listener missed network filter: no VirtualService tcp route matches the server`));
    return [];
  };
  if (server.tls === undefined) {
    const filters = tcpRouteFilters(ctx, server, gateway);
    return filters !== undefined && filters.length > 0 ? [chainOpts({ networkFilters: filters })] : missed();
  }
  if (!isPassThroughServer(server)) {
    const filters = tcpRouteFilters(ctx, server, gateway);
    if (filters === undefined || filters.length === 0) return missed();
    const tlsContext = buildGatewayTlsContext(server);
    const metadataExchange = effectiveTlsMode(server.tls) === 'ISTIO_MUTUAL';
    return [chainOpts({ sniHosts: merged.tlsServerInfo.get(server)?.sniHosts ?? [], ...(tlsContext !== undefined ? { tlsContext } : {}), networkFilters: filters, metadataExchange })];
  }
  if (effectiveTlsMode(server.tls) === 'AUTO_PASSTHROUGH') return autoPassthroughChains(ctx, merged.tlsServerInfo.get(server)?.sniHosts ?? []);
  return tlsRouteChains(ctx, server, gateway, tlsHosts, issues);
}
