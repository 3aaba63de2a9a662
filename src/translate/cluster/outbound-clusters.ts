// Outbound clusters of one service for sidecars and gateways, as Istio's buildOutboundClusters,
// applyDestinationRule and buildSubsetCluster (pilot/pkg/networking/core/cluster.go, cluster_builder.go):
// `outbound|<port>||<host>` per non-UDP port plus `outbound|<port>|<subset>|<host>` per DestinationRule
// subset. The discovery type follows the resolution (STATIC -> EDS, DNS -> STRICT_DNS with the endpoints
// inline, DNS_ROUND_ROBIN -> LOGICAL_DNS, NONE -> ORIGINAL_DST, or EDS on gateways); the default cluster
// takes the rule's policy for the port, a subset cluster that policy overridden by the subset's. Each carries
// the TCP metadata exchange as its upstream filter (applyMetadataExchange).

import { create } from '@bufbuild/protobuf';
import { portLevelTrafficPolicy, subsetTrafficPolicy, type Subset } from '../../api/networking/destination-rule.js';
import type { DestinationRuleView } from '../../model/snapshot.js';
import type { ProxyType } from '../../model/proxy.js';
import type { Service, ServicePort } from '../../registry/types.js';
import { Cluster_DiscoveryType, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HealthStatus, HealthStatusSetSchema } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import { subsetKey } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { sendsDrainingEndpoints } from '../endpoint/endpoint-policy.js';
import { clusterEndpoints } from '../endpoint/locality-endpoints.js';
import { proxyLocalityView } from '../endpoint/topology-labels.js';
import { buildBaseCluster } from './base-cluster.js';
import { addAlpnOverrideMetadata, addConfigMetadata, addSubsetMetadata, markExternal } from './cluster-metadata.js';
import { applyEdsConfig, discoveryTypeOf, finishCluster, type MutableCluster } from './cluster-wrapper.js';
import { inferServiceMtlsMode, serviceAccounts, type UpstreamTlsOptions } from './tls.js';
import { applyOutboundPolicy, type OutboundPolicyContext } from './traffic-policy.js';
import { applyClusterMetadataExchange } from '../telemetry/metadata-exchange.js';
import { identity, memo } from '../memo.js';
import { ipFamilyKey, localityViewerKey } from '../endpoint/topology-labels.js';

/** model.BuildDNSSrvSubsetKey: `outbound_.9080_.v1_.reviews.default.svc.cluster.local`, Istio's mTLS SNI. */
export function dnsSrvSubsetKey(subset: string | undefined, host: string, port: number): string {
  return `outbound_.${port}_.${subset ?? ''}_.${host}`;
}

/** convertResolution. */
export function discoveryTypeFor(proxyType: ProxyType, service: Service): Cluster_DiscoveryType {
  switch (service.resolution) {
    case 'STATIC':
      return Cluster_DiscoveryType.EDS;
    case 'DNS':
      return Cluster_DiscoveryType.STRICT_DNS;
    case 'DNS_ROUND_ROBIN':
      return Cluster_DiscoveryType.LOGICAL_DNS;
    case 'NONE':
      // Gateways cannot use ORIGINAL_DST: they have no original destination to forward to.
      return proxyType === 'router' ? Cluster_DiscoveryType.EDS : Cluster_DiscoveryType.ORIGINAL_DST;
  }
}

function isDns(type: Cluster_DiscoveryType | undefined): boolean {
  return type === Cluster_DiscoveryType.STRICT_DNS || type === Cluster_DiscoveryType.LOGICAL_DNS;
}

interface ServiceScope {
  readonly ctx: ProxyContext;
  readonly service: Service;
  readonly port: ServicePort;
  readonly dr: DestinationRuleView | undefined;
  readonly policyContext: OutboundPolicyContext;
}

interface ScopeWithDr extends ServiceScope {
  readonly dr: DestinationRuleView;
}

/** The base cluster of one service port (or subset): discovery type, DNS endpoints inline, upstream protocol. */
export function baseClusterFor(
  s: { readonly ctx: ProxyContext; readonly service: Service; readonly port: ServicePort; readonly dr: DestinationRuleView | undefined },
  name: string,
  type: Cluster_DiscoveryType,
  subset: string | undefined,
): MutableCluster | undefined {
  const groups = isDns(type)
    ? clusterEndpoints(s.ctx.snapshot, { service: s.service, port: s.port.port, subset, destinationRule: s.dr?.spec, requireIp: false })
    : undefined;
  return buildBaseCluster({
    name,
    type,
    ...(groups !== undefined ? { endpoints: groups.map((g) => g.lb), groups } : {}),
    protocol: s.port.protocol,
    services: [s.service],
    proxyType: s.ctx.proxy.type,
    proxyIps: s.ctx.proxy.ipAddresses,
  });
}

/** buildSubsetCluster; undefined when a DNS subset has no endpoints. */
function subsetCluster(s: ScopeWithDr, defaultType: Cluster_DiscoveryType | undefined, subset: Subset): Cluster | undefined {
  const { service, port } = s;
  const passthrough = subset.trafficPolicy?.loadBalancer?.simple === 'PASSTHROUGH';
  const type = passthrough ? Cluster_DiscoveryType.ORIGINAL_DST : (defaultType ?? Cluster_DiscoveryType.EDS);
  const name = subsetKey('outbound', subset.name, service.hostname, port.port);
  const mc = baseClusterFor(s, name, type, subset.name);
  if (mc === undefined) return undefined;
  const policy = subsetTrafficPolicy(s.dr.spec, subset.name, port.port);
  const tls: UpstreamTlsOptions = {
    ...s.policyContext.tls,
    sni: dnsSrvSubsetKey(subset.name, service.hostname, port.port),
    mtlsMode: inferServiceMtlsMode(s.ctx.snapshot, service, port.port, subset.trafficPolicy),
  };
  applyOutboundPolicy(mc, policy, { ...s.policyContext, tls });
  applyEdsConfig(mc.cluster);
  applyClusterMetadataExchange(mc.cluster);
  addConfigMetadata(mc.cluster, s.dr.ref);
  addSubsetMetadata(mc.cluster, subset.name);
  addAlpnOverrideMetadata(mc.cluster, policy?.tls?.mode);
  return finishCluster(mc);
}

/** The default and subset clusters of one service port. */
function portClusters(ctx: ProxyContext, service: Service, port: ServicePort, accounts: readonly string[]): Cluster[] {
  const dr = ctx.destinationRule(service.hostname);
  const tls: UpstreamTlsOptions = {
    sidecar: ctx.proxy.type === 'sidecar',
    drHasWorkloadSelector: dr?.selector !== undefined,
    // ServiceEntry.subjectAltNames is not in the registry model, so SIMPLE/MUTUAL to a ServiceEntry only
    // verifies the SANs the DestinationRule lists.
    externalSans: [],
    serviceAccounts: accounts,
    sni: dnsSrvSubsetKey(undefined, service.hostname, port.port),
    meshExternal: service.location === 'MESH_EXTERNAL',
    mtlsMode: inferServiceMtlsMode(ctx.snapshot, service, port.port, dr?.spec.trafficPolicy),
    autoMtls: ctx.snapshot.mesh.enableAutoMtls,
  };
  const policyContext: OutboundPolicyContext = { mesh: ctx.snapshot.mesh, protocol: port.protocol, viewer: proxyLocalityView(ctx.proxy), tls };
  const scope: ServiceScope = { ctx, service, port, dr, policyContext };
  const name = subsetKey('outbound', undefined, service.hostname, port.port);
  const mc = baseClusterFor(scope, name, discoveryTypeFor(ctx.proxy.type, service), undefined);
  if (mc === undefined) return [];
  if (sendsDrainingEndpoints(ctx.snapshot.features, service) && mc.cluster.commonLbConfig !== undefined) {
    // Persistent sessions may still pick DRAINING endpoints explicitly (override_host_status).
    mc.cluster.commonLbConfig.overrideHostStatus = create(HealthStatusSetSchema, {
      statuses: [HealthStatus.HEALTHY, HealthStatus.DRAINING, HealthStatus.UNKNOWN, HealthStatus.DEGRADED],
    });
  }
  const policy = portLevelTrafficPolicy(dr?.spec.trafficPolicy, port.port).policy;
  applyOutboundPolicy(mc, policy, policyContext);
  applyEdsConfig(mc.cluster);
  applyClusterMetadataExchange(mc.cluster);
  if (service.location === 'MESH_EXTERNAL') markExternal(mc.cluster);
  if (dr !== undefined) {
    addConfigMetadata(mc.cluster, dr.ref);
    addAlpnOverrideMetadata(mc.cluster, policy?.tls?.mode);
  }
  // The subset inherits the default cluster's type as the policy left it (PASSTHROUGH makes it ORIGINAL_DST).
  const defaultType = discoveryTypeOf(mc.cluster);
  const out = [finishCluster(mc)];
  if (dr !== undefined) {
    const withDr: ScopeWithDr = { ...scope, dr };
    for (const subset of dr.spec.subsets ?? []) {
      const c = subsetCluster(withDr, defaultType, subset);
      if (c !== undefined) out.push(c);
    }
  }
  return out;
}

/**
 * Every outbound cluster of `service` (UDP ports have none), shared by the proxies for which every input
 * is the same: proxy type, the service, the DestinationRule they see, their IP family (DNS lookups) and
 * their locality view (locality load balancing of DNS clusters).
 */
export function buildOutboundServiceClusters(ctx: ProxyContext, service: Service): Cluster[] {
  const dr = ctx.destinationRule(service.hostname);
  const key = `outbound-clusters|${ctx.proxy.type}|${identity(service)}|${identity(dr)}|${ipFamilyKey(ctx.proxy.ipAddresses)}|${localityViewerKey(ctx, dr)}`;
  return memo(ctx.snapshot, key, () => {
    const accounts = serviceAccounts(ctx.snapshot, service);
    return service.ports.filter((p) => p.protocol !== 'UDP').flatMap((p) => portClusters(ctx, service, p, accounts));
  });
}
