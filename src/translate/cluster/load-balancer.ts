// DestinationRule loadBalancer -> cluster lb_policy / lb_config / common_lb_config, as Istio's
// applyLoadBalancer and ApplyRingHashLoadBalancer (pilot/pkg/networking/core/cluster_traffic_policy.go):
// LEAST_REQUEST is the default (defaultLBAlgorithm), ORIGINAL_DST clusters are CLUSTER_PROVIDED, PASSTHROUGH
// turns the cluster into ORIGINAL_DST, consistent hashing picks RING_HASH (minimum ring 1024 unless given)
// or MAGLEV; the hash key itself belongs to routes. Locality settings add locality_weighted_lb_config and,
// for DNS clusters, priorities/weights on the inline load assignment.

import { create } from '@bufbuild/protobuf';
import type { LoadBalancerSettings } from '../../api/networking/load-balancer.js';
import { RuntimeDoubleSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  Cluster_CommonLbConfig_LocalityWeightedLbConfigSchema,
  Cluster_CommonLbConfigSchema,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  Cluster_LeastRequestLbConfigSchema,
  Cluster_MaglevLbConfigSchema,
  Cluster_RingHashLbConfigSchema,
  Cluster_RoundRobinLbConfigSchema,
  Cluster_SlowStartConfigSchema,
  type Cluster,
  type Cluster_SlowStartConfig,
} from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { PercentSchema } from '../../xds/gen/envoy/type/v3/percent_pb.js';
import { durationFromString } from '../proto-values.js';
import { applyLocalityLoadBalancer, effectiveLocalityLbSetting, needsLocalityWeightedLbConfig, type LocalityViewer } from '../endpoint/locality-lb.js';
import { endpointTopologyLabels } from '../endpoint/topology-labels.js';
import { discoveryTypeOf, type MutableCluster } from './cluster-wrapper.js';

/** setWarmup / setSlowStartConfig: slow start for ROUND_ROBIN and LEAST_REQUEST. */
function slowStart(lb: LoadBalancerSettings | undefined): Cluster_SlowStartConfig | undefined {
  if (lb?.warmup !== undefined) {
    return create(Cluster_SlowStartConfigSchema, {
      slowStartWindow: durationFromString(lb.warmup.duration),
      // Istio sends this runtime key verbatim; it names no real runtime value, so the default applies.
      aggression: create(RuntimeDoubleSchema, { defaultValue: lb.warmup.aggression ?? 1, runtimeKey: '(' }),
      minWeightPercent: create(PercentSchema, { value: lb.warmup.minimumPercent ?? 10 }),
    });
  }
  if (lb?.warmupDurationSecs !== undefined) return create(Cluster_SlowStartConfigSchema, { slowStartWindow: durationFromString(lb.warmupDurationSecs) });
  return undefined;
}

function leastRequest(c: Cluster, lb: LoadBalancerSettings | undefined): void {
  c.lbPolicy = Cluster_LbPolicy.LEAST_REQUEST;
  const s = slowStart(lb);
  if (s !== undefined) c.lbConfig = { case: 'leastRequestLbConfig', value: create(Cluster_LeastRequestLbConfigSchema, { slowStartConfig: s }) };
}

function roundRobin(c: Cluster, lb: LoadBalancerSettings | undefined): void {
  c.lbPolicy = Cluster_LbPolicy.ROUND_ROBIN;
  const s = slowStart(lb);
  if (s !== undefined) c.lbConfig = { case: 'roundRobinLbConfig', value: create(Cluster_RoundRobinLbConfigSchema, { slowStartConfig: s }) };
}

/** ApplyRingHashLoadBalancer (shared with proxyless clusters). */
export function applyConsistentHash(c: Cluster, lb: LoadBalancerSettings | undefined): void {
  const ch = lb?.consistentHash;
  if (ch === undefined) return;
  if (ch.maglev !== undefined) {
    c.lbPolicy = Cluster_LbPolicy.MAGLEV;
    const size = ch.maglev.tableSize ?? 0;
    if (size !== 0) c.lbConfig = { case: 'maglevLbConfig', value: create(Cluster_MaglevLbConfigSchema, { tableSize: BigInt(size) }) };
  } else if (ch.ringHash !== undefined) {
    c.lbPolicy = Cluster_LbPolicy.RING_HASH;
    const size = ch.ringHash.minimumRingSize ?? 0;
    if (size !== 0) c.lbConfig = { case: 'ringHashLbConfig', value: create(Cluster_RingHashLbConfigSchema, { minimumRingSize: BigInt(size) }) };
  } else {
    // The deprecated top-level minimumRingSize, else Envoy's default of 1024, stated explicitly as Istio does.
    const size = (ch.minimumRingSize ?? 0) !== 0 ? (ch.minimumRingSize ?? 1024) : 1024;
    c.lbPolicy = Cluster_LbPolicy.RING_HASH;
    c.lbConfig = { case: 'ringHashLbConfig', value: create(Cluster_RingHashLbConfigSchema, { minimumRingSize: BigInt(size) }) };
  }
}

/** Locality settings on the cluster (LocalityLBSettings.ApplyToCluster); runs after outlier detection. */
function applyLocalitySettings(mc: MutableCluster, lb: LoadBalancerSettings | undefined, viewer: LocalityViewer): void {
  const c = mc.cluster;
  const setting = effectiveLocalityLbSetting(lb);
  if (setting === undefined) return;
  const enableFailover = c.outlierDetection !== undefined;
  if (needsLocalityWeightedLbConfig(setting, enableFailover)) {
    c.commonLbConfig ??= create(Cluster_CommonLbConfigSchema, {});
    c.commonLbConfig.localityConfigSpecifier = { case: 'localityWeightedLbConfig', value: create(Cluster_CommonLbConfig_LocalityWeightedLbConfigSchema, {}) };
  }
  const la = c.loadAssignment;
  if (la === undefined) return;
  la.endpoints = applyLocalityLoadBalancer(la.endpoints, mc.dnsGroups ?? [], viewer, setting, enableFailover, (g, i) => {
    const ep = g.endpoints[i];
    return ep === undefined ? {} : endpointTopologyLabels(ep);
  });
}

/** applyLoadBalancer for sidecar and gateway clusters. */
export function applyLoadBalancer(mc: MutableCluster, lb: LoadBalancerSettings | undefined, viewer: LocalityViewer): void {
  const c = mc.cluster;
  if (c.lbPolicy === Cluster_LbPolicy.CLUSTER_PROVIDED) return;
  // Unhealthy endpoints are sent (PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS), so panic mode must not use them.
  c.commonLbConfig ??= create(Cluster_CommonLbConfigSchema, {});
  c.commonLbConfig.healthyPanicThreshold ??= create(PercentSchema, { value: 0 });
  applyLocalitySettings(mc, lb, viewer);
  if (discoveryTypeOf(c) === Cluster_DiscoveryType.ORIGINAL_DST) {
    c.lbPolicy = Cluster_LbPolicy.CLUSTER_PROVIDED;
    return;
  }
  switch (lb?.simple) {
    case 'LEAST_CONN':
    case 'LEAST_REQUEST':
      leastRequest(c, lb);
      break;
    case 'RANDOM':
      c.lbPolicy = Cluster_LbPolicy.RANDOM;
      break;
    case 'ROUND_ROBIN':
      roundRobin(c, lb);
      break;
    case 'PASSTHROUGH':
      c.lbPolicy = Cluster_LbPolicy.CLUSTER_PROVIDED;
      c.clusterDiscoveryType = { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST };
      c.loadAssignment = undefined;
      break;
    case 'UNSPECIFIED':
    case undefined:
      leastRequest(c, lb);
      break;
  }
  applyConsistentHash(c, lb);
}
