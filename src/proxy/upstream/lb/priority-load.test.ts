import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choosePriority, computePriorityLoads, type LevelHealthInput } from './priority-load.js';

function level(hostCount: number, healthyCount: number, degradedCount = 0): LevelHealthInput {
  return { hostCount, healthyCount, degradedCount, totalWeight: hostCount, healthyWeight: healthyCount, degradedWeight: degradedCount };
}

// Envoy's priority-level table (arch_overview/upstream/load_balancing/priority): P0 health → P0/P1 load,
// with P1 fully healthy and overprovisioning 1.4.
const TWO_LEVELS: { name: string; p0Healthy: number; want: [number, number] }[] = [
  { name: '100% healthy', p0Healthy: 100, want: [100, 0] },
  { name: '72% healthy', p0Healthy: 72, want: [100, 0] },
  { name: '71% healthy', p0Healthy: 71, want: [99, 1] },
  { name: '50% healthy', p0Healthy: 50, want: [70, 30] },
  { name: '25% healthy', p0Healthy: 25, want: [35, 65] },
  { name: '0% healthy', p0Healthy: 0, want: [0, 100] },
];

for (const c of TWO_LEVELS) {
  test(`computePriorityLoads: P0 ${c.name}`, () => {
    const loads = computePriorityLoads([level(100, c.p0Healthy), level(100, 100)], 140, 50);
    assert.deepEqual(loads.healthy, c.want);
    assert.deepEqual(loads.degraded, [0, 0]);
    assert.deepEqual(loads.panic, [false, false]);
  });
}

test('computePriorityLoads: loads scale up when total health is below 100', () => {
  // P0 and P1 are each 20% healthy ×1.4 = 28: total availability 56, so each gets 28/56 of the traffic.
  const loads = computePriorityLoads([level(10, 2), level(10, 2)], 140, 0);
  assert.deepEqual(loads.healthy, [50, 50]);
});

test('computePriorityLoads: degraded hosts take what healthy ones cannot (Envoy example 16/28/14 + 28/14/0)', () => {
  // Health 10/20/10 and degraded 20/10/0 (1 host in 14 at 1.4 = 10%); panic disabled to keep the split.
  const loads = computePriorityLoads([level(14, 1, 2), level(14, 2, 1), level(14, 1, 0)], 140, 0);
  assert.deepEqual(loads.healthy, [16, 28, 14]);
  assert.deepEqual(loads.degraded, [28, 14, 0]);
});

test('computePriorityLoads: a degraded-only level gets its load as degraded', () => {
  const loads = computePriorityLoads([level(4, 0, 4)], 140, 50);
  assert.deepEqual(loads.healthy, [0]);
  assert.deepEqual(loads.degraded, [100]);
  assert.deepEqual(loads.panic, [false]);
});

test('computePriorityLoads: panic when healthy share is under the threshold', () => {
  const loads = computePriorityLoads([level(10, 4)], 140, 50);
  assert.deepEqual(loads.panic, [true]);
  assert.deepEqual(loads.healthy, [100]);
});

test('computePriorityLoads: no panic while total availability is 100', () => {
  // P0 is 10% healthy, but P1 can take everything: P0 is not in panic.
  const loads = computePriorityLoads([level(10, 1), level(10, 10)], 140, 50);
  assert.deepEqual(loads.panic, [false, false]);
  assert.deepEqual(loads.healthy, [14, 86]);
});

test('computePriorityLoads: total panic spreads by host count', () => {
  const loads = computePriorityLoads([level(3, 0), level(1, 0)], 140, 50);
  assert.deepEqual(loads.panic, [true, true]);
  assert.deepEqual(loads.healthy, [75, 25]);
});

test('computePriorityLoads: nothing available and panic disabled sends all to P0', () => {
  const loads = computePriorityLoads([level(3, 0), level(1, 0)], 140, 0);
  assert.deepEqual(loads.healthy, [100, 0]);
  assert.deepEqual(loads.panic, [false, false]);
});

test('computePriorityLoads: weighted priority health uses weights', () => {
  const l: LevelHealthInput = { hostCount: 2, healthyCount: 1, degradedCount: 0, totalWeight: 10, healthyWeight: 9, degradedWeight: 0 };
  assert.deepEqual(computePriorityLoads([l, level(1, 1)], 100, 0, true).healthy, [90, 10]);
  assert.deepEqual(computePriorityLoads([l, level(1, 1)], 100, 0, false).healthy, [50, 50]);
});

test('choosePriority: walks healthy loads, then degraded ones', () => {
  const loads = { healthy: [70, 0], degraded: [0, 30], panic: [false, false] };
  assert.deepEqual(choosePriority(1, loads), { priority: 0, degraded: false });
  assert.deepEqual(choosePriority(70, loads), { priority: 0, degraded: false });
  assert.deepEqual(choosePriority(71, loads), { priority: 1, degraded: true });
  assert.deepEqual(choosePriority(100, loads), { priority: 1, degraded: true });
});
