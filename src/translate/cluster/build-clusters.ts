// CDS for one proxy, as Istio's BuildClusters (pilot/pkg/networking/core/cluster.go) and, for proxyless
// gRPC, its gRPC generator (pilot/pkg/networking/grpcgen/cds.go):
// - sidecar: outbound clusters of every visible service, BlackHoleCluster, PassthroughCluster, the inbound
//   clusters of its own workload ports and the inbound passthrough cluster;
// - router (gateway): outbound clusters of every visible service (Istio's default, without
//   PILOT_FILTER_GATEWAY_CLUSTER_CONFIG) and BlackHoleCluster, no passthrough; with an AUTO_PASSTHROUGH
//   server also the SNI-DNAT clusters `outbound_.<port>_.<subset>_.<host>` (auto-passthrough-clusters.ts);
// - proxyless: bare EDS outbound clusters only.
// Duplicate names keep the first cluster (normalizeClusters). The caller sorts by name.

import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ProxyContext } from '../context.js';
import { buildAutoPassthroughClusters } from './auto-passthrough-clusters.js';
import { buildBlackHoleCluster, buildInboundPassthroughCluster, buildPassthroughCluster } from './fixed-clusters.js';
import { buildInboundClusters } from './inbound-clusters.js';
import { buildOutboundServiceClusters } from './outbound-clusters.js';
import { buildProxylessServiceClusters } from './proxyless-clusters.js';

function dedupe(clusters: readonly Cluster[]): Cluster[] {
  const seen = new Set<string>();
  return clusters.filter((c) => {
    if (seen.has(c.name)) return false;
    seen.add(c.name);
    return true;
  });
}

export function buildClusters(ctx: ProxyContext): Cluster[] {
  const mesh = ctx.snapshot.mesh;
  switch (ctx.proxy.type) {
    case 'proxyless':
      return dedupe(ctx.services.flatMap((s) => buildProxylessServiceClusters(ctx, s)));
    case 'router':
      return dedupe([...ctx.services.flatMap((s) => buildOutboundServiceClusters(ctx, s)), buildBlackHoleCluster(mesh), ...buildAutoPassthroughClusters(ctx)]);
    case 'sidecar':
      return dedupe([
        ...ctx.services.flatMap((s) => buildOutboundServiceClusters(ctx, s)),
        buildBlackHoleCluster(mesh),
        buildPassthroughCluster(mesh),
        ...buildInboundClusters(ctx),
        buildInboundPassthroughCluster(mesh),
      ]);
  }
}
