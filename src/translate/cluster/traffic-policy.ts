// Applying one resolved DestinationRule traffic policy to a cluster, in Istio's order (applyTrafficPolicy,
// pilot/pkg/networking/core/cluster_traffic_policy.go): HTTP/2 upgrade, connection pool (both directions),
// then for outbound clusters outlier detection, load balancing (which reads the outlier detection for
// locality failover) and TLS. ORIGINAL_DST clusters always end CLUSTER_PROVIDED.
//
// The policy passed in is already resolved for the cluster's port and subset (Istio's
// GetPortLevelTrafficPolicy / MergeSubsetTrafficPolicy, here portLevelTrafficPolicy / subsetTrafficPolicy in
// src/api/networking/destination-rule.ts). tunnel and proxyProtocol are not translated.

import type { TrafficPolicy } from '../../api/networking/destination-rule.js';
import type { Protocol } from '../../api/networking/protocol.js';
import type { MeshConfig } from '../../model/mesh-config.js';
import { Cluster_DiscoveryType, Cluster_LbPolicy } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { LocalityViewer } from '../endpoint/locality-lb.js';
import { discoveryTypeOf, type MutableCluster } from './cluster-wrapper.js';
import { applyConnectionPool, applyH2Upgrade } from './connection-pool.js';
import { applyLoadBalancer } from './load-balancer.js';
import { applyOutlierDetection } from './outlier-detection.js';
import { applyUpstreamTls, type UpstreamTlsOptions } from './tls.js';

export interface OutboundPolicyContext {
  readonly mesh: MeshConfig;
  readonly protocol: Protocol | undefined;
  readonly viewer: LocalityViewer;
  readonly tls: UpstreamTlsOptions;
}

function finishOriginalDst(mc: MutableCluster): void {
  if (discoveryTypeOf(mc.cluster) === Cluster_DiscoveryType.ORIGINAL_DST) mc.cluster.lbPolicy = Cluster_LbPolicy.CLUSTER_PROVIDED;
}

/** applyTrafficPolicy for an outbound cluster. */
export function applyOutboundPolicy(mc: MutableCluster, policy: TrafficPolicy | undefined, o: OutboundPolicyContext): void {
  const cp = policy?.connectionPool ?? {};
  applyH2Upgrade(mc, o.protocol, cp);
  applyConnectionPool(o.mesh, mc, cp, policy?.retryBudget);
  applyOutlierDetection(mc.cluster, policy?.outlierDetection);
  applyLoadBalancer(mc, policy?.loadBalancer, o.viewer);
  applyUpstreamTls(mc, policy?.tls, o.tls);
  finishOriginalDst(mc);
}

/** applyTrafficPolicy for an inbound cluster: only the connection pool applies (server-side capacity). */
export function applyInboundPolicy(mc: MutableCluster, policy: TrafficPolicy | undefined, mesh: MeshConfig): void {
  applyConnectionPool(mesh, mc, policy?.connectionPool ?? {}, policy?.retryBudget);
  finishOriginalDst(mc);
}
