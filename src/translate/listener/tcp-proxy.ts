// tcp_proxy network filters toward VirtualService `tcp`/`tls` route destinations (Istio's networkfilter.go
// buildOutboundNetworkFilters*): one destination -> `cluster`, several -> `weighted_clusters` (weight 0 routes
// dropped) with stat prefix `<vs name>.<vs namespace>`; idle timeout and max connection duration from the
// DestinationRule's connectionPool.tcp; a source-IP hash policy when the (subset's) load balancer hashes on
// the source IP. Cluster names follow route.GetDestinationCluster.

import { create } from '@bufbuild/protobuf';
import type { RouteDestination, Destination } from '../../api/networking/virtual-service.js';
import type { DestinationRuleView, ConfigRef } from '../../model/snapshot.js';
import type { Service } from '../../registry/types.js';
import { pack } from '../../xds/codec.js';
import { subsetKey } from '../../xds/names.js';
import { FilterSchema, type Filter } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { TcpProxySchema, TcpProxy_WeightedClusterSchema, type TcpProxy } from '../../xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { HashPolicySchema } from '../../xds/gen/envoy/type/v3/hash_policy_pb.js';
import type { ProxyContext } from '../context.js';
import { TCP_PROXY_FILTER } from './well-known.js';
import { durationFromString } from '../proto-values.js';

export function tcpProxyFilter(tcp: TcpProxy): Filter {
  return create(FilterSchema, { name: TCP_PROXY_FILTER, configType: { case: 'typedConfig', value: pack(TcpProxySchema, tcp) } });
}

/** tcp_proxy straight to `cluster` with no policy (catch-all, blackhole and inbound chains). */
export function plainTcpProxy(statPrefix: string, cluster: string): Filter {
  return tcpProxyFilter(create(TcpProxySchema, { statPrefix, clusterSpecifier: { case: 'cluster', value: cluster } }));
}

/**
 * GetDestinationCluster: `outbound|<port>|<subset>|<host>`, the port being the destination's, else the
 * service's only port, else the listener port.
 */
export function destinationCluster(d: Destination | undefined, service: Service | undefined, listenerPort: number): string {
  const host = d?.host ?? '';
  if (host === '') return 'UnknownService';
  let port = listenerPort;
  if (d?.port?.number !== undefined) port = d.port.number;
  else if (service !== undefined && service.ports.length === 1) port = (service.ports[0] as Service['ports'][number]).port;
  return subsetKey('outbound', d?.subset === '' ? undefined : d?.subset, host, port);
}

/** maybeSetHashPolicy: source-IP hashing from the rule, overridden by the subset's own load balancer. */
function usesSourceIpHash(dr: DestinationRuleView | undefined, subset: string): boolean {
  if (dr === undefined) return false;
  let useSourceIp = dr.spec.trafficPolicy?.loadBalancer?.consistentHash?.useSourceIp ?? false;
  const s = (dr.spec.subsets ?? []).find((x) => x.name === subset);
  const lb = s?.trafficPolicy?.loadBalancer;
  if (lb !== undefined) useSourceIp = lb.consistentHash?.useSourceIp ?? false;
  return useSourceIp;
}

function baseTcpProxy(statPrefix: string, dr: DestinationRuleView | undefined, subset: string): TcpProxy {
  const tcp = dr?.spec.trafficPolicy?.connectionPool?.tcp;
  const idle = tcp?.idleTimeout !== undefined ? durationFromString(tcp.idleTimeout) : undefined;
  const maxDuration = tcp?.maxConnectionDuration !== undefined ? durationFromString(tcp.maxConnectionDuration) : undefined;
  const out = create(TcpProxySchema, {
    statPrefix,
    ...(idle !== undefined ? { idleTimeout: idle } : {}),
    ...(maxDuration !== undefined ? { maxDownstreamConnectionDuration: maxDuration } : {}),
  });
  if (usesSourceIpHash(dr, subset)) out.hashPolicy = [create(HashPolicySchema, { policySpecifier: { case: 'sourceIp', value: {} } })];
  return out;
}

/** buildOutboundNetworkFiltersWithSingleDestination. */
export function singleDestinationFilters(statPrefix: string, cluster: string, subset: string, dr: DestinationRuleView | undefined): Filter[] {
  const tcp = baseTcpProxy(statPrefix, dr, subset);
  tcp.clusterSpecifier = { case: 'cluster', value: cluster };
  return [tcpProxyFilter(tcp)];
}

/** buildOutboundNetworkFilters: the tcp_proxy for a `tcp`/`tls` route's destinations, looked up as `ctx`'s proxy sees them. */
export function outboundNetworkFilters(ctx: ProxyContext, routes: readonly RouteDestination[], listenerPort: number, vs: ConfigRef): Filter[] {
  const first = routes[0];
  const host = first?.destination?.host ?? '';
  const service = ctx.snapshot.serviceFor(host, ctx.proxy.namespace);
  const dr = service !== undefined ? ctx.destinationRule(service.hostname) : undefined;
  const weighted = routes.filter((r) => (r.weight ?? 0) > 0);
  if (routes.length === 1 || weighted.length === 0) {
    const cluster = destinationCluster(first?.destination, service, listenerPort);
    return singleDestinationFilters(cluster, cluster, first?.destination?.subset ?? '', dr);
  }
  const tcp = baseTcpProxy(`${vs.name}.${vs.namespace}`, dr, '');
  const clusters = weighted.map((r) => ({
    name: destinationCluster(r.destination, ctx.snapshot.serviceFor(r.destination?.host ?? '', ctx.proxy.namespace), listenerPort),
    weight: r.weight ?? 0,
  }));
  tcp.clusterSpecifier = { case: 'weightedClusters', value: create(TcpProxy_WeightedClusterSchema, { clusters }) };
  return [tcpProxyFilter(tcp)];
}
