// One direction of a service's or workload's traffic on its page: the request rate, error rate and
// latency (p50/p95/p99) charts over the window, and the peers (who called it, or which services it
// called) with their numbers over the whole window, each linked to its page.
// Stable selectors: charts `<direction>-requests|errors|latency`; a `peers-table` with data-direction,
// its `peer-row`s with data-id and data-rps.

import type { DirectionTraffic, TrafficView } from '../shared/api-types.js';
import { h, type El } from './dom.js';
import { formatMs, formatPercent, formatRps } from './format.js';
import { lineChart } from './line-chart.js';
import { nodePath } from './routes.js';

export type Direction = 'inbound' | 'outbound';

function peersTable(direction: Direction, d: DirectionTraffic): El {
  if (d.peers.length === 0) return h('p', { class: 'empty', 'data-testid': 'peers-empty', 'data-direction': direction }, direction === 'inbound' ? 'No requests came in during the window.' : 'No requests went out during the window.');
  return h('table', { class: 'grid compact', 'data-testid': 'peers-table', 'data-direction': direction },
    h('thead', {}, h('tr', {}, h('th', {}, direction === 'inbound' ? 'From' : 'To'), h('th', {}, 'Requests/s'), h('th', {}, 'Errors'), h('th', {}, 'p95'))),
    h('tbody', {}, ...d.peers.map((p) => {
      const path = nodePath(p.id);
      const label = p.kind === 'unknown' ? 'unknown (no proxy)' : p.namespace === '' ? p.name : `${p.name}.${p.namespace}`;
      return h('tr', { 'data-testid': 'peer-row', 'data-id': p.id, 'data-rps': p.requestsPerSecond },
        h('td', {}, h('span', { class: `kind ${p.kind}` }, p.kind === 'service' ? '▲' : p.kind === 'workload' ? '●' : '■'), ' ', path !== undefined ? h('a', { href: path, 'data-link': '' }, label) : label),
        h('td', {}, formatRps(p.requestsPerSecond)),
        h('td', { class: p.errorRate !== null && p.errorRate > 0 ? 'bad' : '' }, p.errorRate === null ? '–' : formatPercent(p.errorRate)),
        h('td', {}, p.p95LatencyMs === null ? '–' : formatMs(p.p95LatencyMs)),
      );
    })),
  );
}

export function trafficSection(direction: Direction, t: TrafficView, what: string): El {
  const d = t[direction];
  const c = d.charts;
  const percent = c.errorRate.map((v) => (v === null ? null : v * 100));
  return h('section', { class: 'traffic', 'data-testid': `traffic-${direction}` },
    h('h2', {}, direction === 'inbound' ? 'Inbound' : 'Outbound', ' ', h('span', { class: 'status' }, what)),
    h('div', { class: 'charts' },
      lineChart({ id: `${direction}-requests`, title: 'Request rate', unit: 'rps', times: t.times, series: [{ label: 'requests/s', values: c.requestsPerSecond, cls: 'c1' }] }),
      lineChart({ id: `${direction}-errors`, title: 'Error rate', unit: '%', times: t.times, series: [{ label: 'errors', values: percent, cls: 'err' }] }),
      lineChart({ id: `${direction}-latency`, title: 'Latency', unit: 'ms', times: t.times, series: [
        { label: 'p50', values: c.latencyMs.p50, cls: 'c1' },
        { label: 'p95', values: c.latencyMs.p95, cls: 'c2' },
        { label: 'p99', values: c.latencyMs.p99, cls: 'c3' },
      ] }),
    ),
    peersTable(direction, d),
  );
}

/** The note under the section titles: how the points are computed. */
export function trafficNote(t: TrafficView): string {
  return `Each point is the rate over the ${t.rateIntervalMs / 1000}s before it, every ${t.stepMs / 1000}s; the tables cover the whole window. Errors: HTTP 0, 4xx and 5xx, gRPC statuses 1-16.`;
}
