import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster_LbPolicy } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { createLoadBalancer } from './create-load-balancer.js';
import { FakeDeps, addrs, cluster, hostSet, tally } from './test-fixtures.js';

test('RANDOM: spreads evenly and ignores weights, like Envoy', () => {
  const set = hostSet([{ endpoints: [{ addr: '10.0.0.1:80', weight: 10 }, ...addrs(3, 1)] }]);
  const counts = tally(createLoadBalancer(cluster({ lbPolicy: Cluster_LbPolicy.RANDOM }), set, new FakeDeps()), 8000);
  assert.equal(counts.size, 4);
  for (const n of counts.values()) assert.ok(n > 1800 && n < 2200, JSON.stringify([...counts]));
});
