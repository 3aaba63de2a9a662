// The Istio config browser: every resource the control plane holds (and every document that failed
// validation), with badges counting its messages by level, the messages themselves (validation issues
// and the analyzer's IST codes, as `isthmus analyze` prints them), and a page per resource with its YAML.

import type { ConfigResource, ConfigResponse, ResourceMessage } from '../shared/api-types.js';
import { getJson } from './api.js';
import { h, type El, type InputEl } from './dom.js';
import { resourcePath } from './routes.js';

function badges(messages: readonly ResourceMessage[]): El {
  const el = h('span', { class: 'badges' });
  for (const level of ['Error', 'Warning', 'Info'] as const) {
    const n = messages.filter((m) => m.level === level).length;
    if (n > 0) el.append(h('span', { class: `badge ${level.toLowerCase()}`, 'data-testid': 'message-badge', 'data-level': level, title: `${n} ${level.toLowerCase()} message${n === 1 ? '' : 's'}` }, `${n} ${level}`));
  }
  if (messages.length === 0) el.append(h('span', { class: 'badge ok', 'data-testid': 'message-badge', 'data-level': 'OK' }, '✓'));
  return el;
}

function messageList(messages: readonly ResourceMessage[]): El {
  return h('ul', { class: 'messages' }, ...messages.map((m) =>
    h('li', { class: m.level.toLowerCase(), 'data-testid': 'config-message', 'data-code': m.code },
      h('span', { class: `level ${m.level.toLowerCase()}` }, m.level),
      ' ',
      m.documentationUrl !== undefined ? h('a', { href: m.documentationUrl, rel: 'noreferrer', target: '_blank', class: 'code' }, `[${m.code}]`) : h('span', { class: 'code' }, `[${m.code === 'validation' ? 'validation' : m.code}]`),
      ' ',
      m.message,
      m.where !== undefined && h('span', { class: 'where' }, ` (${m.where})`),
    ),
  ));
}

function row(r: ConfigResource): El {
  return h('tr', { 'data-testid': 'config-row', 'data-id': r.id, 'data-kind': r.kind, 'data-name': r.name, class: r.valid ? '' : 'invalid' },
    h('td', {}, r.kind),
    h('td', {}, r.namespace),
    h('td', {}, h('a', { href: resourcePath(r.id), 'data-link': '' }, r.name)),
    h('td', {}, badges(r.messages)),
    h('td', {}, r.messages.length > 0 && messageList(r.messages)),
  );
}

export async function configPage(main: El): Promise<void> {
  main.replaceChildren(h('h1', {}, 'Istio config'), h('p', { class: 'status' }, 'loading…'));
  const c = await getJson<ConfigResponse>('/api/config');
  const filter = h('input', { type: 'search', placeholder: 'filter by kind, namespace, name or code', 'data-testid': 'config-filter', 'aria-label': 'filter' });
  const body = h('tbody', {}, ...c.resources.map(row));
  const withIssues = c.resources.filter((r) => r.messages.some((m) => m.level !== 'Info')).length;
  filter.addEventListener('input', () => {
    const q = (filter as InputEl).value.toLowerCase();
    body.replaceChildren(...c.resources.filter((r) => q === '' || `${r.kind} ${r.namespace} ${r.name} ${r.messages.map((m) => m.code).join(' ')}`.toLowerCase().includes(q)).map(row));
  });
  main.replaceChildren(
    h('div', { class: 'toolbar' }, h('h1', {}, 'Istio config'), h('span', { class: 'status' }, `${c.resources.length} resources, ${withIssues} with errors or warnings`), filter),
    ...(c.messages.length > 0 ? [messageList(c.messages)] : []),
    h('table', { class: 'grid', 'data-testid': 'config-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Kind'), h('th', {}, 'Namespace'), h('th', {}, 'Name'), h('th', {}, 'Status'), h('th', {}, 'Messages'))),
      body,
    ),
  );
}

export async function resourcePage(main: El, id: string): Promise<void> {
  main.replaceChildren(h('p', { class: 'status' }, 'loading…'));
  const c = await getJson<ConfigResponse>('/api/config');
  const r = c.resources.find((x) => x.id === id);
  if (r === undefined) return void main.replaceChildren(h('h1', {}, 'Not found'), h('p', {}, `No resource ${id}. `, h('a', { href: '/config', 'data-link': '' }, 'Back to the config list')));
  main.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '/config', 'data-link': '' }, 'Istio config'), ` / ${r.kind}`),
    h('div', { class: 'toolbar' }, h('h1', { 'data-testid': 'resource-title' }, `${r.kind} ${r.namespace === '' ? '' : `${r.namespace}/`}${r.name}`), badges(r.messages)),
    h('p', { class: 'status' }, `${r.apiVersion} · from ${r.origin}${r.valid ? '' : ' · invalid'}`),
    r.messages.length > 0 ? messageList(r.messages) : h('p', {}, 'No validation or analyzer messages.'),
    h('h2', {}, 'YAML'),
    h('pre', { class: 'yaml', 'data-testid': 'config-yaml' }, r.yaml === '' ? '# the document could not be read as a resource' : r.yaml),
  );
}
