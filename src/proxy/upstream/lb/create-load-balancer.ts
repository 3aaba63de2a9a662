// The one entry point that turns a Cluster's load-balancing settings and a HostSet into a LoadBalancer.
// Call it again for every new HostSet (EDS update); compile the cluster once with compileLbConfig and
// use createLoadBalancerFromConfig to skip re-reading the proto. Policies we cannot run (see
// compileLbProblems) give a balancer that picks nothing, so a config that slipped past validation fails
// as "no healthy upstream" instead of sending traffic somewhere unintended.

import type { Cluster } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { HostSet } from '../host.js';
import { HashingLoadBalancer } from './hashing-lb.js';
import { leastRequestPolicy } from './least-request.js';
import { compileLbConfig, type LbConfig } from './lb-config.js';
import { MaglevTable } from './maglev.js';
import { murmurHash2 } from './murmur-hash2.js';
import { randomPolicy } from './random-lb.js';
import { RingHashTable } from './ring-hash.js';
import { roundRobinPolicy } from './round-robin.js';
import type { LbDeps, LoadBalancer } from './types.js';
import { xxHash64 } from './xxhash64.js';
import { ZoneAwareLoadBalancer } from './zone-aware-lb.js';

const NO_HOST: LoadBalancer = { pick: () => undefined };
const XX = (key: string): bigint => xxHash64(key);
const MURMUR = (key: string): bigint => murmurHash2(key);

export function createLoadBalancerFromConfig(config: LbConfig, hosts: HostSet, deps: LbDeps): LoadBalancer {
  switch (config.policy) {
    case 'ROUND_ROBIN':
      return new ZoneAwareLoadBalancer(hosts, config, deps, roundRobinPolicy(deps.random));
    case 'LEAST_REQUEST':
      return new ZoneAwareLoadBalancer(
        hosts,
        config,
        deps,
        leastRequestPolicy(deps.random, (h) => deps.activeRequests(h), config.choiceCount, config.activeRequestBias),
      );
    case 'RANDOM':
      return new ZoneAwareLoadBalancer(hosts, config, deps, randomPolicy(deps.random));
    case 'RING_HASH': {
      const opts = {
        minRingSize: config.minRingSize,
        maxRingSize: config.maxRingSize,
        hash: config.ringHashFunction === 'MURMUR_HASH_2' ? MURMUR : XX,
        useHostnameForHashing: config.useHostnameForHashing,
      };
      return new HashingLoadBalancer(hosts, config, deps, (w) => RingHashTable.build(w, opts));
    }
    case 'MAGLEV':
      return new HashingLoadBalancer(hosts, config, deps, (w) =>
        MaglevTable.build(w, config.maglevTableSize, config.useHostnameForHashing),
      );
    case 'NONE':
      return NO_HOST;
  }
}

export function createLoadBalancer(cluster: Cluster, hosts: HostSet, deps: LbDeps): LoadBalancer {
  return createLoadBalancerFromConfig(compileLbConfig(cluster).config, hosts, deps);
}
