// The health view of a host set: for every priority level, which hosts are healthy, degraded or merely
// present (per level and per locality), and the priority loads and panic flags that follow. Built from an
// immutable HostSet plus the outlier detector's ejections (an ejected host counts as unhealthy, as
// Envoy's FAILED_OUTLIER_CHECK flag makes it) and rebuilt only when ejections change, so a pick reads
// prepared arrays and never filters or merges lists.

import type { Host, HostSet } from '../host.js';
import { healthClass } from '../host.js';
import { availability, computePriorityLoads, type Availability, type LevelHealthInput, type PriorityLoads } from './priority-load.js';

export interface LevelView {
  readonly priority: number;
  readonly all: readonly Host[];
  readonly healthy: readonly Host[];
  readonly degraded: readonly Host[];
  /** Locality load-balancing weights, parallel to the *ByLocality arrays. */
  readonly localityWeights: readonly number[];
  readonly allByLocality: readonly (readonly Host[])[];
  readonly healthyByLocality: readonly (readonly Host[])[];
  readonly degradedByLocality: readonly (readonly Host[])[];
}

export interface HealthView {
  readonly levels: readonly LevelView[];
  readonly loads: PriorityLoads;
  /** Each level's availability, for loads that leave levels out (previous_priorities retries). */
  readonly availability: Availability;
  readonly overprovisioningFactor: number;
}

export function buildHealthView(set: HostSet, isEjected: (h: Host) => boolean, panicThreshold: number): HealthView {
  const levels: LevelView[] = [];
  const inputs: LevelHealthInput[] = [];
  for (const level of set.priorities) {
    const healthy: Host[] = [];
    const degraded: Host[] = [];
    let totalWeight = 0, healthyWeight = 0, degradedWeight = 0;
    const healthyByLocality: Host[][] = [];
    const degradedByLocality: Host[][] = [];
    for (const loc of level.localities) {
      const hl: Host[] = [];
      const dl: Host[] = [];
      for (const h of loc.hosts) {
        const cls = isEjected(h) ? 'unhealthy' : healthClass(h.health);
        if (cls === 'healthy') hl.push(h);
        else if (cls === 'degraded') dl.push(h);
      }
      healthyByLocality.push(hl);
      degradedByLocality.push(dl);
    }
    for (const h of level.hosts) {
      totalWeight += h.weight;
      const cls = isEjected(h) ? 'unhealthy' : healthClass(h.health);
      if (cls === 'healthy') {
        healthy.push(h);
        healthyWeight += h.weight;
      } else if (cls === 'degraded') {
        degraded.push(h);
        degradedWeight += h.weight;
      }
    }
    levels.push({
      priority: level.priority,
      all: level.hosts,
      healthy,
      degraded,
      localityWeights: level.localities.map((l) => l.weight),
      allByLocality: level.localities.map((l) => l.hosts),
      healthyByLocality,
      degradedByLocality,
    });
    inputs.push({
      hostCount: level.hosts.length,
      healthyCount: healthy.length,
      degradedCount: degraded.length,
      totalWeight,
      healthyWeight,
      degradedWeight,
    });
  }
  if (levels.length === 0) {
    levels.push({ priority: 0, all: [], healthy: [], degraded: [], localityWeights: [], allByLocality: [], healthyByLocality: [], degradedByLocality: [] });
    inputs.push({ hostCount: 0, healthyCount: 0, degradedCount: 0, totalWeight: 0, healthyWeight: 0, degradedWeight: 0 });
  }
  const loads = computePriorityLoads(inputs, set.overprovisioningFactor, panicThreshold, set.weightedPriorityHealth);
  return { levels, loads, availability: availability(inputs, set.overprovisioningFactor, set.weightedPriorityHealth), overprovisioningFactor: set.overprovisioningFactor };
}

export interface HealthSource {
  isEjected(h: Host): boolean;
  /**
   * A number that changes whenever any ejection changes (OutlierDetector.version). Without it the tracker
   * compares every host's ejection state on each pick, which is O(hosts).
   */
  healthVersion?(): number;
}

/** Keeps the current HealthView of one host set, rebuilding it when ejections change. */
export class HealthTracker {
  private current: HealthView;
  private version: number;
  private readonly ejected: Uint8Array;

  constructor(
    private readonly set: HostSet,
    private readonly source: HealthSource,
    private readonly panicThreshold: number,
  ) {
    this.ejected = new Uint8Array(set.hosts.length);
    this.version = source.healthVersion?.() ?? 0;
    this.snapshotEjections();
    this.current = buildHealthView(set, (h) => source.isEjected(h), panicThreshold);
  }

  /** The view to use for this pick; a new object (identity changes) whenever health changed. */
  view(): HealthView {
    if (this.source.healthVersion !== undefined) {
      const v = this.source.healthVersion();
      if (v !== this.version) {
        this.version = v;
        this.rebuild();
      }
    } else if (this.snapshotEjections()) {
      this.rebuild();
    }
    return this.current;
  }

  private rebuild(): void {
    this.snapshotEjections();
    this.current = buildHealthView(this.set, (h) => this.source.isEjected(h), this.panicThreshold);
  }

  /** Records each host's ejection bit; returns whether any changed. */
  private snapshotEjections(): boolean {
    let changed = false;
    const hosts = this.set.hosts;
    for (let i = 0; i < hosts.length; i++) {
      const bit = this.source.isEjected(hosts[i] as Host) ? 1 : 0;
      if (this.ejected[i] !== bit) {
        this.ejected[i] = bit;
        changed = true;
      }
    }
    return changed;
  }
}
