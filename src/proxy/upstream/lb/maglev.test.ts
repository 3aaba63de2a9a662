import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster_LbPolicy } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Host } from '../host.js';
import { createLoadBalancer } from './create-load-balancer.js';
import { normalizeWeights } from './hash-table.js';
import { MaglevTable } from './maglev.js';
import { FakeDeps, addrs, cluster, hostSet } from './test-fixtures.js';
import { xxHash64 } from './xxhash64.js';

const MAGLEV = cluster({ lbPolicy: Cluster_LbPolicy.MAGLEV });
const KEYS = Array.from({ length: 3000 }, (_, i) => xxHash64(`flow-${i}`));

function assignments(lb: { pick(ctx: { hash: bigint }): Host | undefined }): string[] {
  return KEYS.map((hash) => lb.pick({ hash })?.key ?? 'none');
}

test('MAGLEV: the same hash always goes to the same host, on every proxy', () => {
  const a = assignments(createLoadBalancer(MAGLEV, hostSet([{ endpoints: addrs(5) }]), new FakeDeps(1)));
  assert.deepEqual(assignments(createLoadBalancer(MAGLEV, hostSet([{ endpoints: addrs(5).reverse() }]), new FakeDeps(2))), a);
});

test('MAGLEV: the default table has 65537 slots split evenly', () => {
  const table = MaglevTable.build(normalizeWeights(hostSet([{ endpoints: addrs(4) }]).hosts), 65537, false) as MaglevTable;
  const slots = [...table.slotsPerHost().values()];
  assert.equal(slots.reduce((a, b) => a + b, 0), 65537);
  for (const s of slots) assert.ok(Math.abs(s - 65537 / 4) <= 1, JSON.stringify(slots));
});

test('MAGLEV: slots follow weights', () => {
  const set = hostSet([{ endpoints: [{ addr: '10.0.0.1:80', weight: 3 }, { addr: '10.0.0.2:80', weight: 1 }] }]);
  const slots = (MaglevTable.build(normalizeWeights(set.hosts), 65537, false) as MaglevTable).slotsPerHost();
  const heavy = (slots.get('10.0.0.1:80') ?? 0) / 65537;
  assert.ok(Math.abs(heavy - 0.75) < 0.01, `heavy share ${heavy}`);
});

test('MAGLEV: removing one of N hosts remaps about 1/N of the keys', () => {
  const n = 10;
  const before = assignments(createLoadBalancer(MAGLEV, hostSet([{ endpoints: addrs(n) }]), new FakeDeps()));
  const after = assignments(createLoadBalancer(MAGLEV, hostSet([{ endpoints: addrs(n).slice(1) }]), new FakeDeps()));
  const moved = before.filter((k, i) => k !== after[i]).length / KEYS.length;
  assert.ok(moved < 1 / n + 0.08, `moved ${moved}`);
});

test('MAGLEV: a small prime table size works', () => {
  const c = cluster({ lbPolicy: Cluster_LbPolicy.MAGLEV, lbConfig: { case: 'maglevLbConfig', value: { tableSize: 13n } } });
  const lb = createLoadBalancer(c, hostSet([{ endpoints: addrs(3) }]), new FakeDeps());
  assert.equal(new Set(assignments(lb)).size, 3);
});

test('MAGLEV: a retry attempt with exclude lands elsewhere', () => {
  const lb = createLoadBalancer(MAGLEV, hostSet([{ endpoints: addrs(4) }]), new FakeDeps());
  for (const hash of KEYS.slice(0, 50)) {
    const first = lb.pick({ hash });
    const retry = lb.pick({ hash, exclude: (h) => h === first, maxSelectionAttempts: 5 });
    assert.notEqual(retry?.key, first?.key);
  }
});

test('MAGLEV: priority failover and panic also apply to hashing', () => {
  const p0 = addrs(2);
  const set = hostSet([{ priority: 0, endpoints: p0.map((a) => ({ addr: a, health: 'UNHEALTHY' as const })) }, { priority: 1, endpoints: addrs(2, 10) }]);
  const got = new Set(assignments(createLoadBalancer(MAGLEV, set, new FakeDeps())));
  assert.deepEqual([...got].sort(), addrs(2, 10));
  const allDown = hostSet([{ endpoints: p0.map((a) => ({ addr: a, health: 'UNHEALTHY' as const })) }]);
  assert.equal(new Set(assignments(createLoadBalancer(MAGLEV, allDown, new FakeDeps()))).size, 2, 'panic uses all hosts');
});

test('MAGLEV: locality weights shape the table', () => {
  const c = cluster({
    lbPolicy: Cluster_LbPolicy.MAGLEV,
    commonLbConfig: { localityConfigSpecifier: { case: 'localityWeightedLbConfig', value: {} } },
  });
  const set = hostSet([{ zone: 'a', weight: 1, endpoints: addrs(3) }, { zone: 'b', weight: 3, endpoints: addrs(1, 10) }]);
  const share = assignments(createLoadBalancer(c, set, new FakeDeps())).filter((k) => k === '10.0.0.11:80').length / KEYS.length;
  assert.ok(Math.abs(share - 0.75) < 0.03, `locality b share ${share}`);
});
