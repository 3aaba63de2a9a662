// Outbound TCP and TLS filter chains of a sidecar's per-port listener (Istio's tls.go
// buildSidecarOutboundTLSFilterChainOpts / buildSidecarOutboundTCPFilterChainOpts): VirtualService `tls`
// routes become SNI chains, `tcp` routes become destination-CIDR or catch-all chains, and without a matching
// route the service's own `outbound|<port>||<host>` cluster. Static predicates (gateways, source labels, port,
// source namespace) are evaluated here; SNI and destination subnets are left to Envoy.

import type { L4MatchAttributes, TLSMatchAttributes } from '../../api/networking/virtual-service.js';
import { MESH_GATEWAY } from '../../api/networking/virtual-service.js';
import { hostMatches } from '../../api/host.js';
import { isTlsProtocol, type Protocol } from '../../api/networking/protocol.js';
import type { VirtualServiceView } from '../../model/snapshot.js';
import type { Labels, Service } from '../../registry/types.js';
import { subsetKey } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { chainOpts, configMetadata, type FilterChainOpts } from './filter-chain-opts.js';
import { outboundNetworkFilters, singleDestinationFilters } from './tcp-proxy.js';

/** The port a listener is built for: a service port, or a Sidecar egress port. */
export interface ListenPort {
  readonly port: number;
  readonly name: string;
  /** Undefined: not declared, the proxy sniffs it. */
  readonly protocol: Protocol | undefined;
}

export interface OutboundChainInput {
  readonly service: Service;
  readonly port: ListenPort;
  /** The listener's bind address (`0.0.0.0`, a VIP or a pod IP). */
  readonly bind: string;
  /** Destination CIDRs the chains must match (a CIDR service address, or headless pod IPs). */
  readonly cidrs: readonly string[];
  /** VirtualServices whose hosts match the service, in Istio's order. */
  readonly virtualServices: readonly VirtualServiceView[];
}

const WILDCARD = '0.0.0.0';

function labelsSubset(want: Labels | undefined, have: Labels): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => have[k] === v);
}

/** matchTLS / matchTCP: the predicates a sidecar can decide when its config is built. */
function staticMatch(m: L4MatchAttributes | TLSMatchAttributes, ctx: ProxyContext, port: number): boolean {
  const gateways = m.gateways ?? [];
  return (
    (gateways.length === 0 || gateways.includes(MESH_GATEWAY)) &&
    labelsSubset(m.sourceLabels, ctx.proxy.labels) &&
    ((m.port ?? 0) === 0 || m.port === port) &&
    ((m.sourceNamespace ?? '') === '' || m.sourceNamespace === ctx.proxy.namespace)
  );
}

/** getConfigsForHost: the VirtualServices with a host matching `hostname`. */
export function virtualServicesForHost(hostname: string, vss: readonly VirtualServiceView[]): VirtualServiceView[] {
  return vss.filter((v) => v.hosts.some((h) => hostMatches(h, hostname)));
}

/** The first address a service listens on for this proxy (GetAddressForProxy); `0.0.0.0` when it has none. */
export function serviceAddress(service: Service): string {
  return service.addresses[0] ?? WILDCARD;
}

/** The port a default route targets: the service's only port, else the listener port. */
function defaultPort(service: Service, port: ListenPort): number {
  return service.ports.length === 1 ? (service.ports[0] as Service['ports'][number]).port : port.port;
}

export function buildOutboundTlsChains(ctx: ProxyContext, input: OutboundChainInput): FilterChainOpts[] {
  const { service, port } = input;
  if (!isTlsProtocol(port.protocol)) return [];
  let cidrs = input.cidrs;
  const handled = new Set<string>();
  const out: FilterChainOpts[] = [];
  for (const vs of input.virtualServices) {
    for (const tls of vs.spec.tls ?? []) {
      if ((tls.route ?? []).length === 0) continue;
      for (const m of tls.match ?? []) {
        if (!staticMatch(m, ctx, port.port)) continue;
        if ((m.destinationSubnets ?? []).length > 0 && port.port > 0) cidrs = m.destinationSubnets ?? [];
        const key = `${(m.sniHosts ?? []).join(',')}|${(m.destinationSubnets ?? []).join(',')}`;
        if (!handled.has(key)) {
          out.push(chainOpts({
            metadata: configMetadata(vs.ref),
            sniHosts: m.sniHosts ?? [],
            destinationCidrs: cidrs,
            networkFilters: outboundNetworkFilters(ctx, tls.route ?? [], port.port, vs.ref),
          }));
        }
        handled.add(key);
      }
    }
  }
  if (out.length > 0) return out;
  // No TLS route: straight to the service. Match on SNI only when the listener cannot tell services apart
  // by address (wildcard bind, or CIDR matches).
  const cluster = subsetKey('outbound', undefined, service.hostname, defaultPort(service, port));
  let address = serviceAddress(service);
  if (address.includes('/')) address = '';
  const needSni = cidrs.length > 0 || address === '' || (address === WILDCARD && input.bind === WILDCARD);
  return [chainOpts({
    sniHosts: needSni ? [service.hostname] : [],
    destinationCidrs: cidrs,
    networkFilters: singleDestinationFilters(cluster, cluster, '', ctx.destinationRule(service.hostname)),
  })];
}

export function buildOutboundTcpChains(ctx: ProxyContext, input: OutboundChainInput): FilterChainOpts[] {
  const { service, port, cidrs } = input;
  if (isTlsProtocol(port.protocol)) return [];
  const out: FilterChainOpts[] = [];
  let defaultAdded = false;
  outer: for (const vs of input.virtualServices) {
    for (const tcp of vs.spec.tcp ?? []) {
      const routes = tcp.route ?? [];
      if (routes.length === 0) continue;
      const matches = tcp.match ?? [];
      if (matches.length === 0) {
        out.push(chainOpts({ metadata: configMetadata(vs.ref), destinationCidrs: cidrs, networkFilters: outboundNetworkFilters(ctx, routes, port.port, vs.ref) }));
        defaultAdded = true;
        break outer;
      }
      const subnets: string[] = [];
      for (const m of matches) {
        if (!staticMatch(m, ctx, port.port)) continue;
        if ((m.destinationSubnets ?? []).length === 0 || port.port === 0) {
          out.push(chainOpts({ metadata: configMetadata(vs.ref), destinationCidrs: cidrs, networkFilters: outboundNetworkFilters(ctx, routes, port.port, vs.ref) }));
          defaultAdded = true;
          break outer;
        }
        subnets.push(...(m.destinationSubnets ?? []));
      }
      if (subnets.length > 0) {
        out.push(chainOpts({ destinationCidrs: subnets, networkFilters: outboundNetworkFilters(ctx, routes, port.port, vs.ref) }));
        // A chain with the service's own CIDRs already exists: the default one would duplicate it.
        if ([...subnets].sort().join(',') === [...cidrs].sort().join(',')) defaultAdded = true;
      }
    }
  }
  if (!defaultAdded) {
    const cluster = subsetKey('outbound', undefined, service.hostname, defaultPort(service, port));
    out.push(chainOpts({ destinationCidrs: cidrs, networkFilters: singleDestinationFilters(cluster, cluster, '', ctx.destinationRule(service.hostname)) }));
  }
  return out;
}
