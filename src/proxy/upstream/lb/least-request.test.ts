import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster_LbPolicy } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { createLoadBalancer } from './create-load-balancer.js';
import { FakeDeps, addrs, cluster, hostSet, tally } from './test-fixtures.js';

const LR = cluster({ lbPolicy: Cluster_LbPolicy.LEAST_REQUEST });

test('LEAST_REQUEST: prefers the idle host (two choices)', () => {
  const set = hostSet([{ endpoints: addrs(3) }]);
  const deps = new FakeDeps();
  deps.active.set('10.0.0.1:80', 10);
  deps.active.set('10.0.0.2:80', 10);
  const counts = tally(createLoadBalancer(LR, set, deps), 3000);
  // P(idle host among 2 samples of 3) = 1 - (2/3)^2 = 5/9.
  const idle = counts.get('10.0.0.3:80') ?? 0;
  assert.ok(idle > 1550 && idle < 1800, `idle host got ${idle}`);
});

test('LEAST_REQUEST: more choices, stronger preference', () => {
  const set = hostSet([{ endpoints: addrs(3) }]);
  const deps = new FakeDeps();
  deps.active.set('10.0.0.1:80', 10);
  deps.active.set('10.0.0.2:80', 10);
  const c = cluster({ lbPolicy: Cluster_LbPolicy.LEAST_REQUEST, lbConfig: { case: 'leastRequestLbConfig', value: { choiceCount: 5 } } });
  const idle = tally(createLoadBalancer(c, set, deps), 3000).get('10.0.0.3:80') ?? 0;
  // 1 - (2/3)^5 ≈ 0.87
  assert.ok(idle > 2500, `idle host got ${idle}`);
});

test('LEAST_REQUEST: equal load behaves like random over all hosts', () => {
  const counts = tally(createLoadBalancer(LR, hostSet([{ endpoints: addrs(4) }]), new FakeDeps()), 4000);
  for (const n of counts.values()) assert.ok(n > 850 && n < 1150, JSON.stringify([...counts]));
});

test('LEAST_REQUEST: unequal weights divide by active requests', () => {
  const set = hostSet([{ endpoints: [{ addr: '10.0.0.1:80', weight: 2 }, { addr: '10.0.0.2:80', weight: 1 }] }]);
  const deps = new FakeDeps();
  const lb = createLoadBalancer(LR, set, deps);
  // Idle: 2:1 by weight.
  const idle = tally(lb, 3000);
  assert.ok(Math.abs((idle.get('10.0.0.1:80') ?? 0) - 2000) < 60, JSON.stringify([...idle]));
  // The heavy host is busy: weight 2/(9+1) = 0.2 against 1/(0+1) = 1, so the light host takes ~5/6.
  deps.active.set('10.0.0.1:80', 9);
  const busy = tally(lb, 3000);
  assert.ok((busy.get('10.0.0.2:80') ?? 0) > 2300, JSON.stringify([...busy]));
});

test('LEAST_REQUEST: active_request_bias 0 is plain weighted round robin', () => {
  const set = hostSet([{ endpoints: [{ addr: '10.0.0.1:80', weight: 2 }, { addr: '10.0.0.2:80', weight: 1 }] }]);
  const deps = new FakeDeps();
  deps.active.set('10.0.0.1:80', 100);
  const c = cluster({
    lbPolicy: Cluster_LbPolicy.LEAST_REQUEST,
    lbConfig: { case: 'leastRequestLbConfig', value: { activeRequestBias: { defaultValue: 0, runtimeKey: 'k' } } },
  });
  const counts = tally(createLoadBalancer(c, set, deps), 3000);
  assert.ok(Math.abs((counts.get('10.0.0.1:80') ?? 0) - 2000) < 60, JSON.stringify([...counts]));
});
