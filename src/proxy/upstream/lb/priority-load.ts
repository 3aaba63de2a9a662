// Priority levels, failover and panic: how much of the traffic each priority level gets, and whether a
// level is in panic (routes to all its hosts whatever their health). A pure port of Envoy's
// LoadBalancerBase::recalculatePerPriorityState / recalculatePerPriorityPanic /
// recalculateLoadInTotalPanic / choosePriority
// (source/extensions/load_balancing_policies/common/load_balancer_impl.cc), documented at
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/priority and
// .../panic_threshold:
// - a level's health is min(100, overprovisioning% × healthy / total) (integer maths, counts or weights);
// - load goes to the highest levels first, each taking as much as its health, scaled up when the sum of
//   all health (capped at 100) is below 100; what is left goes to degraded hosts the same way;
// - a level is in panic when (healthy + degraded)% of its hosts is below the panic threshold, unless the
//   total availability is 100; when every level is in panic, load follows host counts.

export interface LevelHealthInput {
  /** Hosts at this level (excluded hosts are not counted). */
  readonly hostCount: number;
  readonly healthyCount: number;
  readonly degradedCount: number;
  /** Sums of load-balancing weights, used when weighted_priority_health is set. */
  readonly totalWeight: number;
  readonly healthyWeight: number;
  readonly degradedWeight: number;
}

export interface PriorityLoads {
  /** Percent of traffic per level going to its healthy hosts. */
  readonly healthy: readonly number[];
  /** Percent of traffic per level going to its degraded hosts. healthy + degraded sums to 100. */
  readonly degraded: readonly number[];
  /** Whether each level is in panic mode. */
  readonly panic: readonly boolean[];
}

/** Each level's healthy and degraded availability in percent (Envoy's per_priority_health_ and per_priority_degraded_). */
export interface Availability {
  readonly health: readonly number[];
  readonly degraded: readonly number[];
}

export function availability(levels: readonly LevelHealthInput[], op: number, weighted: boolean): { health: number[]; degraded: number[] } {
  const health: number[] = [];
  const degraded: number[] = [];
  for (const l of levels) {
    if (l.hostCount <= 0) {
      health.push(0);
      degraded.push(0);
      continue;
    }
    const total = weighted ? l.totalWeight : l.hostCount;
    const h = weighted ? l.healthyWeight : l.healthyCount;
    const d = weighted ? l.degradedWeight : l.degradedCount;
    health.push(total > 0 ? Math.min(100, Math.floor((op * h) / total)) : 0);
    degraded.push(total > 0 ? Math.min(100, Math.floor((op * d) / total)) : 0);
  }
  return { health, degraded };
}

function distribute(out: number[], avail: readonly number[], totalLoad: number, normalizedTotal: number): { first: number; remaining: number } {
  let first = -1;
  let remaining = totalLoad;
  for (let i = 0; i < avail.length; i++) {
    const a = avail[i] as number;
    if (first < 0 && a > 0) first = i;
    const load = Math.min(remaining, Math.floor((a * 100) / normalizedTotal));
    out[i] = load;
    remaining -= load;
  }
  return { first, remaining };
}

/**
 * Computes per-level loads and panic flags. `panicThreshold` is in percent (0 disables panic).
 * Envoy leaves stale loads in a few corner cases (no availability with panic disabled); we start from
 * zero every time, so those cases give priority 0 all the load and nothing else.
 */
export function computePriorityLoads(
  levels: readonly LevelHealthInput[],
  overprovisioningFactor: number,
  panicThreshold: number,
  weightedPriorityHealth = false,
): PriorityLoads {
  const n = Math.max(1, levels.length);
  const healthyLoad = new Array<number>(n).fill(0);
  const degradedLoad = new Array<number>(n).fill(0);
  const { health, degraded } = availability(levels, overprovisioningFactor, weightedPriorityHealth);
  let sum = 0;
  for (let i = 0; i < health.length; i++) sum += (health[i] as number) + (degraded[i] as number);
  const normalizedTotal = Math.min(100, sum);

  if (normalizedTotal > 0) {
    const h = distribute(healthyLoad, health, 100, normalizedTotal);
    const d = distribute(degradedLoad, degraded, h.remaining, normalizedTotal);
    if (d.remaining !== 0) {
      // Rounding leftovers go to the first level with any healthy availability, else degraded.
      if (h.first !== -1) healthyLoad[h.first] = (healthyLoad[h.first] as number) + d.remaining;
      else if (d.first !== -1) degradedLoad[d.first] = (degradedLoad[d.first] as number) + d.remaining;
    }
  }

  const threshold = Math.min(100, Math.max(0, panicThreshold));
  const panic = new Array<boolean>(n).fill(false);
  if (threshold === 0 && normalizedTotal === 0) {
    // Panic disabled and nothing available: all load to P0, where nothing will be found.
    healthyLoad.fill(0);
    degradedLoad.fill(0);
    healthyLoad[0] = 100;
    return { healthy: healthyLoad, degraded: degradedLoad, panic };
  }
  let totalPanic = true;
  for (let i = 0; i < n; i++) {
    const l = levels[i];
    const count = l?.hostCount ?? 0;
    const healthyPct = count === 0 ? 0 : (100 * (l?.healthyCount ?? 0)) / count;
    const degradedPct = count === 0 ? 0 : (100 * (l?.degradedCount ?? 0)) / count;
    panic[i] = normalizedTotal === 100 ? false : healthyPct + degradedPct < threshold;
    totalPanic = totalPanic && (panic[i] as boolean);
  }
  if (totalPanic) {
    // Every level is in panic: spread by host count regardless of health.
    let totalHosts = 0;
    for (const l of levels) totalHosts += l.hostCount;
    healthyLoad.fill(0);
    degradedLoad.fill(0);
    if (totalHosts === 0) {
      healthyLoad[0] = 100;
    } else {
      let left = 100;
      let firstNonEmpty = -1;
      for (let i = 0; i < levels.length; i++) {
        const c = (levels[i] as LevelHealthInput).hostCount;
        if (firstNonEmpty === -1 && c !== 0) firstNonEmpty = i;
        const load = Math.floor((100 * c) / totalHosts);
        healthyLoad[i] = load;
        left -= load;
      }
      healthyLoad[firstNonEmpty] = (healthyLoad[firstNonEmpty] as number) + left;
    }
  }
  return { healthy: healthyLoad, degraded: degradedLoad, panic };
}

/**
 * Picks a level for a value in 1..100 (Envoy: hash % 100 + 1): walks the healthy loads, then the
 * degraded ones. Returns the level and whether its degraded hosts are the target.
 */
export function choosePriority(point: number, loads: PriorityLoads): { priority: number; degraded: boolean } {
  let acc = 0;
  for (let i = 0; i < loads.healthy.length; i++) {
    acc += loads.healthy[i] as number;
    if (point <= acc) return { priority: i, degraded: false };
  }
  for (let i = 0; i < loads.degraded.length; i++) {
    acc += loads.degraded[i] as number;
    if (point <= acc) return { priority: i, degraded: true };
  }
  return { priority: 0, degraded: false };
}

/**
 * The loads with the `excluded` levels left out (Envoy's PreviousPrioritiesRetryPriority::
 * adjustForAttemptedPriorities, source/extensions/retry/priority/previous_priorities): their availability
 * counts as zero and the rest is distributed as computePriorityLoads distributes it. When nothing is left
 * the original loads apply (Envoy then also falls back to them: its reset of the excluded levels does not
 * take effect). Panic flags are the original ones.
 */
export function loadsExcluding(avail: Availability, excluded: readonly boolean[], original: PriorityLoads): PriorityLoads {
  const n = original.healthy.length;
  const health = new Array<number>(n).fill(0);
  const degraded = new Array<number>(n).fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (excluded[i] === true) continue;
    health[i] = avail.health[i] ?? 0;
    degraded[i] = avail.degraded[i] ?? 0;
    sum += (health[i] as number) + (degraded[i] as number);
  }
  const total = Math.min(100, sum);
  if (total === 0) return original;
  const healthyLoad = new Array<number>(n).fill(0);
  const degradedLoad = new Array<number>(n).fill(0);
  const h = distribute(healthyLoad, health, 100, total);
  const d = distribute(degradedLoad, degraded, h.remaining, total);
  if (d.remaining !== 0) {
    if (h.first !== -1) healthyLoad[h.first] = (healthyLoad[h.first] as number) + d.remaining;
    else if (d.first !== -1) degradedLoad[d.first] = (degradedLoad[d.first] as number) + d.remaining;
  }
  return { healthy: healthyLoad, degraded: degradedLoad, panic: original.panic };
}
