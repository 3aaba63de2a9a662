// A cluster's load-balancing settings, read once from the Cluster proto into a plain immutable object,
// with Envoy's defaults applied (envoy/config/cluster/v3/cluster.proto): healthy_panic_threshold 50%,
// least-request choice_count 2 and active_request_bias 1.0, ring-hash minimum_ring_size 1024 and
// maximum_ring_size 8M with XX_HASH, Maglev table_size 65537 (must be prime, at most 5000011).
// compileLbProblems lists what we cannot honour, each as `<field path>: <reason>`; the caller decides
// whether that is a NACK (wrong policy) or a warning (a tuning knob we ignore).

import {
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  Cluster_RingHashLbConfig_HashFunction,
  type Cluster,
} from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';

export type LbPolicyName = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV';

export interface LbConfig {
  /** 'NONE': the cluster provides its own balancer (ORIGINAL_DST) or the policy is unsupported; picks return nothing. */
  readonly policy: LbPolicyName | 'NONE';
  /** Percent; 0 disables panic mode. */
  readonly panicThreshold: number;
  readonly localityWeighted: boolean;
  /** zone_aware_lb_config.fail_traffic_on_panic: fail instead of using all hosts in panic (non-hash policies). */
  readonly failTrafficOnPanic: boolean;
  readonly choiceCount: number;
  readonly activeRequestBias: number;
  readonly minRingSize: number;
  readonly maxRingSize: number;
  readonly ringHashFunction: 'XX_HASH' | 'MURMUR_HASH_2';
  readonly maglevTableSize: number;
  readonly useHostnameForHashing: boolean;
}

export const DEFAULT_PANIC_THRESHOLD = 50;
export const DEFAULT_CHOICE_COUNT = 2;
export const DEFAULT_MIN_RING_SIZE = 1024;
export const MAX_RING_SIZE = 8 * 1024 * 1024;
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;
export const MAX_MAGLEV_TABLE_SIZE = 5000011;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

function policyName(p: Cluster_LbPolicy): LbPolicyName | undefined {
  switch (p) {
    case Cluster_LbPolicy.ROUND_ROBIN:
      return 'ROUND_ROBIN';
    case Cluster_LbPolicy.LEAST_REQUEST:
      return 'LEAST_REQUEST';
    case Cluster_LbPolicy.RANDOM:
      return 'RANDOM';
    case Cluster_LbPolicy.RING_HASH:
      return 'RING_HASH';
    case Cluster_LbPolicy.MAGLEV:
      return 'MAGLEV';
    default:
      return undefined;
  }
}

/** Reads the cluster's LB settings; `problems` lists every setting we cannot honour. */
export function compileLbConfig(cluster: Cluster): { config: LbConfig; problems: string[] } {
  const problems: string[] = [];
  let policy: LbPolicyName | 'NONE' = policyName(cluster.lbPolicy) ?? 'NONE';
  const isOriginalDst =
    cluster.clusterDiscoveryType.case === 'type' && cluster.clusterDiscoveryType.value === Cluster_DiscoveryType.ORIGINAL_DST;

  if (cluster.loadBalancingPolicy !== undefined) {
    problems.push('load_balancing_policy: typed load-balancing policies are not supported; use lb_policy');
    policy = 'NONE';
  } else if (cluster.lbPolicy === Cluster_LbPolicy.CLUSTER_PROVIDED) {
    if (!isOriginalDst) problems.push('lb_policy: CLUSTER_PROVIDED is only supported for ORIGINAL_DST clusters');
  } else if (policy === 'NONE') {
    problems.push(`lb_policy: ${Cluster_LbPolicy[cluster.lbPolicy] ?? cluster.lbPolicy} is not supported`);
  }

  const common = cluster.commonLbConfig;
  const panicThreshold =
    common?.healthyPanicThreshold !== undefined
      ? Math.min(100, Math.max(0, Math.round(common.healthyPanicThreshold.value)))
      : DEFAULT_PANIC_THRESHOLD;
  const loc = common?.localityConfigSpecifier;
  const localityWeighted = loc?.case === 'localityWeightedLbConfig';
  const failTrafficOnPanic = loc?.case === 'zoneAwareLbConfig' && loc.value.failTrafficOnPanic;
  // Zone-aware routing needs the local cluster's membership (cluster_manager.local_cluster_name); without it
  // Envoy does no zone-aware routing either, so only fail_traffic_on_panic has an effect here.
  const hashing = common?.consistentHashingLbConfig;
  if (hashing?.hashBalanceFactor !== undefined && (policy === 'RING_HASH' || policy === 'MAGLEV')) {
    problems.push('common_lb_config.consistent_hashing_lb_config.hash_balance_factor: bounded-load hashing is not supported');
  }
  if (cluster.lbSubsetConfig !== undefined && cluster.lbSubsetConfig.subsetSelectors.length > 0) {
    problems.push('lb_subset_config: subset load balancing is not supported');
  }

  let choiceCount = DEFAULT_CHOICE_COUNT;
  let activeRequestBias = 1;
  let minRingSize = DEFAULT_MIN_RING_SIZE;
  let maxRingSize = MAX_RING_SIZE;
  let ringHashFunction: LbConfig['ringHashFunction'] = 'XX_HASH';
  let maglevTableSize = DEFAULT_MAGLEV_TABLE_SIZE;
  const lb = cluster.lbConfig;
  switch (lb.case) {
    case 'roundRobinLbConfig':
      if (lb.value.slowStartConfig !== undefined && policy === 'ROUND_ROBIN') {
        problems.push('round_robin_lb_config.slow_start_config: slow start is not supported; hosts get full weight at once');
      }
      break;
    case 'leastRequestLbConfig':
      if (lb.value.choiceCount !== undefined) {
        if (lb.value.choiceCount < 2) problems.push('least_request_lb_config.choice_count: must be at least 2');
        else choiceCount = lb.value.choiceCount;
      }
      if (lb.value.activeRequestBias !== undefined) {
        const bias = lb.value.activeRequestBias.defaultValue;
        if (!(bias >= 0)) problems.push('least_request_lb_config.active_request_bias: must be at least 0.0');
        else activeRequestBias = bias;
      }
      if (lb.value.slowStartConfig !== undefined && policy === 'LEAST_REQUEST') {
        problems.push('least_request_lb_config.slow_start_config: slow start is not supported; hosts get full weight at once');
      }
      break;
    case 'ringHashLbConfig': {
      const c = lb.value;
      if (c.minimumRingSize !== undefined) {
        if (c.minimumRingSize > BigInt(MAX_RING_SIZE)) problems.push(`ring_hash_lb_config.minimum_ring_size: must be at most ${MAX_RING_SIZE}`);
        else minRingSize = Number(c.minimumRingSize);
      }
      if (c.maximumRingSize !== undefined) {
        if (c.maximumRingSize > BigInt(MAX_RING_SIZE)) problems.push(`ring_hash_lb_config.maximum_ring_size: must be at most ${MAX_RING_SIZE}`);
        else maxRingSize = Number(c.maximumRingSize);
      }
      if (minRingSize > maxRingSize) {
        // Envoy: "ring hash: minimum_ring_size (X) > maximum_ring_size (Y)"
        problems.push(`ring_hash_lb_config: minimum_ring_size (${minRingSize}) > maximum_ring_size (${maxRingSize})`);
        minRingSize = Math.min(minRingSize, maxRingSize);
      }
      if (c.hashFunction === Cluster_RingHashLbConfig_HashFunction.MURMUR_HASH_2) ringHashFunction = 'MURMUR_HASH_2';
      else if (c.hashFunction !== Cluster_RingHashLbConfig_HashFunction.XX_HASH) {
        problems.push(`ring_hash_lb_config.hash_function: unknown value ${c.hashFunction}`);
      }
      break;
    }
    case 'maglevLbConfig': {
      const size = lb.value.tableSize;
      if (size !== undefined) {
        if (size > BigInt(MAX_MAGLEV_TABLE_SIZE)) problems.push(`maglev_lb_config.table_size: must be at most ${MAX_MAGLEV_TABLE_SIZE}`);
        else if (!isPrime(Number(size))) problems.push('maglev_lb_config.table_size: the table size of maglev must be prime number');
        else maglevTableSize = Number(size);
      }
      break;
    }
    case 'originalDstLbConfig':
    case undefined:
      break;
  }

  return {
    config: Object.freeze({
      policy,
      panicThreshold,
      localityWeighted,
      failTrafficOnPanic,
      choiceCount,
      activeRequestBias,
      minRingSize,
      maxRingSize,
      ringHashFunction,
      maglevTableSize,
      useHostnameForHashing: hashing?.useHostnameForHashing ?? false,
    }),
    problems,
  };
}

/** What in the cluster's load-balancing configuration we cannot honour; empty when all of it is supported. */
export function compileLbProblems(cluster: Cluster): string[] {
  return compileLbConfig(cluster).problems;
}
