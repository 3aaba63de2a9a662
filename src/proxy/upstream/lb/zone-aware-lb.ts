// The balancer skeleton shared by ROUND_ROBIN, LEAST_REQUEST and RANDOM, after Envoy's
// ZoneAwareLoadBalancerBase::hostSourceToUse + EdfLoadBalancerBase::chooseHostOnce
// (source/extensions/load_balancing_policies/common/load_balancer_impl.cc). For each pick:
//   1. choose a priority level from the priority loads with a random point in 1..100;
//   2. if that level is in panic, use all its hosts (or fail, with zone_aware_lb_config.fail_traffic_on_panic);
//   3. with locality_weighted_lb_config, choose a locality by EDF over its effective weight
//      (weight × min(1, overprovisioning × healthy/total), Envoy's LocalityWrr::effectiveLocalityWeight);
//   4. otherwise use the level's healthy (or degraded, when the load picked degraded) hosts;
//   5. hand that host list ("source") to the policy, which keeps its own per-source state (an RR cursor,
//      an EDF schedule) until health changes.
// Zone-aware routing proper needs the local cluster's membership, which this proxy does not track; Envoy
// does none without it either.

import type { Host } from '../host.js';
import type { HostSet } from '../host.js';
import { EdfScheduler } from './edf-scheduler.js';
import { HealthTracker, type HealthView, type LevelView } from './health-view.js';
import type { LbConfig } from './lb-config.js';
import { choosePriority, loadsExcluding, type PriorityLoads } from './priority-load.js';
import { randomIndex, selectionAttempts, type LbDeps, type LoadBalancer, type PickContext } from './types.js';

/** A per-source picking strategy: `init` runs once per host list per health change, `pick` per request. */
export interface SourcePolicy<S> {
  init(hosts: readonly Host[]): S;
  pick(state: S): Host | undefined;
}

interface LevelState<S> {
  all?: S;
  healthy?: S;
  degraded?: S;
  healthyByLocality: (S | undefined)[];
  degradedByLocality: (S | undefined)[];
  healthyLocalities: LocalityPicker | undefined;
  degradedLocalities: LocalityPicker | undefined;
}

interface LocalityPicker {
  readonly scheduler: EdfScheduler<number>;
  readonly weight: (i: number) => number;
}

const LOCALITY_WEIGHT = (w: readonly number[]) => (i: number) => w[i] ?? 0;

/** Effective locality weights for `eligible` hosts (Envoy LocalityWrr::effectiveLocalityWeight). */
export function effectiveLocalityWeights(level: LevelView, eligible: readonly (readonly Host[])[], overprovisioningFactor: number): number[] {
  return level.localityWeights.map((weight, i) => {
    const total = level.allByLocality[i]?.length ?? 0;
    if (total === 0) return 0;
    const ratio = (eligible[i]?.length ?? 0) / total;
    return weight * Math.min(1, (overprovisioningFactor / 100) * ratio);
  });
}

export class ZoneAwareLoadBalancer<S> implements LoadBalancer {
  private readonly tracker: HealthTracker;
  private view: HealthView | undefined;
  private levels: LevelState<S>[] = [];

  constructor(
    set: HostSet,
    private readonly config: LbConfig,
    private readonly deps: LbDeps,
    private readonly policy: SourcePolicy<S>,
  ) {
    this.tracker = new HealthTracker(set, deps, config.panicThreshold);
  }

  pick(ctx?: PickContext): Host | undefined {
    const view = this.tracker.view();
    if (view !== this.view) this.reset(view);
    const attempts = selectionAttempts(ctx);
    const loads = ctx?.excludedPriorities !== undefined ? loadsExcluding(view.availability, ctx.excludedPriorities, view.loads) : view.loads;
    let host: Host | undefined;
    for (let i = 0; i < attempts; i++) {
      host = this.pickOnce(view, loads);
      if (host === undefined || ctx?.exclude === undefined || !ctx.exclude(host)) return host;
    }
    return host;
  }

  private reset(view: HealthView): void {
    this.view = view;
    this.levels = view.levels.map((level) => {
      const state: LevelState<S> = {
        healthyByLocality: [],
        degradedByLocality: [],
        healthyLocalities: undefined,
        degradedLocalities: undefined,
      };
      if (this.config.localityWeighted && level.localityWeights.length > 0) {
        state.healthyLocalities = this.localityScheduler(level, level.healthy, level.healthyByLocality, view.overprovisioningFactor);
        state.degradedLocalities = this.localityScheduler(level, level.degraded, level.degradedByLocality, view.overprovisioningFactor);
      }
      return state;
    });
  }

  private localityScheduler(
    level: LevelView,
    eligible: readonly Host[],
    byLocality: readonly (readonly Host[])[],
    op: number,
  ): LocalityPicker | undefined {
    if (eligible.length === 0) return undefined;
    const weights = effectiveLocalityWeights(level, byLocality, op);
    const indexes: number[] = [];
    weights.forEach((w, i) => {
      if (w > 0) indexes.push(i);
    });
    if (indexes.length === 0) return undefined;
    const weight = LOCALITY_WEIGHT(weights);
    return { scheduler: EdfScheduler.create(indexes, weight, randomIndex(this.deps.random, indexes.length)), weight };
  }

  private pickOnce(view: HealthView, loads: PriorityLoads): Host | undefined {
    const { priority, degraded } = choosePriority(randomIndex(this.deps.random, 100) + 1, loads);
    const level = view.levels[priority];
    const state = this.levels[priority];
    if (level === undefined || state === undefined) return undefined;
    if (view.loads.panic[priority] === true) {
      if (this.config.failTrafficOnPanic) return undefined;
      if (level.all.length === 0) return undefined;
      state.all ??= this.policy.init(level.all);
      return this.policy.pick(state.all);
    }
    const localities = degraded ? state.degradedLocalities : state.healthyLocalities;
    if (localities !== undefined) {
      const idx = localities.scheduler.pickAndAdd(localities.weight);
      if (idx !== undefined) {
        const hosts = (degraded ? level.degradedByLocality : level.healthyByLocality)[idx] ?? [];
        const states = degraded ? state.degradedByLocality : state.healthyByLocality;
        let s = states[idx];
        if (s === undefined) {
          s = this.policy.init(hosts);
          states[idx] = s;
        }
        return this.policy.pick(s);
      }
    }
    const hosts = degraded ? level.degraded : level.healthy;
    if (hosts.length === 0) return undefined;
    if (degraded) {
      state.degraded ??= this.policy.init(hosts);
      return this.policy.pick(state.degraded);
    }
    state.healthy ??= this.policy.init(hosts);
    return this.policy.pick(state.healthy);
  }
}
