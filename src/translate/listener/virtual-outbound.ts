// The sidecar's capture listener `virtualOutbound` on 0.0.0.0:15001 (Istio's listener_builder.go
// buildVirtualOutboundListener): iptables redirects every outbound connection here; use_original_dst hands it
// to the listener for its original destination, and what no listener claims falls through to the catch-all
// chain: PassthroughCluster under ALLOW_ANY (or the Sidecar's egressProxy), BlackHoleCluster under
// REGISTRY_ONLY. Connections addressed to 15001 itself are blackholed so they cannot loop. Both chains (and the
// PassthroughFilterChain of every outbound listener) count in the CLIENT-side istio.stats filters, before
// tcp_proxy, as Istio's blackholeFilterChain and buildOutboundCatchAllNetworkFiltersOnly do.

import { create } from '@bufbuild/protobuf';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { FilterChainMatchSchema, FilterChainSchema, type Filter, type FilterChain } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { TrafficDirection } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { BLACKHOLE_CLUSTER, PASSTHROUGH_CLUSTER, VIRTUAL_OUTBOUND_LISTENER, VIRTUAL_OUTBOUND_PORT } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { socketAddress } from './address.js';
import { destinationCluster, plainTcpProxy } from './tcp-proxy.js';
import { statsNetworkFilters } from '../telemetry/stats-filter.js';
import { VIRTUAL_OUTBOUND_BLACKHOLE_CHAIN, VIRTUAL_OUTBOUND_CATCHALL_TCP_CHAIN } from './well-known.js';

/** Where unknown outbound traffic goes for this proxy: the Sidecar's outboundTrafficPolicy, else the mesh's. */
export function catchAllCluster(ctx: ProxyContext): string {
  const policy = ctx.sidecar?.spec.outboundTrafficPolicy;
  // An outboundTrafficPolicy without a mode is REGISTRY_ONLY (the proto enum's zero value).
  const mode = policy !== undefined ? (policy.mode ?? 'REGISTRY_ONLY') : ctx.snapshot.mesh.outboundTrafficPolicy;
  if (mode === 'REGISTRY_ONLY') return BLACKHOLE_CLUSTER;
  if (policy?.egressProxy !== undefined) return destinationCluster(policy.egressProxy, undefined, 0);
  return PASSTHROUGH_CLUSTER;
}

/** buildOutboundCatchAllNetworkFiltersOnly: the tcp_proxy ending every outbound listener's default chain. */
export function outboundCatchAllFilters(ctx: ProxyContext): Filter[] {
  const cluster = catchAllCluster(ctx);
  return [...statsNetworkFilters(ctx, 'sidecar-outbound'), plainTcpProxy(cluster, cluster)];
}

function blackholeChain(ctx: ProxyContext): FilterChain {
  return create(FilterChainSchema, {
    name: VIRTUAL_OUTBOUND_BLACKHOLE_CHAIN,
    filterChainMatch: create(FilterChainMatchSchema, { destinationPort: VIRTUAL_OUTBOUND_PORT }),
    filters: [...statsNetworkFilters(ctx, 'sidecar-outbound'), plainTcpProxy(BLACKHOLE_CLUSTER, BLACKHOLE_CLUSTER)],
  });
}

export function buildVirtualOutboundListener(ctx: ProxyContext): Listener {
  return create(ListenerSchema, {
    name: VIRTUAL_OUTBOUND_LISTENER,
    address: socketAddress('0.0.0.0', VIRTUAL_OUTBOUND_PORT),
    useOriginalDst: true,
    filterChains: [blackholeChain(ctx), create(FilterChainSchema, { name: VIRTUAL_OUTBOUND_CATCHALL_TCP_CHAIN, filters: outboundCatchAllFilters(ctx) })],
    trafficDirection: TrafficDirection.OUTBOUND,
    maxConnectionsToAcceptPerSocketEvent: 1,
  });
}
