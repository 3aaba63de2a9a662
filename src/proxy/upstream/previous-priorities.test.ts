// The previous_priorities retry priority: which levels each pick leaves out (Envoy's update_frequency
// semantics, previous_priorities.cc), and the loads without them (adjustForAttemptedPriorities).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PreviousPriorities } from './previous-priorities.js';
import { availability, computePriorityLoads, loadsExcluding, type LevelHealthInput } from './lb/priority-load.js';

const level = (hosts: number, healthy: number): LevelHealthInput => ({ hostCount: hosts, healthyCount: healthy, degradedCount: 0, totalWeight: hosts, healthyWeight: healthy, degradedWeight: 0 });

describe('previous_priorities', () => {
  it('with update_frequency 2 the first two attempts use the normal loads, then the levels of whole pairs are left out', () => {
    const p = new PreviousPriorities(2);
    const seen: (readonly boolean[] | undefined)[] = [];
    for (const priority of [0, 0, 1, 1, 2]) {
      seen.push(p.excluded());
      p.attempted(priority);
    }
    seen.push(p.excluded());
    assert.deepEqual(seen, [undefined, undefined, [true], [true], [true, true], [true, true]]);
  });

  it('with update_frequency 1 every attempted level is left out from the second attempt on', () => {
    const p = new PreviousPriorities(1);
    assert.equal(p.excluded(), undefined);
    p.attempted(1);
    assert.deepEqual([p.excluded()?.[0], p.excluded()?.[1]], [undefined, true]);
  });

  it('the loads without the left-out levels: the rest share the traffic by their availability', () => {
    const levels = [level(2, 2), level(2, 2), level(4, 2)];
    const loads = computePriorityLoads(levels, 140, 50);
    assert.deepEqual(loads.healthy, [100, 0, 0]);
    const avail = availability(levels, 140, false);
    assert.deepEqual(loadsExcluding(avail, [true], loads).healthy, [0, 100, 0]);
    // Level 2 is 70% available (140 x 2/4): alone it takes everything, normalized.
    assert.deepEqual(loadsExcluding(avail, [true, true], loads).healthy, [0, 0, 100]);
    // Nothing left: the normal loads.
    assert.equal(loadsExcluding(avail, [true, true, true], loads), loads);
  });

  it('a level with no available hosts gives nothing when the others are left out: the normal loads apply', () => {
    const levels = [level(2, 2), level(2, 0)];
    const loads = computePriorityLoads(levels, 140, 50);
    assert.equal(loadsExcluding(availability(levels, 140, false), [true], loads), loads);
  });
});
