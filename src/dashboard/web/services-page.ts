// The services: the list (/services), with each one's workloads, proxies and inbound requests/s, and a
// page per service (/services/<ns>/<name>): its hosts and ports, inbound and outbound traffic charts,
// its workloads, their proxies with their sync state, and the Istio config that applies to it.
// Both refresh themselves (live-page.ts).

import type { ServiceDetail, ServicesResponse } from '../shared/api-types.js';
import { getJson } from './api.js';
import { h, type El } from './dom.js';
import { LIST_WINDOWS, livePage, PAGE_WINDOWS } from './live-page.js';
import { appliedConfigTable, labelChips, proxiesTable, servicesTable, workloadsTable } from './mesh-tables.js';
import { trafficNote, trafficSection } from './traffic-section.js';

export function servicesPage(main: El): () => void {
  return livePage<ServicesResponse>(main, {
    title: 'Services',
    windows: LIST_WINDOWS,
    load: (window) => getJson(`/api/services?window=${encodeURIComponent(window)}`),
    describe: (r) => `${r.services.length} services · `,
    render: (r) => [r.services.length === 0 ? h('p', { class: 'empty' }, 'The mesh has no services yet.') : servicesTable(r.services)],
  });
}

export function servicePage(main: El, namespace: string, name: string): () => void {
  return livePage<ServiceDetail>(main, {
    crumbs: [h('a', { href: '/services', 'data-link': '' }, 'Services'), ` / ${namespace}`],
    title: name,
    windows: PAGE_WINDOWS,
    load: (window) => getJson(`/api/services/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}?window=${encodeURIComponent(window)}`),
    render: (d) => [
      h('dl', { class: 'facts', 'data-testid': 'service-facts' },
        h('dt', {}, 'Hosts'), h('dd', {}, d.service.hosts.join(', ')),
        h('dt', {}, 'Source'), h('dd', {}, d.service.source),
        h('dt', {}, 'Ports'), h('dd', {}, d.ports.length === 0 ? '–' : d.ports.map((p) => `${p.name} ${p.port}/${p.protocol}`).join(', ')),
        h('dt', {}, 'Selector'), h('dd', {}, d.selector === undefined ? h('span', { class: 'status' }, 'none') : labelChips(d.selector)),
        h('dt', {}, 'Labels'), h('dd', {}, labelChips(d.labels)),
      ),
      trafficSection('inbound', d.traffic, `requests to ${name}, as its proxies report them`),
      trafficSection('outbound', d.traffic, `requests its workloads send, as their proxies report them`),
      h('p', { class: 'note' }, trafficNote(d.traffic)),
      h('h2', {}, 'Workloads'),
      d.workloads.length === 0 ? h('p', { class: 'empty' }, 'Its selector picks no workload.') : workloadsTable(d.workloads),
      h('h2', {}, 'Proxies'),
      proxiesTable(d.proxies),
      h('h2', {}, 'Istio config'),
      appliedConfigTable(d.config),
    ],
  });
}
