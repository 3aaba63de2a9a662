import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster_LbPolicy } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { createLoadBalancer } from './create-load-balancer.js';
import { FakeDeps, addrs, cluster, hostSet, tally, type EndpointSpec } from './test-fixtures.js';

const RR = cluster({ lbPolicy: Cluster_LbPolicy.ROUND_ROBIN });
const P0 = addrs(4);
const P1 = addrs(4, 100);
const unhealthy = (a: string): EndpointSpec => ({ addr: a, health: 'UNHEALTHY' });

function share(counts: Map<string, number>, keys: readonly string[], total: number): number {
  return keys.reduce((s, k) => s + (counts.get(k) ?? 0), 0) / total;
}

test('priorities: all traffic stays on P0 while it is healthy', () => {
  const set = hostSet([{ priority: 0, endpoints: P0 }, { priority: 1, endpoints: P1 }]);
  const counts = tally(createLoadBalancer(RR, set, new FakeDeps()), 1000);
  assert.equal(share(counts, P0, 1000), 1);
});

test('priorities: fail over to P1 when P0 is unhealthy', () => {
  const set = hostSet([{ priority: 0, endpoints: P0.map(unhealthy) }, { priority: 1, endpoints: P1 }]);
  const counts = tally(createLoadBalancer(RR, set, new FakeDeps()), 1000);
  assert.equal(share(counts, P1, 1000), 1);
});

test('priorities: P0 half healthy keeps 70% (50% × 1.4), P1 takes the rest', () => {
  const set = hostSet([{ priority: 0, endpoints: P0.map((a, i) => (i < 2 ? a : unhealthy(a))) }, { priority: 1, endpoints: P1 }]);
  const counts = tally(createLoadBalancer(RR, set, new FakeDeps()), 4000);
  const p0 = share(counts, P0, 4000);
  assert.ok(Math.abs(p0 - 0.7) < 0.03, `P0 share ${p0}`);
});

test('priorities: outlier ejections count as unhealthy for failover', () => {
  const set = hostSet([{ priority: 0, endpoints: P0 }, { priority: 1, endpoints: P1 }]);
  const deps = new FakeDeps();
  const lb = createLoadBalancer(RR, set, deps);
  for (const k of P0) deps.eject(k);
  assert.equal(share(tally(lb, 500), P1, 500), 1);
  for (const k of P0) deps.uneject(k);
  assert.equal(share(tally(lb, 500), P0, 500), 1);
});

test('panic: with too few healthy hosts, all hosts get traffic', () => {
  // 1 of 4 healthy = 25% < 50% panic threshold: route to all four.
  const set = hostSet([{ endpoints: P0.map((a, i) => (i < 1 ? a : unhealthy(a))) }]);
  const counts = tally(createLoadBalancer(RR, set, new FakeDeps()), 400);
  assert.equal(counts.size, 4);
});

test('panic: every host ejected still routes to all of them', () => {
  const set = hostSet([{ endpoints: P0 }]);
  const deps = new FakeDeps();
  for (const k of P0) deps.eject(k);
  assert.equal(tally(createLoadBalancer(RR, set, deps), 400).size, 4);
});

test('panic: threshold 0 disables panic, so no unhealthy host is picked', () => {
  const set = hostSet([{ endpoints: P0.map(unhealthy) }]);
  const c = cluster({ lbPolicy: Cluster_LbPolicy.ROUND_ROBIN, commonLbConfig: { healthyPanicThreshold: { value: 0 } } });
  assert.equal(createLoadBalancer(c, set, new FakeDeps()).pick(), undefined);
});

test('panic: fail_traffic_on_panic fails instead', () => {
  const set = hostSet([{ endpoints: P0.map((a, i) => (i < 1 ? a : unhealthy(a))) }]);
  const c = cluster({
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    commonLbConfig: { localityConfigSpecifier: { case: 'zoneAwareLbConfig', value: { failTrafficOnPanic: true } } },
  });
  assert.equal(createLoadBalancer(c, set, new FakeDeps()).pick(), undefined);
});

test('degraded: used only when healthy hosts fall short', () => {
  const set = hostSet([{ endpoints: P0.map((a, i): string | EndpointSpec => (i < 2 ? a : { addr: a, health: 'DEGRADED' })) }]);
  // healthy 2/4 ×1.4 = 70%, degraded 70% → 70% healthy, 30% degraded.
  const counts = tally(createLoadBalancer(RR, set, new FakeDeps()), 4000);
  const degraded = share(counts, P0.slice(2), 4000);
  assert.ok(Math.abs(degraded - 0.3) < 0.03, `degraded share ${degraded}`);
  const allHealthy = tally(createLoadBalancer(RR, hostSet([{ endpoints: [...P0, { addr: '10.0.0.9:80', health: 'DEGRADED' }] }]), new FakeDeps()), 500);
  assert.equal(allHealthy.has('10.0.0.9:80'), false);
});

const LOCALITY_RR = cluster({
  lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
  commonLbConfig: { localityConfigSpecifier: { case: 'localityWeightedLbConfig', value: {} } },
});

test('locality weighted: traffic split by locality weight, not host count', () => {
  const a = addrs(1);
  const b = addrs(3, 10);
  const set = hostSet([{ zone: 'a', weight: 3, endpoints: a }, { zone: 'b', weight: 1, endpoints: b }]);
  const counts = tally(createLoadBalancer(LOCALITY_RR, set, new FakeDeps()), 4000);
  assert.ok(Math.abs(share(counts, a, 4000) - 0.75) < 0.02, JSON.stringify([...counts]));
  // Without locality weighting the four hosts share evenly.
  const flat = tally(createLoadBalancer(RR, set, new FakeDeps()), 4000);
  assert.ok(Math.abs(share(flat, a, 4000) - 0.25) < 0.02);
});

test('locality weighted: a locality without weight gets nothing', () => {
  const set = hostSet([{ zone: 'a', weight: 1, endpoints: addrs(2) }, { zone: 'b', endpoints: addrs(2, 10) }]);
  const counts = tally(createLoadBalancer(LOCALITY_RR, set, new FakeDeps()), 400);
  assert.equal(share(counts, addrs(2), 400), 1);
});

test('locality weighted: an unhealthy locality loses weight (X 1, Y 2, X 50% healthy → 26%)', () => {
  // Envoy's locality_weight doc: X at 50% healthy has effective weight 1 × 0.7 = 0.7 against Y's 2.
  const x = addrs(4);
  const set = hostSet([
    { zone: 'x', weight: 1, endpoints: x.map((a, i) => (i < 2 ? a : unhealthy(a))) },
    { zone: 'y', weight: 2, endpoints: addrs(4, 10) },
  ]);
  const counts = tally(createLoadBalancer(LOCALITY_RR, set, new FakeDeps()), 5400);
  const xs = share(counts, x, 5400);
  assert.ok(Math.abs(xs - 0.7 / 2.7) < 0.02, `X share ${xs}`);
});
