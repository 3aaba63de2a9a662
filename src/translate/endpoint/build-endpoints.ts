// EDS: one ClusterLoadAssignment per EDS cluster this proxy was given, as Istio's
// EndpointBuilder.BuildClusterLoadAssignment builds it (pilot/pkg/xds/endpoints/endpoint_builder.go): the
// endpoints of the service port (and subset) grouped by locality, then locality load balancing relative to
// the proxy (priorities / weights). A cluster whose service, port or endpoints are unknown still gets an
// empty assignment, so the proxy learns "no endpoints" instead of waiting for one. Every CLA a proxyless
// client sees has `locality` and `load_balancing_weight` on each locality (grpc-js-xds requires both).

import { create } from '@bufbuild/protobuf';
import type { ProxyContext } from '../context.js';
import { Cluster_DiscoveryType, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { parseSubsetKey } from '../../xds/names.js';
import { clusterTrafficPolicy } from './endpoint-policy.js';
import { clusterEndpoints } from './locality-endpoints.js';
import { applyLocalityLoadBalancer, effectiveLocalityLbSetting } from './locality-lb.js';
import { endpointTopologyLabels, localityViewerKey, proxyLocalityView } from './topology-labels.js';
import { identity, memo } from '../memo.js';
import type { Service } from '../../registry/types.js';
import type { DestinationRuleSpec } from '../../api/networking/destination-rule.js';

function emptyAssignment(clusterName: string): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, { clusterName });
}

/** The assignment for one EDS cluster name (`outbound|9080|v1|reviews.default.svc.cluster.local`). */
export function buildLoadAssignment(ctx: ProxyContext, clusterName: string): ClusterLoadAssignment {
  const key = parseSubsetKey(clusterName);
  if (key === undefined) return emptyAssignment(clusterName);
  const service = ctx.serviceByHost(key.host);
  if (service === undefined || !service.ports.some((p) => p.port === key.port)) return emptyAssignment(clusterName);
  // A DNS service's endpoints are resolved by the proxy from the cluster itself, never sent over EDS (findShards).
  if (service.resolution === 'DNS' || service.resolution === 'DNS_ROUND_ROBIN') return emptyAssignment(clusterName);
  const view = ctx.destinationRule(service.hostname);
  return memo(ctx.snapshot, `cla|${clusterName}|${identity(service)}|${identity(view)}|${localityViewerKey(ctx, view)}`, () => assignment(ctx, clusterName, service, key.port, key.subset, view?.spec));
}

/** The assignment itself; reads only its arguments and the proxy's locality view (see the memo key above). */
function assignment(ctx: ProxyContext, clusterName: string, service: Service, port: number, subsetName: string, dr: DestinationRuleSpec | undefined): ClusterLoadAssignment {
  const subset = subsetName === '' ? undefined : subsetName;
  const groups = clusterEndpoints(ctx.snapshot, { service, port: port, subset, destinationRule: dr, requireIp: true });
  if (groups.length === 0) return emptyAssignment(clusterName);
  let endpoints = groups.map((g) => g.lb);
  // Failover needs outlier detection: without it Envoy never ejects a host, so traffic would never move.
  const policy = clusterTrafficPolicy(dr, subset, port);
  const setting = effectiveLocalityLbSetting(policy?.loadBalancer);
  if (setting !== undefined) {
    endpoints = applyLocalityLoadBalancer(endpoints, groups, proxyLocalityView(ctx.proxy), setting, policy?.outlierDetection !== undefined, (g, i) => {
      const ep = g.endpoints[i];
      return ep === undefined ? {} : endpointTopologyLabels(ep);
    });
  }
  return create(ClusterLoadAssignmentSchema, { clusterName, endpoints });
}

/** CLAs for every EDS cluster in `clusters`, keyed by its EDS service name, without duplicates. */
export function buildEndpoints(ctx: ProxyContext, clusters: readonly Cluster[]): ClusterLoadAssignment[] {
  const seen = new Set<string>();
  const out: ClusterLoadAssignment[] = [];
  for (const c of clusters) {
    if (c.clusterDiscoveryType.case !== 'type' || c.clusterDiscoveryType.value !== Cluster_DiscoveryType.EDS) continue;
    const name = c.edsClusterConfig?.serviceName || c.name;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(buildLoadAssignment(ctx, name));
  }
  return out;
}
