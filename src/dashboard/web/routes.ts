// The web app's pages and their paths (the server answers index.html for each; the app routes here):
//   /graph[?window=1m&namespace=ns]   /services   /services/<ns>/<name>   /workloads   /workloads/<ns>/<name>
//   /config   /config/<resource id, URI-encoded>   /proxies   /proxies/<id>/<section>
// The service and workload pages take ?window= too. Pure (unit-tested in Node).

import { PROXY_SECTIONS, type ProxySection } from '../shared/api-types.js';

export type Route =
  | { readonly page: 'graph' }
  | { readonly page: 'services' }
  | { readonly page: 'service'; readonly namespace: string; readonly name: string }
  | { readonly page: 'workloads' }
  | { readonly page: 'workload'; readonly namespace: string; readonly name: string }
  | { readonly page: 'config' }
  | { readonly page: 'resource'; readonly id: string }
  | { readonly page: 'proxies' }
  | { readonly page: 'proxy'; readonly id: string; readonly section: ProxySection };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  const [first, second, third] = parts;
  if (first === 'services' || first === 'workloads') {
    if (second === undefined || third === undefined) return { page: first };
    return { page: first === 'services' ? 'service' : 'workload', namespace: second, name: third };
  }
  if (first === 'config') return second === undefined ? { page: 'config' } : { page: 'resource', id: second };
  if (first === 'proxies') {
    if (second === undefined) return { page: 'proxies' };
    const section = PROXY_SECTIONS.find((s) => s === third) ?? 'listeners';
    return { page: 'proxy', id: second, section };
  }
  return { page: 'graph' };
}

export function resourcePath(id: string): string {
  return `/config/${encodeURIComponent(id)}`;
}

export function proxyPath(id: string, section: ProxySection = 'listeners'): string {
  return `/proxies/${encodeURIComponent(id)}/${section}`;
}

export function servicePath(namespace: string, name: string): string {
  return `/services/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

export function workloadPath(namespace: string, name: string): string {
  return `/workloads/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

/**
 * The page of a graph node or a traffic peer (`workload:<ns>/<name>`, `service:<ns>/<name>`); none for
 * `unknown` and for hosts without a service (`service:<host>`).
 */
export function nodePath(id: string): string | undefined {
  const m = /^(workload|service):([^/]+)\/(.+)$/.exec(id);
  if (m === null) return undefined;
  const [, kind, namespace = '', name = ''] = m;
  return kind === 'service' ? servicePath(namespace, name) : workloadPath(namespace, name);
}

/** Where to go after login: a path of this site (`?next=`), never another origin; the graph by default. */
export function nextPage(search: string): string {
  const next = new URLSearchParams(search).get('next') ?? '';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') && !next.startsWith('/login') ? next : '/graph';
}
