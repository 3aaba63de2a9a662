// Envoy's server.* gauges, brought up to date on each read of the stats, and the readiness query Istio's
// agent sends to Envoy's admin.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsStore } from './stats-store.js';
import { configCounts, installServerStats, type ServerStateName } from './server-stats.js';
import { CLUSTER_TYPE, LISTENER_TYPE } from '../../xds/type-urls.js';
import { parseStatsQuery, renderStatsText } from './admin-format.js';
import { renderPrometheus } from './prometheus-format.js';

function setup(): { store: StatsStore; set: (s: ServerStateName) => void; tick: (ms: number) => void } {
  const store = StatsStore.istio();
  let state: ServerStateName = 'PRE_INITIALIZING';
  let now = 1_000_000;
  installServerStats(store, {
    state: () => state,
    startedAt: 1_000_000,
    concurrency: 2,
    now: () => now,
    memory: () => ({ rss: 80 * 2 ** 20, heapTotal: 30 * 2 ** 20, heapUsed: 20 * 2 ** 20, external: 2 ** 20 }),
  });
  return { store, set: (s) => void (state = s), tick: (ms) => void (now += ms) };
}

const ISTIO_AGENT_QUERY = 'usedonly&filter=^(server\\.state|listener_manager\\.workers_started)$';

function agentProbe(store: StatsStore): string {
  const q = parseStatsQuery(new URLSearchParams(ISTIO_AGENT_QUERY));
  if (!q.ok) throw new Error(q.message);
  return renderStatsText(store, q.value);
}

describe('server stats', () => {
  it("answers Istio's agent readiness query with Envoy's state numbers as the server comes up and drains", () => {
    const { store, set } = setup();
    assert.equal(agentProbe(store), 'listener_manager.workers_started: 0\nserver.state: 2\n');
    set('INITIALIZING');
    assert.equal(agentProbe(store), 'listener_manager.workers_started: 0\nserver.state: 3\n');
    set('LIVE');
    assert.equal(agentProbe(store), 'listener_manager.workers_started: 1\nserver.state: 0\n');
    set('DRAINING');
    assert.equal(agentProbe(store), 'listener_manager.workers_started: 1\nserver.state: 1\n');
  });

  it('keeps uptime, concurrency, live and memory current on every read, in Prometheus too', () => {
    const { store, set, tick } = setup();
    set('LIVE');
    tick(90_500);
    const prom = renderPrometheus(store);
    assert.match(prom, /^envoy_server_uptime\{\} 90$/m);
    assert.match(prom, /^envoy_server_live\{\} 1$/m);
    assert.match(prom, /^envoy_server_concurrency\{\} 2$/m);
    assert.match(prom, new RegExp(`^envoy_server_memory_allocated\\{\\} ${21 * 2 ** 20}$`, 'm'));
    assert.match(prom, new RegExp(`^envoy_server_memory_physical_size\\{\\} ${80 * 2 ** 20}$`, 'm'));
    set('DRAINING');
    tick(1_000);
    const text = renderStatsText(store, { format: 'text', type: 'All', usedOnly: false, filter: undefined });
    assert.match(text, /^server\.live: 0$/m);
    assert.match(text, /^server\.uptime: 91$/m);
  });

  it('days_until_first_cert_expiring: whole days to the earliest certificate, unset while the proxy holds none', () => {
    const store = StatsStore.istio();
    let expiries: number[] = [];
    const now = 1_000_000_000;
    installServerStats(store, { state: () => 'LIVE', startedAt: 0, concurrency: 1, now: () => now, certificateExpiries: () => expiries });
    const q = { format: 'text' as const, type: 'All' as const, usedOnly: true, filter: /days_until/ };
    assert.equal(renderStatsText(store, q), '');
    expiries = [now + 40 * 86_400_000, now + 10.5 * 86_400_000];
    assert.equal(renderStatsText(store, q), 'server.days_until_first_cert_expiring: 10\n');
    expiries = [now - 5_000];
    assert.equal(renderStatsText(store, q), 'server.days_until_first_cert_expiring: 0\n', 'an expired certificate counts as 0 days');
  });

  it('counts active and warming clusters and listeners from the xDS tables', () => {
    const store = StatsStore.istio();
    const sizes: Record<string, { serving: number; warming: number }> = { [CLUSTER_TYPE]: { serving: 7, warming: 2 }, [LISTENER_TYPE]: { serving: 3, warming: 1 } };
    const tables = {
      servingTable: (t: string) => ({ size: sizes[t]?.serving ?? -1 }),
      warming: (t: string) => ({ size: sizes[t]?.warming ?? -1 }),
    };
    installServerStats(store, { state: () => 'LIVE', startedAt: 0, concurrency: 1, config: () => configCounts(tables) });
    const text = renderStatsText(store, { format: 'text', type: 'All', usedOnly: false, filter: /_manager\./ });
    assert.equal(
      text,
      'cluster_manager.active_clusters: 7\ncluster_manager.warming_clusters: 2\nlistener_manager.total_listeners_active: 3\nlistener_manager.total_listeners_warming: 1\nlistener_manager.workers_started: 1\n',
    );
  });
});
