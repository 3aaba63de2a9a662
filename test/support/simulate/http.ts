// The HTTP half of the walk: the HttpConnectionManager's route config (inline or RDS from the resources),
// VirtualHost selection by :authority (Envoy's domains search order), require_tls, the first matching route
// and its action. Matching rules live in route-match.ts, actions in route-action.ts.

import type { ProxyResources } from '../../../src/translate/resources.js';
import type { RouteConfiguration } from '../../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import { VirtualHost_TlsRequirementType as TlsRequirement, type VirtualHost } from '../../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { HttpConnectionManager } from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { stripPort } from './authority.js';
import { checkClusters } from './check-clusters.js';
import { buildRequest } from './request.js';
import { applyAction } from './route-action.js';
import { routeMatches } from './route-match.js';
import { Stop } from './stop.js';
import type { Conn, Result } from './types.js';

export function routeHttp(res: ProxyResources, hcm: HttpConnectionManager, c: Conn, tls: boolean, r: Result, requireClusters: boolean): void {
  r.raw.hcm = hcm;
  r.httpFilters = hcm.httpFilters.map((f) => f.name);
  let rc: RouteConfiguration | undefined;
  switch (hcm.routeSpecifier.case) {
    case 'routeConfig':
      rc = hcm.routeSpecifier.value;
      if (rc.name !== '') r.routeConfig = rc.name;
      break;
    case 'rds': {
      const name = hcm.routeSpecifier.value.routeConfigName;
      r.routeConfig = name;
      rc = res.routes.find((x) => x.name === name);
      if (rc === undefined) throw new Stop('no route config', `RDS route config ${name} is not among the resources`);
      break;
    }
    default:
      throw new Stop('unsupported', `HCM route_specifier ${hcm.routeSpecifier.case ?? 'unset'}`);
  }
  r.raw.routeConfiguration = rc;
  if (rc.vhds !== undefined) throw new Stop('unsupported', `route config ${rc.name} uses vhds`);

  const req = buildRequest(hcm, c, tls);
  const vh = selectVirtualHost(rc, req.authority);
  r.virtualHost = vh.name;
  r.raw.virtualHost = vh;
  r.trace.push(`virtual host ${vh.name} for authority ${JSON.stringify(req.authority)}`);
  if (vh.requireTls !== TlsRequirement.NONE && !tls) throw new Stop('tls redirect', `virtual host ${vh.name} requires TLS (301 to https)`);
  if (vh.matcher !== undefined) throw new Stop('unsupported', `virtual host ${vh.name} uses matcher`);

  const route = vh.routes.find((x, i) => routeMatches(x, i, vh, req));
  if (route === undefined) throw new Stop('no route', `virtual host ${vh.name}: no route matches ${c.call.method ?? 'GET'} ${req.path}`);
  r.route = route.name;
  r.raw.route = route;
  r.trace.push(`route ${route.name !== '' ? route.name : `#${vh.routes.indexOf(route)}`}`);
  applyAction(route, req, r);
  checkClusters(res, r, requireClusters);
}

/**
 * VirtualHost.domains (route_components.proto): exact, then suffix wildcards (`*.foo.com`, `*-bar.foo.com`),
 * then prefix wildcards (`foo.*`), then `*`; longest wildcard first; a wildcard never matches the empty
 * string. Envoy lowercases the authority and compares `host:port` literally unless the route config sets
 * ignore_port_in_host_matching (Istio lists both `host` and `host:port` in domains).
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-virtualhost-domains
 */
function selectVirtualHost(rc: RouteConfiguration, authority: string): VirtualHost {
  let host = authority.toLowerCase();
  if (rc.ignorePortInHostMatching) host = stripPort(host);
  const all = rc.virtualHosts.flatMap((vh) => vh.domains.map((d) => ({ vh, d: d.toLowerCase() })));
  const exact = all.find((x) => x.d === host);
  if (exact !== undefined) return exact.vh;
  const wild = (kind: 'suffix' | 'prefix'): VirtualHost | undefined => {
    let best: { vh: VirtualHost; len: number } | undefined;
    for (const { vh, d } of all) {
      if (d === '*' || !(kind === 'suffix' ? d.startsWith('*') : d.endsWith('*'))) continue;
      const fixed = kind === 'suffix' ? d.slice(1) : d.slice(0, -1);
      const hit = host.length > fixed.length && (kind === 'suffix' ? host.endsWith(fixed) : host.startsWith(fixed));
      if (hit && (best === undefined || fixed.length > best.len)) best = { vh, len: fixed.length };
    }
    return best?.vh;
  };
  const found = wild('suffix') ?? wild('prefix') ?? all.find((x) => x.d === '*')?.vh;
  if (found === undefined) throw new Stop('no virtual host', `route config ${rc.name}: no domain matches ${JSON.stringify(authority)}`);
  return found;
}
