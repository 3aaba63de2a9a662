import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster_LbPolicy } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { createLoadBalancer } from './create-load-balancer.js';
import { FakeDeps, addrs, cluster, hostSet, tally } from './test-fixtures.js';

const RR = cluster({ lbPolicy: Cluster_LbPolicy.ROUND_ROBIN });

test('ROUND_ROBIN: weighted 3:1 over 4000 picks', () => {
  const set = hostSet([{ endpoints: [{ addr: '10.0.0.1:80', weight: 3 }, { addr: '10.0.0.2:80', weight: 1 }] }]);
  const counts = tally(createLoadBalancer(RR, set, new FakeDeps()), 4000);
  assert.ok(Math.abs((counts.get('10.0.0.1:80') ?? 0) - 3000) <= 40, JSON.stringify([...counts]));
  assert.ok(Math.abs((counts.get('10.0.0.2:80') ?? 0) - 1000) <= 40, JSON.stringify([...counts]));
});

test('ROUND_ROBIN: weighted picks are smooth, not bursts', () => {
  const set = hostSet([{ endpoints: [{ addr: '10.0.0.1:80', weight: 3 }, { addr: '10.0.0.2:80', weight: 1 }] }]);
  const lb = createLoadBalancer(RR, set, new FakeDeps());
  let run = 0;
  let longest = 0;
  for (let i = 0; i < 400; i++) {
    run = lb.pick()?.key === '10.0.0.1:80' ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  assert.ok(longest <= 4, `longest run ${longest}`);
});

test('ROUND_ROBIN: equal weights cycle through every host in turn', () => {
  const set = hostSet([{ endpoints: addrs(3) }]);
  const lb = createLoadBalancer(RR, set, new FakeDeps());
  const first = [0, 1, 2].map(() => lb.pick()?.key);
  assert.equal(new Set(first).size, 3);
  const next = [0, 1, 2].map(() => lb.pick()?.key);
  assert.deepEqual(next, first);
});

test('ROUND_ROBIN: unhealthy and ejected hosts are skipped', () => {
  const set = hostSet([{ endpoints: [...addrs(3), { addr: '10.0.0.9:80', health: 'UNHEALTHY' }] }]);
  const deps = new FakeDeps();
  const lb = createLoadBalancer(RR, set, deps);
  deps.eject('10.0.0.2:80');
  const counts = tally(lb, 300);
  assert.deepEqual([...counts.keys()].sort(), ['10.0.0.1:80', '10.0.0.3:80']);
  deps.uneject('10.0.0.2:80');
  assert.equal(tally(lb, 300).size, 3);
});

test('ROUND_ROBIN: without a health version ejections are still noticed', () => {
  const set = hostSet([{ endpoints: addrs(4) }]);
  const ejected = new Set<string>();
  const d = new FakeDeps();
  const lb = createLoadBalancer(RR, set, { random: d.random, activeRequests: () => 0, isEjected: (h) => ejected.has(h.key) });
  ejected.add('10.0.0.1:80');
  assert.equal(tally(lb, 100).has('10.0.0.1:80'), false);
});

test('ROUND_ROBIN: exclude (retry previous hosts) moves to another host', () => {
  const set = hostSet([{ endpoints: addrs(3) }]);
  const lb = createLoadBalancer(RR, set, new FakeDeps());
  for (let i = 0; i < 20; i++) {
    const h = lb.pick({ exclude: (x) => x.key === '10.0.0.1:80' });
    assert.notEqual(h?.key, '10.0.0.1:80');
  }
});

test('ROUND_ROBIN: when every host is excluded the last pick is used anyway', () => {
  const set = hostSet([{ endpoints: addrs(2) }]);
  const lb = createLoadBalancer(RR, set, new FakeDeps());
  assert.notEqual(lb.pick({ exclude: () => true, maxSelectionAttempts: 3 }), undefined);
});

test('ROUND_ROBIN: empty host set picks nothing', () => {
  assert.equal(createLoadBalancer(RR, hostSet([]), new FakeDeps()).pick(), undefined);
});
