import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster_LbPolicy, Cluster_RingHashLbConfig_HashFunction } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Host } from '../host.js';
import { createLoadBalancer } from './create-load-balancer.js';
import { normalizeWeights } from './hash-table.js';
import { RingHashTable } from './ring-hash.js';
import { FakeDeps, addrs, cluster, hostSet, tally } from './test-fixtures.js';
import { xxHash64 } from './xxhash64.js';

const RING = cluster({ lbPolicy: Cluster_LbPolicy.RING_HASH });
const KEYS = Array.from({ length: 2000 }, (_, i) => xxHash64(`user-${i}`));

function assignments(lb: { pick(ctx: { hash: bigint }): Host | undefined }): string[] {
  return KEYS.map((hash) => lb.pick({ hash })?.key ?? 'none');
}

test('RING_HASH: the same hash always goes to the same host', () => {
  const lb = createLoadBalancer(RING, hostSet([{ endpoints: addrs(5) }]), new FakeDeps());
  const first = assignments(lb);
  assert.deepEqual(assignments(lb), first);
  // A fresh balancer over the same hosts (another proxy) agrees.
  assert.deepEqual(assignments(createLoadBalancer(RING, hostSet([{ endpoints: addrs(5) }]), new FakeDeps(7))), first);
});

test('RING_HASH: keys spread over all hosts', () => {
  const counts = new Map<string, number>();
  for (const k of assignments(createLoadBalancer(RING, hostSet([{ endpoints: addrs(4) }]), new FakeDeps()))) {
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  assert.equal(counts.size, 4);
  for (const n of counts.values()) assert.ok(n > 350 && n < 650, JSON.stringify([...counts]));
});

test('RING_HASH: removing one of N hosts remaps about 1/N of the keys', () => {
  const n = 8;
  const before = assignments(createLoadBalancer(RING, hostSet([{ endpoints: addrs(n) }]), new FakeDeps()));
  const after = assignments(createLoadBalancer(RING, hostSet([{ endpoints: addrs(n).slice(1) }]), new FakeDeps()));
  const moved = before.filter((k, i) => k !== after[i]).length / KEYS.length;
  // The removed host's 1/N, plus what the survivors' extra ring points take when the ring is rescaled
  // (1024 points over 7 hosts is 147 each instead of 128: Envoy rescales the same way).
  assert.ok(moved > 1 / n - 0.03 && moved < 2 / n + 0.03, `moved ${moved}`);
  // Every key of the removed host moved.
  before.forEach((k, i) => {
    if (k === '10.0.0.1:80') assert.notEqual(after[i], k);
  });
});

test('RING_HASH: an ejected host loses only its own keys', () => {
  const deps = new FakeDeps();
  const lb = createLoadBalancer(RING, hostSet([{ endpoints: addrs(6) }]), deps);
  const before = assignments(lb);
  deps.eject('10.0.0.3:80');
  const after = assignments(lb);
  before.forEach((k, i) => {
    if (k === '10.0.0.3:80') assert.notEqual(after[i], k);
  });
  assert.equal(after.includes('10.0.0.3:80'), false);
});

test('RING_HASH: ring points follow weights', () => {
  const set = hostSet([{ endpoints: [{ addr: '10.0.0.1:80', weight: 3 }, { addr: '10.0.0.2:80', weight: 1 }] }]);
  const lb = createLoadBalancer(RING, set, new FakeDeps());
  const heavy = assignments(lb).filter((k) => k === '10.0.0.1:80').length / KEYS.length;
  assert.ok(Math.abs(heavy - 0.75) < 0.05, `heavy share ${heavy}`);
});

test('RING_HASH: ring size is scaled so the lightest host gets whole points', () => {
  const hosts = hostSet([{ endpoints: addrs(3) }]).hosts;
  const ring = RingHashTable.build(normalizeWeights(hosts), { minRingSize: 1024, maxRingSize: 8388608, hash: (k) => xxHash64(k), useHostnameForHashing: false });
  assert.equal((ring as RingHashTable).size, 1026); // ceil(1024/3) × 3
  const capped = RingHashTable.build(normalizeWeights(hosts), { minRingSize: 1024, maxRingSize: 6, hash: (k) => xxHash64(k), useHostnameForHashing: false });
  assert.equal((capped as RingHashTable).size, 6);
});

test('RING_HASH: a retry attempt with exclude moves to another host', () => {
  const lb = createLoadBalancer(RING, hostSet([{ endpoints: addrs(4) }]), new FakeDeps());
  for (const hash of KEYS.slice(0, 50)) {
    const first = lb.pick({ hash });
    const retry = lb.pick({ hash, exclude: (h) => h === first, maxSelectionAttempts: 5 });
    assert.notEqual(retry?.key, first?.key);
  }
});

test('RING_HASH: no hash behaves like random over the healthy hosts', () => {
  const counts = tally(createLoadBalancer(RING, hostSet([{ endpoints: addrs(4) }]), new FakeDeps()), 2000);
  assert.equal(counts.size, 4);
});

test('RING_HASH: MURMUR_HASH_2 builds a different but stable ring', () => {
  const c = cluster({
    lbPolicy: Cluster_LbPolicy.RING_HASH,
    lbConfig: { case: 'ringHashLbConfig', value: { hashFunction: Cluster_RingHashLbConfig_HashFunction.MURMUR_HASH_2, minimumRingSize: 64n } },
  });
  const a = assignments(createLoadBalancer(c, hostSet([{ endpoints: addrs(4) }]), new FakeDeps()));
  assert.deepEqual(assignments(createLoadBalancer(c, hostSet([{ endpoints: addrs(4) }]), new FakeDeps())), a);
  assert.notDeepEqual(a, assignments(createLoadBalancer(RING, hostSet([{ endpoints: addrs(4) }]), new FakeDeps())));
});

test('RING_HASH: use_hostname_for_hashing hashes hostnames, so addresses can change', () => {
  const c = cluster({
    lbPolicy: Cluster_LbPolicy.RING_HASH,
    commonLbConfig: { consistentHashingLbConfig: { useHostnameForHashing: true } },
  });
  const named = (base: number) =>
    hostSet([{ endpoints: ['a', 'b', 'c'].map((n, i) => ({ addr: `10.0.${base}.${i + 1}:80`, hostname: `${n}.svc` })) }]);
  const hostnames = (lb: ReturnType<typeof createLoadBalancer>) => KEYS.map((hash) => lb.pick({ hash })?.hostname);
  assert.deepEqual(hostnames(createLoadBalancer(c, named(1), new FakeDeps())), hostnames(createLoadBalancer(c, named(2), new FakeDeps())));
});
