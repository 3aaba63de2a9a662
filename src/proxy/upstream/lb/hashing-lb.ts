// The balancer skeleton of RING_HASH and MAGLEV, after Envoy's ThreadAwareLoadBalancerBase
// (source/extensions/load_balancing_policies/common/thread_aware_lb_impl.cc): the request hash (or a
// random one when the route has no hash policy, which makes these behave like RANDOM) chooses the
// priority level with `hash % 100 + 1` against the priority loads, then that level's table chooses the
// host. A level's table holds its healthy hosts, or all of them when the level is in panic; tables are
// built lazily and rebuilt only when health changes.
//
// One deliberate difference: when the priority loads send a request to a level's *degraded* hosts,
// Envoy still looks it up in the healthy-host ring (and finds nothing when the level has no healthy
// host); we build a table of the degraded hosts for that case, which is what the load numbers intend.

import type { Host, HostSet } from '../host.js';
import { normalizeWeights, type HashTable, type NormalizedWeights } from './hash-table.js';
import { HealthTracker, type HealthView, type LevelView } from './health-view.js';
import type { LbConfig } from './lb-config.js';
import { choosePriority, loadsExcluding } from './priority-load.js';
import { random64, selectionAttempts, toHash64, type LbDeps, type LoadBalancer, type PickContext } from './types.js';

export type TableBuilder = (weights: NormalizedWeights) => HashTable;

interface LevelTables {
  healthy?: HashTable;
  degraded?: HashTable;
  all?: HashTable;
}

export class HashingLoadBalancer implements LoadBalancer {
  private readonly tracker: HealthTracker;
  private view: HealthView | undefined;
  private tables: LevelTables[] = [];

  constructor(
    set: HostSet,
    private readonly config: LbConfig,
    private readonly deps: LbDeps,
    private readonly build: TableBuilder,
  ) {
    this.tracker = new HealthTracker(set, deps, config.panicThreshold);
  }

  pick(ctx?: PickContext): Host | undefined {
    const view = this.tracker.view();
    if (view !== this.view) {
      this.view = view;
      this.tables = view.levels.map(() => ({}));
    }
    const hash = ctx?.hash !== undefined ? toHash64(ctx.hash) : random64(this.deps.random);
    const loads = ctx?.excludedPriorities !== undefined ? loadsExcluding(view.availability, ctx.excludedPriorities, view.loads) : view.loads;
    const { priority, degraded } = choosePriority(Number(hash % 100n) + 1, loads);
    const level = view.levels[priority];
    const tables = this.tables[priority];
    if (level === undefined || tables === undefined) return undefined;
    const table = this.tableFor(level, tables, view.loads.panic[priority] === true ? 'all' : degraded ? 'degraded' : 'healthy');
    const attempts = selectionAttempts(ctx);
    let host: Host | undefined;
    for (let i = 0; i < attempts; i++) {
      host = table.choose(hash, i);
      if (host === undefined || ctx?.exclude === undefined || !ctx.exclude(host)) return host;
    }
    return host;
  }

  private tableFor(level: LevelView, tables: LevelTables, which: 'healthy' | 'degraded' | 'all'): HashTable {
    const existing = tables[which];
    if (existing !== undefined) return existing;
    const hosts = which === 'all' ? level.all : which === 'degraded' ? level.degraded : level.healthy;
    const byLocality = which === 'all' ? level.allByLocality : which === 'degraded' ? level.degradedByLocality : level.healthyByLocality;
    const weights = normalizeWeights(
      hosts,
      this.config.localityWeighted ? { hosts: byLocality, weights: level.localityWeights } : undefined,
    );
    const table = this.build(weights);
    tables[which] = table;
    return table;
  }
}
