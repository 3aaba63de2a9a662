// The web app behind the login: a header with the views (graph, services, workloads, Istio config, proxies) and a
// client-side router over the page paths (routes.ts). Links marked data-link navigate without a reload;
// the previous page's refreshing stops when another page is shown.

import { LOGIN_PATH } from '../shared/api-types.js';
import { ApiFailure, postJson } from './api.js';
import { doc, h, win, type El } from './dom.js';
import { configPage, resourcePage } from './config-page.js';
import { graphPage } from './graph-page.js';
import { proxiesPage, proxyPage } from './proxies-page.js';
import { parseRoute } from './routes.js';
import { servicePage, servicesPage } from './services-page.js';
import { workloadPage, workloadsPage } from './workloads-page.js';

const NAV: readonly (readonly [string, string, string])[] = [
  ['/graph', 'Graph', 'nav-graph'],
  ['/services', 'Services', 'nav-services'],
  ['/workloads', 'Workloads', 'nav-workloads'],
  ['/config', 'Istio Config', 'nav-config'],
  ['/proxies', 'Proxies', 'nav-proxies'],
];

const root = doc.getElementById('app') as HTMLElement;
const main = h('main', { 'data-testid': 'main' });
const nav = h('nav', { class: 'nav' }, ...NAV.map(([href, label, id]) => h('a', { href, 'data-link': '', 'data-testid': id }, label)));
const logout = h('button', { type: 'button', class: 'logout', 'data-testid': 'logout' }, 'Log out');
root.replaceChildren(h('header', {}, h('a', { class: 'brand', href: '/graph', 'data-link': '' }, 'Isthmus'), nav, logout), main);

let stop: (() => void) | undefined;

function render(): void {
  stop?.();
  stop = undefined;
  const route = parseRoute(win.location.pathname);
  const section = route.page === 'resource' ? '/config' : route.page === 'proxy' ? '/proxies' : route.page === 'service' ? '/services' : route.page === 'workload' ? '/workloads' : `/${route.page}`;
  for (const [href, , id] of NAV) nav.querySelector(`[data-testid="${id}"]`)?.classList.toggle('active', href === section);
  const failed = (e: unknown): void => {
    if (e instanceof ApiFailure && e.message === 'not logged in') return;
    main.replaceChildren(h('p', { class: 'error', 'data-testid': 'page-error' }, `Could not load this page: ${e instanceof Error ? e.message : String(e)}`));
  };
  switch (route.page) {
    case 'graph':
      doc.title = 'Graph · Isthmus';
      stop = graphPage(main);
      return;
    case 'services':
      doc.title = 'Services · Isthmus';
      stop = servicesPage(main);
      return;
    case 'service':
      doc.title = `${route.name}.${route.namespace} · Isthmus`;
      stop = servicePage(main, route.namespace, route.name);
      return;
    case 'workloads':
      doc.title = 'Workloads · Isthmus';
      stop = workloadsPage(main);
      return;
    case 'workload':
      doc.title = `${route.name}.${route.namespace} · Isthmus`;
      stop = workloadPage(main, route.namespace, route.name);
      return;
    case 'config':
      doc.title = 'Istio Config · Isthmus';
      return void configPage(main).catch(failed);
    case 'resource':
      doc.title = `${route.id} · Isthmus`;
      return void resourcePage(main, route.id).catch(failed);
    case 'proxies':
      doc.title = 'Proxies · Isthmus';
      return void proxiesPage(main).catch(failed);
    case 'proxy':
      doc.title = `${route.id} · Isthmus`;
      return void proxyPage(main, route.id, route.section).catch(failed);
  }
}

root.addEventListener('click', (ev: MouseEvent) => {
  const a = (ev.target as El | null)?.closest('a[data-link]');
  if (a === null || a === undefined || ev.button !== 0 || ev.metaKey || ev.ctrlKey) return;
  ev.preventDefault();
  win.history.pushState(null, '', a.getAttribute('href') ?? '/graph');
  render();
});
win.addEventListener('popstate', () => render());
logout.addEventListener('click', () => {
  void postJson('/api/logout', {}).finally(() => win.location.assign(LOGIN_PATH));
});
if (win.location.pathname === '/') win.history.replaceState(null, '', '/graph');
render();
