import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Cluster_DiscoveryType, Cluster_LbPolicy, type ClusterSchema } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { createLoadBalancer } from './create-load-balancer.js';
import { compileLbConfig, compileLbProblems } from './lb-config.js';
import { FakeDeps, addrs, cluster, hostSet } from './test-fixtures.js';

const PROBLEMS: { name: string; init: MessageInitShape<typeof ClusterSchema>; want: string[] }[] = [
  { name: 'defaults are fine', init: {}, want: [] },
  { name: 'every built-in policy is fine', init: { lbPolicy: Cluster_LbPolicy.MAGLEV }, want: [] },
  {
    name: 'CLUSTER_PROVIDED on an ORIGINAL_DST cluster is fine',
    init: { lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED, clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST } },
    want: [],
  },
  {
    name: 'CLUSTER_PROVIDED elsewhere',
    init: { lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED },
    want: ['lb_policy: CLUSTER_PROVIDED is only supported for ORIGINAL_DST clusters'],
  },
  {
    name: 'typed load_balancing_policy',
    init: { lbPolicy: Cluster_LbPolicy.LOAD_BALANCING_POLICY_CONFIG, loadBalancingPolicy: { policies: [] } },
    want: ['load_balancing_policy: typed load-balancing policies are not supported; use lb_policy'],
  },
  { name: 'unknown lb_policy', init: { lbPolicy: 42 as Cluster_LbPolicy }, want: ['lb_policy: 42 is not supported'] },
  {
    name: 'maglev table size not prime',
    init: { lbPolicy: Cluster_LbPolicy.MAGLEV, lbConfig: { case: 'maglevLbConfig', value: { tableSize: 65536n } } },
    want: ['maglev_lb_config.table_size: the table size of maglev must be prime number'],
  },
  {
    name: 'maglev table too large',
    init: { lbPolicy: Cluster_LbPolicy.MAGLEV, lbConfig: { case: 'maglevLbConfig', value: { tableSize: 5000101n } } },
    want: ['maglev_lb_config.table_size: must be at most 5000011'],
  },
  {
    name: 'ring min above max',
    init: { lbPolicy: Cluster_LbPolicy.RING_HASH, lbConfig: { case: 'ringHashLbConfig', value: { minimumRingSize: 4096n, maximumRingSize: 1024n } } },
    want: ['ring_hash_lb_config: minimum_ring_size (4096) > maximum_ring_size (1024)'],
  },
  {
    name: 'ring above 8M',
    init: { lbPolicy: Cluster_LbPolicy.RING_HASH, lbConfig: { case: 'ringHashLbConfig', value: { maximumRingSize: 8388609n } } },
    want: ['ring_hash_lb_config.maximum_ring_size: must be at most 8388608'],
  },
  {
    name: 'least request choice count below 2',
    init: { lbPolicy: Cluster_LbPolicy.LEAST_REQUEST, lbConfig: { case: 'leastRequestLbConfig', value: { choiceCount: 1 } } },
    want: ['least_request_lb_config.choice_count: must be at least 2'],
  },
  {
    name: 'slow start (Istio warmup)',
    init: { lbPolicy: Cluster_LbPolicy.ROUND_ROBIN, lbConfig: { case: 'roundRobinLbConfig', value: { slowStartConfig: { slowStartWindow: { seconds: 30n } } } } },
    want: ['round_robin_lb_config.slow_start_config: slow start is not supported; hosts get full weight at once'],
  },
  {
    name: 'bounded load hashing',
    init: { lbPolicy: Cluster_LbPolicy.RING_HASH, commonLbConfig: { consistentHashingLbConfig: { hashBalanceFactor: 150 } } },
    want: ['common_lb_config.consistent_hashing_lb_config.hash_balance_factor: bounded-load hashing is not supported'],
  },
  {
    name: 'subset load balancing',
    init: { lbSubsetConfig: { subsetSelectors: [{ keys: ['version'] }] } },
    want: ['lb_subset_config: subset load balancing is not supported'],
  },
];

for (const c of PROBLEMS) {
  test(`compileLbProblems: ${c.name}`, () => {
    assert.deepEqual(compileLbProblems(cluster(c.init)), c.want);
  });
}

test('compileLbConfig: Envoy defaults', () => {
  const { config } = compileLbConfig(cluster({}));
  assert.deepEqual(
    { ...config },
    {
      policy: 'ROUND_ROBIN',
      panicThreshold: 50,
      localityWeighted: false,
      failTrafficOnPanic: false,
      choiceCount: 2,
      activeRequestBias: 1,
      minRingSize: 1024,
      maxRingSize: 8388608,
      ringHashFunction: 'XX_HASH',
      maglevTableSize: 65537,
      useHostnameForHashing: false,
    },
  );
});

test('compileLbConfig: panic threshold is read as a whole percent', () => {
  const c = cluster({ commonLbConfig: { healthyPanicThreshold: { value: 30.2 } } });
  assert.equal(compileLbConfig(c).config.panicThreshold, 30);
});

test('createLoadBalancer: an unsupported policy picks nothing rather than guessing', () => {
  const lb = createLoadBalancer(cluster({ lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED }), hostSet([{ endpoints: addrs(2) }]), new FakeDeps());
  assert.equal(lb.pick(), undefined);
});
