// The SNI-DNAT clusters of a router serving an AUTO_PASSTHROUGH Gateway server (Istio's
// buildOutboundSniDnatClusters, pilot/pkg/networking/core/cluster.go, with applyDestinationRule /
// buildSubsetCluster in SniDnatClusterMode): for every visible in-mesh service port (UDP aside),
// `outbound_.<port>_._.<host>` and, per DestinationRule subset, `outbound_.<port>_.<subset>_.<host>`
// (model.BuildDNSSrvSubsetKey) — the names the listener's AUTO_PASSTHROUGH filter chains route to
// (listener/gateway-tcp-chains.ts). They are the outbound clusters without TLS origination or proxy protocol:
// the client's mTLS passes through untouched to the destination. They carry the TCP metadata exchange
// upstream filter as the outbound clusters do (applyDestinationRule's applyMetadataExchange runs in both modes).
//
// One deliberate difference from Istio: an EDS cluster reads the assignment of its outbound twin
// (service_name `outbound|<port>|<subset>|<host>`) instead of one named after itself, so both share one
// ClusterLoadAssignment (same endpoints, same locality policy) and the endpoint translation needs no second
// naming scheme.

import type { Subset, TrafficPolicy } from '../../api/networking/destination-rule.js';
import { portLevelTrafficPolicy, subsetTrafficPolicy } from '../../api/networking/destination-rule.js';
import type { DestinationRuleView } from '../../model/snapshot.js';
import type { Service, ServicePort } from '../../registry/types.js';
import { Cluster_DiscoveryType, Cluster_LbPolicy, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { subsetKey } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { proxyLocalityView } from '../endpoint/topology-labels.js';
import { mergeGateways } from '../listener/merge-gateways.js';
import { addAlpnOverrideMetadata, addConfigMetadata, addSubsetMetadata } from './cluster-metadata.js';
import { applyEdsConfig, discoveryTypeOf, finishCluster, type MutableCluster } from './cluster-wrapper.js';
import { applyConnectionPool, applyH2Upgrade } from './connection-pool.js';
import { applyLoadBalancer } from './load-balancer.js';
import { baseClusterFor, dnsSrvSubsetKey, discoveryTypeFor } from './outbound-clusters.js';
import { applyOutlierDetection } from './outlier-detection.js';
import { applyClusterMetadataExchange } from '../telemetry/metadata-exchange.js';


interface PortScope {
  readonly ctx: ProxyContext;
  readonly service: Service;
  readonly port: ServicePort;
  readonly dr: DestinationRuleView | undefined;
}

/** applyTrafficPolicy in SniDnatClusterMode: everything but upstream TLS and proxy protocol. */
function applySniDnatPolicy(s: PortScope, mc: MutableCluster, policy: TrafficPolicy | undefined): void {
  const cp = policy?.connectionPool ?? {};
  applyH2Upgrade(mc, s.port.protocol, cp);
  applyConnectionPool(s.ctx.snapshot.mesh, mc, cp, policy?.retryBudget);
  applyOutlierDetection(mc.cluster, policy?.outlierDetection);
  applyLoadBalancer(mc, policy?.loadBalancer, proxyLocalityView(s.ctx.proxy));
  if (discoveryTypeOf(mc.cluster) === Cluster_DiscoveryType.ORIGINAL_DST) mc.cluster.lbPolicy = Cluster_LbPolicy.CLUSTER_PROVIDED;
}

/** maybeApplyEdsConfig, reading the outbound twin's assignment. */
function applySharedEds(mc: MutableCluster, twin: string): void {
  applyEdsConfig(mc.cluster);
  if (mc.cluster.edsClusterConfig !== undefined) mc.cluster.edsClusterConfig.serviceName = twin;
}

function subsetCluster(s: PortScope & { dr: DestinationRuleView }, defaultType: Cluster_DiscoveryType | undefined, subset: Subset): Cluster | undefined {
  const { service, port } = s;
  const passthrough = subset.trafficPolicy?.loadBalancer?.simple === 'PASSTHROUGH';
  const type = passthrough ? Cluster_DiscoveryType.ORIGINAL_DST : (defaultType ?? Cluster_DiscoveryType.EDS);
  const mc = baseClusterFor(s, dnsSrvSubsetKey(subset.name, service.hostname, port.port), type, subset.name);
  if (mc === undefined) return undefined;
  const policy = subsetTrafficPolicy(s.dr.spec, subset.name, port.port);
  applySniDnatPolicy(s, mc, policy);
  applySharedEds(mc, subsetKey('outbound', subset.name, service.hostname, port.port));
  applyClusterMetadataExchange(mc.cluster);
  addConfigMetadata(mc.cluster, s.dr.ref);
  addSubsetMetadata(mc.cluster, subset.name);
  addAlpnOverrideMetadata(mc.cluster, policy?.tls?.mode);
  return finishCluster(mc);
}

function portClusters(ctx: ProxyContext, service: Service, port: ServicePort): Cluster[] {
  const dr = ctx.destinationRule(service.hostname);
  const s: PortScope = { ctx, service, port, dr };
  const mc = baseClusterFor(s, dnsSrvSubsetKey(undefined, service.hostname, port.port), discoveryTypeFor(ctx.proxy.type, service), undefined);
  if (mc === undefined) return [];
  const policy = portLevelTrafficPolicy(dr?.spec.trafficPolicy, port.port).policy;
  applySniDnatPolicy(s, mc, policy);
  applySharedEds(mc, subsetKey('outbound', undefined, service.hostname, port.port));
  applyClusterMetadataExchange(mc.cluster);
  if (dr !== undefined) {
    addConfigMetadata(mc.cluster, dr.ref);
    addAlpnOverrideMetadata(mc.cluster, policy?.tls?.mode);
  }
  const defaultType = discoveryTypeOf(mc.cluster);
  const out = [finishCluster(mc)];
  if (dr !== undefined) {
    for (const subset of dr.spec.subsets ?? []) {
      const c = subsetCluster({ ...s, dr }, defaultType, subset);
      if (c !== undefined) out.push(c);
    }
  }
  return out;
}

/** The SNI-DNAT clusters, or none when no Gateway server of this router is AUTO_PASSTHROUGH. */
export function buildAutoPassthroughClusters(ctx: ProxyContext): Cluster[] {
  if (ctx.proxy.type !== 'router' || ctx.gateways.length === 0) return [];
  if (!mergeGateways(ctx.gateways, ctx.snapshot.serviceTargets(ctx.scope)).containsAutoPassthrough) return [];
  return ctx.services
    .filter((s) => s.location !== 'MESH_EXTERNAL')
    .flatMap((s) => s.ports.filter((p) => p.protocol !== 'UDP').flatMap((p) => portClusters(ctx, s, p)));
}
