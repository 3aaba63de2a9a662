// `proxy-config routes`: istioctl's route tables (istioctl/pkg/writer/envoy/configdump/route.go).
// Verbose (the default): NAME VHOST NAME DOMAINS MATCH VIRTUAL SERVICE, one row per route (routes to the
// PassthroughCluster are left out; a virtual host without routes shows `/*` and `404`);
// `--verbose=false`: NAME VIRTUAL HOSTS. Route configs named by a port number come first, by number.
// DOMAINS keeps the shortest spelling of each host without a port, at most two, then `+ N more...`.

import { dumpRouteConfigs, type ConfigDump, type Table } from './config-dump.js';
import { list, obj, str, strings, withoutType, type JsonObject } from './json-fields.js';
import { describeManagement } from './istio-names.js';
import { describeMatch } from './route-match.js';

const PASSTHROUGH = 'PassthroughCluster';

export interface RouteFilter {
  /** The route config name, exactly. */
  readonly name?: string;
}

/** Drops `h.svc.cluster.local` and `h.svc` when `h` itself is listed, keeping the original order. */
function unexpandDomains(domains: readonly string[]): string[] {
  const unique = new Set(domains);
  const drop = new Set<string>();
  for (const h of domains) {
    for (const suffix of ['.svc.cluster.local', '.svc']) {
      if (h.endsWith(suffix) && unique.has(h.slice(0, -suffix.length))) drop.add(h);
    }
  }
  return domains.filter((h) => !drop.has(h));
}

/** The DOMAINS cell (istioctl describeRouteDomains). */
export function describeRouteDomains(domains: readonly string[]): string {
  if (domains.length === 0) return '';
  if (domains.length === 1) return domains[0] ?? '';
  // Hosts without a port; a bracketed IPv6 address alone (`[fd00::1]`) counts as one.
  const withoutPort = domains.filter((d) => !d.includes(':') || (d.split(':').length - 1 > 2 && d.endsWith(']')));
  const shown = unexpandDomains(withoutPort);
  const max = 2;
  if (shown.length > max) return `${shown.slice(0, max).join(', ')} + ${shown.length - max} more...`;
  return shown.join(', ');
}

function isPassthrough(route: JsonObject): boolean {
  return str(obj(route, 'route'), 'cluster') === PASSTHROUGH;
}

/** Port-named route configs first, by number; the others after them in dump order. */
export function selectRouteConfigs(d: ConfigDump, f: RouteFilter = {}): JsonObject[] {
  const all = dumpRouteConfigs(d).filter((rc) => f.name === undefined || f.name === '' || str(rc, 'name') === f.name);
  const numeric = (rc: JsonObject): boolean => /^[+-]?[0-9]+$/.test(str(rc, 'name'));
  const byPort = all.filter(numeric).sort((a, b) => Number(str(a, 'name')) - Number(str(b, 'name')));
  return [...byPort, ...all.filter((rc) => !numeric(rc))];
}

export function routeTable(d: ConfigDump, f: RouteFilter = {}, opts: { verbose?: boolean; withName?: boolean } = {}): Table {
  const verbose = opts.verbose ?? true;
  const rows: string[][] = [];
  for (const rc of selectRouteConfigs(d, f)) {
    const name = opts.withName === true ? `route/${str(rc, 'name')}` : str(rc, 'name');
    const vhosts = list(rc, 'virtual_hosts');
    if (!verbose) {
      rows.push([name, String(vhosts.length)]);
      continue;
    }
    for (const vh of vhosts) {
      const domains = describeRouteDomains(strings(vh, 'domains'));
      const routes = list(vh, 'routes');
      for (const r of routes) {
        if (!isPassthrough(r)) rows.push([name, str(vh, 'name'), domains, describeMatch(obj(r, 'match')), describeManagement(obj(r, 'metadata'))]);
      }
      if (routes.length === 0) rows.push([name, str(vh, 'name'), domains, '/*', '404']);
    }
  }
  return { headers: verbose ? ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'] : ['NAME', 'VIRTUAL HOSTS'], rows };
}

/** `-o json|yaml`: the selected RouteConfiguration messages. */
export function routeData(d: ConfigDump, f: RouteFilter = {}): JsonObject[] {
  return selectRouteConfigs(d, f).map(withoutType);
}
