// Envoy's server statistics (docs: configuration/observability/statistics, "Server"), refreshed on every read
// of the stats: `server.uptime` (s), `server.concurrency`, `server.state` (ServerInfo.State: LIVE 0, DRAINING 1,
// PRE_INITIALIZING 2, INITIALIZING 3), `server.live` (1 while LIVE: initialized and not draining), the memory
// gauges from node's process.memoryUsage() (`memory_allocated`: V8 heap used plus external memory;
// `memory_heap_size`: V8's heap; `memory_physical_size`: resident set), and `listener_manager.workers_started`
// (1 once the first config is applied and the listeners serve). Istio's agent decides a proxy is ready from
// exactly `/stats?usedonly&filter=^(server\.state|listener_manager\.workers_started)$` (state 0, workers 1).

import type { StatsStore } from './stats-store.js';

export type ServerStateName = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';

/** envoy.admin.v3.ServerInfo.State numbers. */
export const SERVER_STATE_NUMBER: Readonly<Record<ServerStateName, number>> = { LIVE: 0, DRAINING: 1, PRE_INITIALIZING: 2, INITIALIZING: 3 };

export interface ServerStatsSource {
  readonly state: () => ServerStateName;
  /** ms since the epoch. */
  readonly startedAt: number;
  readonly concurrency: number;
  readonly now?: () => number;
  readonly memory?: () => { readonly rss: number; readonly heapTotal: number; readonly heapUsed: number; readonly external: number };
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
  });
}
