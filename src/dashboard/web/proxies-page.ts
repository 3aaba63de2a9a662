// The proxies: the list as `isthmus proxy-status` shows it, and a page per proxy with tabs for its
// listeners, routes, clusters and endpoints, the tables of `isthmus proxy-config` read live from its admin.

import { PROXY_SECTIONS, type ProxyRow, type ProxySection, type ProxyTableResponse } from '../shared/api-types.js';
import { getJson } from './api.js';
import { h, type El } from './dom.js';
import { proxyPath } from './routes.js';

const STATUS_COLUMNS = ['CDS', 'LDS', 'EDS', 'RDS'];

export async function proxiesPage(main: El): Promise<void> {
  main.replaceChildren(h('h1', {}, 'Proxies'), h('p', { class: 'status' }, 'loading…'));
  const rows = await getJson<readonly ProxyRow[]>('/api/proxies');
  main.replaceChildren(
    h('div', { class: 'toolbar' }, h('h1', {}, 'Proxies'), h('span', { class: 'status' }, `${rows.length} connected`)),
    h('table', { class: 'grid', 'data-testid': 'proxies-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Type'), ...STATUS_COLUMNS.map((c) => h('th', {}, c)), h('th', {}, 'Connected'))),
      h('tbody', {}, ...rows.map((r) =>
        h('tr', { 'data-testid': 'proxy-row', 'data-id': r.id },
          h('td', {}, r.admin ? h('a', { href: proxyPath(r.id), 'data-link': '' }, r.id) : r.id),
          h('td', {}, r.type),
          ...STATUS_COLUMNS.map((c) => {
            const st = r.status[c] ?? 'IGNORED';
            return h('td', { class: `sync ${st.toLowerCase().replace(' ', '-')}` }, st);
          }),
          h('td', {}, new Date(r.connectedAt).toLocaleString()),
        ),
      )),
    ),
  );
}

export async function proxyPage(main: El, id: string, section: ProxySection): Promise<void> {
  const tabs = h('nav', { class: 'tabs', role: 'tablist' }, ...PROXY_SECTIONS.map((s) =>
    h('a', { href: proxyPath(id, s), 'data-link': '', role: 'tab', 'data-testid': `tab-${s}`, class: s === section ? 'active' : '', 'aria-selected': String(s === section) }, s[0]?.toUpperCase() + s.slice(1)),
  ));
  const content = h('div', { class: 'tab-content' }, h('p', { class: 'status' }, 'loading…'));
  main.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '/proxies', 'data-link': '' }, 'Proxies'), ` / ${id}`),
    h('h1', { 'data-testid': 'proxy-title' }, id),
    tabs,
    content,
  );
  const t = await getJson<ProxyTableResponse>(`/api/proxies/${encodeURIComponent(id)}/${section}`);
  content.replaceChildren(
    h('p', { class: 'status' }, `${t.table.rows.length} ${section} (isthmus proxy-config ${section} ${id})`),
    h('table', { class: 'grid mono', 'data-testid': 'proxy-table', 'data-section': section },
      h('thead', {}, h('tr', {}, ...t.table.headers.map((c) => h('th', {}, c)))),
      h('tbody', {}, ...t.table.rows.map((r) => h('tr', { 'data-testid': 'proxy-table-row' }, ...r.map((c) => h('td', {}, c))))),
    ),
  );
}
