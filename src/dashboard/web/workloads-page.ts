// The workloads: the list (/workloads), as Kiali lists them (by Deployment, or by the workload name
// their proxies report), and a page per workload (/workloads/<ns>/<name>): labels, services and
// instances, inbound and outbound traffic charts, its proxies with their sync state, and the Istio
// config that applies to it. Both refresh themselves (live-page.ts).

import type { WorkloadDetail, WorkloadsResponse } from '../shared/api-types.js';
import { getJson } from './api.js';
import { h, type El } from './dom.js';
import { LIST_WINDOWS, livePage, PAGE_WINDOWS } from './live-page.js';
import { appliedConfigTable, labelChips, proxiesTable, workloadsTable } from './mesh-tables.js';
import { servicePath } from './routes.js';
import { trafficNote, trafficSection } from './traffic-section.js';

export function workloadsPage(main: El): () => void {
  return livePage<WorkloadsResponse>(main, {
    title: 'Workloads',
    windows: LIST_WINDOWS,
    load: (window) => getJson(`/api/workloads?window=${encodeURIComponent(window)}`),
    describe: (r) => `${r.workloads.length} workloads · `,
    render: (r) => [r.workloads.length === 0 ? h('p', { class: 'empty' }, 'The mesh has no workloads yet.') : workloadsTable(r.workloads)],
  });
}

export function workloadPage(main: El, namespace: string, name: string): () => void {
  return livePage<WorkloadDetail>(main, {
    crumbs: [h('a', { href: '/workloads', 'data-link': '' }, 'Workloads'), ` / ${namespace}`],
    title: name,
    windows: PAGE_WINDOWS,
    load: (window) => getJson(`/api/workloads/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}?window=${encodeURIComponent(window)}`),
    render: (d) => {
      const w = d.workload;
      return [
        h('dl', { class: 'facts', 'data-testid': 'workload-facts' },
          h('dt', {}, 'Kind'), h('dd', {}, w.kind),
          h('dt', {}, 'App'), h('dd', {}, `${w.app ?? '–'}${w.version !== undefined ? ` ${w.version}` : ''}`),
          h('dt', {}, 'Services'), h('dd', {}, ...(w.services.length === 0 ? ['–'] : w.services.flatMap((s, i) => [i > 0 ? ', ' : '', h('a', { href: servicePath(w.namespace, s), 'data-link': '' }, s)]))),
          h('dt', {}, 'Instances'), h('dd', {}, d.instances.length === 0 ? '–' : d.instances.map((i) => `${i.name} (${i.address})`).join(', ')),
          h('dt', {}, 'Labels'), h('dd', {}, labelChips(w.labels)),
        ),
        trafficSection('inbound', d.traffic, `requests its proxies received`),
        trafficSection('outbound', d.traffic, `requests its proxies sent`),
        h('p', { class: 'note' }, trafficNote(d.traffic)),
        h('h2', {}, 'Proxies'),
        proxiesTable(d.proxies),
        h('h2', {}, 'Istio config'),
        appliedConfigTable(d.config),
      ];
    },
  });
}
