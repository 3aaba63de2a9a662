// The tables of the service and workload pages and lists: services, workloads, proxies with their xDS
// sync state (the columns of the Proxies page and a one-word summary), the Istio config that applies
// (each linked to its config page, with why it applies), and label chips.
// Stable selectors: `service-row` / `workload-row` with data-namespace and data-name; `mesh-proxy-row`
// with data-id and data-sync; `applied-config-row` with data-kind and data-name.

import type { AppliedConfig, ProxyRow, ServiceRow, WorkloadRow } from '../shared/api-types.js';
import { h, type El } from './dom.js';
import { formatPercent, formatRps, labelPairs, syncSummary } from './format.js';
import { proxyPath, resourcePath, servicePath, workloadPath } from './routes.js';

const STATUS_COLUMNS = ['CDS', 'LDS', 'EDS', 'RDS'];

function table(testid: string, headers: readonly string[], rows: readonly El[]): El {
  return h('table', { class: 'grid', 'data-testid': testid }, h('thead', {}, h('tr', {}, ...headers.map((c) => h('th', {}, c)))), h('tbody', {}, ...rows));
}

function trafficCells(r: { readonly requestsPerSecond: number; readonly errorRate: number | null }): El[] {
  return [
    h('td', { class: 'num' }, r.requestsPerSecond === 0 ? '–' : formatRps(r.requestsPerSecond)),
    h('td', { class: `num${r.errorRate !== null && r.errorRate > 0 ? ' bad' : ''}` }, r.errorRate === null ? '–' : formatPercent(r.errorRate)),
  ];
}

export function labelChips(labels: Readonly<Record<string, string>>): El {
  const pairs = labelPairs(labels);
  return h('span', { class: 'labels' }, ...(pairs.length === 0 ? [h('span', { class: 'status' }, 'none')] : pairs.map((p) => h('span', { class: 'chip' }, p))));
}

export function servicesTable(rows: readonly ServiceRow[]): El {
  return table('services-table', ['Namespace', 'Name', 'Hosts', 'Source', 'Workloads', 'Proxies', 'Requests/s in', 'Errors'], rows.map((s) =>
    h('tr', { 'data-testid': 'service-row', 'data-namespace': s.namespace, 'data-name': s.name },
      h('td', {}, s.namespace),
      h('td', {}, h('a', { href: servicePath(s.namespace, s.name), 'data-link': '' }, s.name)),
      h('td', { class: 'hosts' }, s.hosts.join(', ')),
      h('td', {}, s.source),
      h('td', { class: 'num' }, String(s.workloads)),
      h('td', { class: 'num' }, String(s.proxies)),
      ...trafficCells(s),
    ),
  ));
}

export function workloadsTable(rows: readonly WorkloadRow[]): El {
  return table('workloads-table', ['Namespace', 'Name', 'App', 'Version', 'Kind', 'Services', 'Proxies', 'Requests/s in', 'Errors'], rows.map((w) =>
    h('tr', { 'data-testid': 'workload-row', 'data-namespace': w.namespace, 'data-name': w.name },
      h('td', {}, w.namespace),
      h('td', {}, h('a', { href: workloadPath(w.namespace, w.name), 'data-link': '' }, w.name)),
      h('td', {}, w.app ?? '–'),
      h('td', {}, w.version ?? '–'),
      h('td', {}, w.kind),
      h('td', {}, ...w.services.flatMap((name, i) => [i > 0 ? ', ' : '', h('a', { href: servicePath(w.namespace, name), 'data-link': '' }, name)])),
      h('td', { class: 'num' }, String(w.proxies)),
      ...trafficCells(w),
    ),
  ));
}

export function proxiesTable(rows: readonly ProxyRow[]): El {
  if (rows.length === 0) return h('p', { class: 'empty', 'data-testid': 'proxies-empty' }, 'No connected proxy.');
  return table('mesh-proxies-table', ['Proxy', 'Type', ...STATUS_COLUMNS, 'Sync', 'Connected'], rows.map((r) => {
    const sync = syncSummary(r.status);
    return h('tr', { 'data-testid': 'mesh-proxy-row', 'data-id': r.id, 'data-sync': sync },
      h('td', {}, r.admin ? h('a', { href: proxyPath(r.id), 'data-link': '' }, r.id) : r.id),
      h('td', {}, r.type),
      ...STATUS_COLUMNS.map((c) => {
        const st = r.status[c] ?? 'IGNORED';
        return h('td', { class: `sync ${st.toLowerCase().replace(' ', '-')}` }, st);
      }),
      h('td', { class: `sync ${sync.toLowerCase().replace(' ', '-')}` }, h('strong', {}, sync)),
      h('td', {}, new Date(r.connectedAt).toLocaleString()),
    );
  }));
}

export function appliedConfigTable(rows: readonly AppliedConfig[]): El {
  if (rows.length === 0) return h('p', { class: 'empty', 'data-testid': 'applied-config-empty' }, 'No Istio config names or selects it.');
  return table('applied-config-table', ['Kind', 'Namespace', 'Name', 'Why'], rows.map((c) =>
    h('tr', { 'data-testid': 'applied-config-row', 'data-kind': c.kind, 'data-name': c.name },
      h('td', {}, c.kind),
      h('td', {}, c.namespace),
      h('td', {}, h('a', { href: resourcePath(c.id), 'data-link': '' }, c.name)),
      h('td', { class: 'why' }, c.why),
    ),
  ));
}
