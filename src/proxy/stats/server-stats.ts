// Envoy's server statistics (docs: configuration/observability/statistics, "Server"), refreshed on every read
// of the stats: `server.uptime` (s), `server.concurrency`, `server.state` (ServerInfo.State: LIVE 0, DRAINING 1,
// PRE_INITIALIZING 2, INITIALIZING 3), `server.live` (1 while LIVE: initialized and not draining), the memory
// gauges from node's process.memoryUsage() (`memory_allocated`: V8 heap used plus external memory;
// `memory_heap_size`: V8's heap; `memory_physical_size`: resident set), and `listener_manager.workers_started`
// (1 once the first config is applied and the listeners serve). Istio's agent decides a proxy is ready from
// exactly `/stats?usedonly&filter=^(server\.state|listener_manager\.workers_started)$` (state 0, workers 1).
// With the xDS tables: `cluster_manager.active_clusters` / `warming_clusters` and
// `listener_manager.total_listeners_active` / `total_listeners_warming` (docs: cluster_manager/cluster_stats,
// listeners/stats), the gauges Istio's default stats inclusion (cluster_manager, listener_manager) exports.
// `server.days_until_first_cert_expiring`: whole days until the first certificate the proxy holds (its
// workload certificate, the SDS secrets of its TLS contexts) expires.

import type { StatsStore } from './stats-store.js';
import { CLUSTER_TYPE, LISTENER_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';
import type { AdsClient } from '../xds-client/ads-client.js';
import type { WorkloadAgent } from '../identity/workload-agent.js';
import { certificateExpiries } from '../xds-client/validate-secret.js';

/** The part of the ADS client the config gauges read. */
export interface ConfigTables {
  servingTable(type: typeof CLUSTER_TYPE | typeof LISTENER_TYPE): { readonly size: number };
  warming(type: typeof CLUSTER_TYPE | typeof LISTENER_TYPE): { readonly size: number };
}

/** Active and warming clusters and listeners, as the config gauges count them. */
export function configCounts(x: ConfigTables): { activeClusters: number; warmingClusters: number; activeListeners: number; warmingListeners: number } {
  return { activeClusters: x.servingTable(CLUSTER_TYPE).size, warmingClusters: x.warming(CLUSTER_TYPE).size, activeListeners: x.servingTable(LISTENER_TYPE).size, warmingListeners: x.warming(LISTENER_TYPE).size };
}

export type ServerStateName = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';

const DAY_MS = 86_400_000;

/**
 * What a proxy process (single, or a multi-worker primary) gives the config and certificate gauges: its ADS
 * client's tables and, with an identity, its workload certificate.
 */
export function adsSources(xds: AdsClient, agent: WorkloadAgent | undefined): Pick<ServerStatsSource, 'config' | 'certificateExpiries'> {
  return {
    config: () => configCounts(xds),
    certificateExpiries: () => certificateExpiries([...xds.servingTable(SECRET_TYPE).values()].map((e) => e.message), agent?.current?.notAfter),
  };
}

/** envoy.admin.v3.ServerInfo.State numbers. */
export const SERVER_STATE_NUMBER: Readonly<Record<ServerStateName, number>> = { LIVE: 0, DRAINING: 1, PRE_INITIALIZING: 2, INITIALIZING: 3 };

export interface ServerStatsSource {
  readonly state: () => ServerStateName;
  /** ms since the epoch. */
  readonly startedAt: number;
  readonly concurrency: number;
  readonly now?: () => number;
  readonly memory?: () => { readonly rss: number; readonly heapTotal: number; readonly heapUsed: number; readonly external: number };
  /** When each certificate the proxy holds expires (ms since the epoch): server.days_until_first_cert_expiring. */
  readonly certificateExpiries?: () => Iterable<number>;
  /** How many clusters and listeners serve and how many warm (the ADS client's tables). */
  readonly config?: () => { readonly activeClusters: number; readonly warmingClusters: number; readonly activeListeners: number; readonly warmingListeners: number };
}

export function installServerStats(store: StatsStore, src: ServerStatsSource): void {
  const g = (name: string) => store.gauge(name);
  const uptime = g('server.uptime');
  const concurrency = g('server.concurrency');
  const state = g('server.state');
  const live = g('server.live');
  const allocated = g('server.memory_allocated');
  const heap = g('server.memory_heap_size');
  const physical = g('server.memory_physical_size');
  const workersStarted = g('listener_manager.workers_started');
  const certDays = g('server.days_until_first_cert_expiring');
  const activeClusters = g('cluster_manager.active_clusters');
  const warmingClusters = g('cluster_manager.warming_clusters');
  const activeListeners = g('listener_manager.total_listeners_active');
  const warmingListeners = g('listener_manager.total_listeners_warming');
  const now = src.now ?? Date.now;
  const memory = src.memory ?? (() => process.memoryUsage());
  store.addRefresher(() => {
    const s = src.state();
    uptime.set(Math.max(0, Math.floor((now() - src.startedAt) / 1000)));
    concurrency.set(src.concurrency);
    state.set(SERVER_STATE_NUMBER[s]);
    live.set(s === 'LIVE' ? 1 : 0);
    workersStarted.set(s === 'LIVE' || s === 'DRAINING' ? 1 : 0);
    const m = memory();
    allocated.set(m.heapUsed + m.external);
    heap.set(m.heapTotal);
    physical.set(m.rss);
    let first = Infinity;
    for (const t of src.certificateExpiries?.() ?? []) first = Math.min(first, t);
    // Whole days, as Envoy counts them; left unset (and out of `?usedonly`) while the proxy holds no certificate.
    if (first !== Infinity) certDays.set(Math.max(0, Math.floor((first - now()) / DAY_MS)));
    const c = src.config?.();
    if (c !== undefined) {
      activeClusters.set(c.activeClusters);
      warmingClusters.set(c.warmingClusters);
      activeListeners.set(c.activeListeners);
      warmingListeners.set(c.warmingListeners);
    }
  });
}
