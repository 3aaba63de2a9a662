// The route decision for one request, step by step: the route configuration the connection manager
// uses, the virtual host for the request's authority (and which domain matched), each route in order
// with why it did or did not match, and the selection the proxy's compiled route table makes. The
// table (compileRouteConfig) and the domain index (buildVirtualHostIndex) are the proxy's own; the
// selection for the matching route comes from compiling a table holding just that route, so rewrites,
// redirects and direct responses are computed exactly as the proxy computes them.

import { clone } from '@bufbuild/protobuf';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema, VirtualHost_TlsRequirementType as Tls, type Route, type VirtualHost } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { compileRouteConfig } from '../../proxy/http/route/compile-route-config.js';
import { buildVirtualHostIndex, portStart } from '../../proxy/http/route/virtual-host-index.js';
import { needsTls } from '../../proxy/http/route/redirect.js';
import { RequestView } from '../../proxy/http/route/request-view.js';
import type { Random } from '../../proxy/lib/random.js';
import type { CompiledHcm } from '../../proxy/runtime/compile-hcm.js';
import type { RouteInput, RouteSelection } from '../../proxy/http/route/types.js';
import { istioConfigOf } from './istio-resource.js';
import { describeRouteMatch, explainRouteMatch, type RouteMatchExplanation } from './route-match-reasons.js';
import type { ExplainStep, Verdict } from './types.js';

/** Explanations draw no randomness: a request's random value is 0 (fractions above 0% hit, the first weighted cluster is picked). */
export const ZERO_RANDOM: Random = { next: () => 0 };

export interface RouteOutcome {
  readonly selection: RouteSelection | undefined;
  readonly routeConfig: RouteConfiguration | undefined;
  readonly virtualHost: VirtualHost | undefined;
  readonly route: Route | undefined;
  /** `<virtual host>/routes[<i>] (<name>)`, the route's resource name in the steps. */
  readonly label: string | undefined;
  /** The Istio resource behind the route (its istio.config metadata). */
  readonly istioResource: string | undefined;
  /** Set when nothing matched: 404 NR. */
  readonly notFound: Verdict | undefined;
}

function routeLabel(vh: VirtualHost, r: Route, i: number): string {
  return `${vh.name}/routes[${i}]${r.name !== '' ? ` (${r.name})` : ''}`;
}

/** Which of the virtual host's domains the authority matched, and how (Envoy's search order). */
function matchedDomain(vh: VirtualHost, authority: string, ignorePort: boolean): string {
  let host = authority;
  if (ignorePort) {
    const p = portStart(host);
    if (p >= 0) host = host.slice(0, p);
  }
  host = host.toLowerCase();
  const ds = vh.domains.map((d) => d.toLowerCase());
  const exact = ds.find((d) => d === host);
  if (exact !== undefined) return `"${exact}" (exact)`;
  const suffix = ds.filter((d) => d.startsWith('*') && d !== '*' && host.length > d.length - 1 && host.endsWith(d.slice(1))).sort((a, b) => b.length - a.length)[0];
  if (suffix !== undefined) return `"${suffix}" (suffix wildcard)`;
  const prefix = ds.filter((d) => d.endsWith('*') && d !== '*' && host.length > d.length - 1 && host.startsWith(d.slice(0, -1))).sort((a, b) => b.length - a.length)[0];
  if (prefix !== undefined) return `"${prefix}" (prefix wildcard)`;
  return '"*" (the catch-all: no other virtual host names this host)';
}

function listDomains(rc: RouteConfiguration): string {
  const names = rc.virtualHosts.map((v) => `${v.name} [${v.domains.slice(0, 4).join(', ')}${v.domains.length > 4 ? ', …' : ''}]`);
  return names.length === 0 ? 'it has no virtual hosts' : `virtual hosts: ${names.join('; ')}`;
}

function reasonText(x: RouteMatchExplanation): string {
  const failed = x.conditions.filter((c) => c.result === 'no');
  if (failed.length > 0) return failed.map((c) => `${c.condition} does not hold: ${c.why}`).join('; ');
  const some = x.conditions.filter((c) => c.result === 'sometimes');
  if (some.length > 0) return `${some.map((c) => c.condition).join(', ')}: matches only that share of requests (${x.conditions.filter((c) => c.result === 'yes').map((c) => c.why).join(', ')})`;
  return x.conditions.map((c) => `${c.condition} holds: ${c.why}`).join('; ');
}

/** The selection of route `i` of `vh`, as the proxy's table computes it. */
function selectOne(rc: RouteConfiguration, vh: VirtualHost, i: number, input: RouteInput, problems: string[]): RouteSelection | undefined {
  const one = clone(RouteConfigurationSchema, rc);
  const v = clone(VirtualHostSchema, vh);
  v.routes = [v.routes[i] as Route];
  v.domains = ['*'];
  one.virtualHosts = [v];
  const compiled = compileRouteConfig(one);
  if (!compiled.ok) {
    problems.push(`route configuration ${rc.name}: ${compiled.problems.join('; ')}`);
    return undefined;
  }
  return compiled.value.select(input, ZERO_RANDOM);
}

/** The route decision for `input` by the connection manager `hcm`. */
export function explainRoute(hcm: CompiledHcm, routes: ReadonlyMap<string, RouteConfiguration>, inlineConfig: RouteConfiguration | undefined, input: RouteInput, steps: ExplainStep[], problems: string[]): RouteOutcome {
  const none = (verdict: Verdict | undefined, rest: Partial<RouteOutcome> = {}): RouteOutcome => ({ selection: undefined, routeConfig: undefined, virtualHost: undefined, route: undefined, label: undefined, istioResource: undefined, notFound: verdict, ...rest });
  const rds = hcm.routes.kind === 'rds' ? hcm.routes.name : undefined;
  const rc = rds !== undefined ? routes.get(rds) : inlineConfig;
  if (rc === undefined) {
    steps.push({
      step: 'route-config',
      resource: rds ?? '(inline)',
      decision: 'missing',
      detail: `the connection manager takes routes from RDS "${rds ?? ''}", which the proxy has not received: every request gets 404`,
    });
    return none({ outcome: 'rejected', status: 404, responseFlag: 'NR', summary: `route configuration "${rds ?? ''}" has not arrived: 404 NR` });
  }
  steps.push({
    step: 'route-config',
    resource: rc.name,
    decision: 'selected',
    detail: `${rds !== undefined ? `route configuration "${rc.name}" from RDS` : `inline route configuration "${rc.name}"`}: ${rc.virtualHosts.length} virtual host(s)${rc.ignorePortInHostMatching ? '; the authority is matched without its port (ignore_port_in_host_matching)' : ''}`,
  });

  const idx = buildVirtualHostIndex(rc.virtualHosts.map((v, i) => ({ domains: v.domains, value: i })), rc.ignorePortInHostMatching, 'virtual_hosts', []).find(input.authority);
  const vh = idx === undefined ? undefined : rc.virtualHosts[idx];
  if (vh === undefined) {
    steps.push({ step: 'virtual-host', resource: rc.name, decision: 'no match', detail: `no virtual host has a domain matching authority "${input.authority}"; ${listDomains(rc)}` });
    return none({ outcome: 'rejected', status: 404, responseFlag: 'NR', summary: `no route: no virtual host of route configuration "${rc.name}" matches authority "${input.authority}": 404 NR` }, { routeConfig: rc });
  }
  const vhIstio = istioConfigOf(vh.metadata);
  steps.push({
    step: 'virtual-host',
    resource: vh.name,
    ...(vhIstio !== undefined ? { istioResource: vhIstio } : {}),
    decision: 'matched',
    detail: `authority "${input.authority}" matches domain ${matchedDomain(vh, input.authority, rc.ignorePortInHostMatching)}; ${vh.routes.length} route(s) to try in order${vh.name === 'allow_any' ? ' (Istio\'s catch-all for hosts outside the registry, outboundTrafficPolicy ALLOW_ANY)' : vh.name === 'block_all' ? ' (Istio\'s catch-all for hosts outside the registry, outboundTrafficPolicy REGISTRY_ONLY)' : ''}`,
  });

  if (vh.requireTls !== Tls.NONE && needsTls(input, vh.requireTls === Tls.EXTERNAL_ONLY)) {
    const full = compileRouteConfig(rc);
    const sel = full.ok ? full.value.select(input, ZERO_RANDOM) : undefined;
    steps.push({ step: 'virtual-host', resource: vh.name, decision: 'redirect', detail: `the virtual host requires TLS (require_tls ${Tls[vh.requireTls]}); a plain request is redirected to https with 301` });
    return { selection: sel, routeConfig: rc, virtualHost: vh, route: undefined, label: vh.name, istioResource: vhIstio, notFound: undefined };
  }

  const view = new RequestView();
  view.reset(input, ZERO_RANDOM, rc.ignorePathParametersInPathMatching);
  const tried: string[] = [];
  for (let i = 0; i < vh.routes.length; i++) {
    const r = vh.routes[i] as Route;
    const x = explainRouteMatch(r.match, view);
    const istio = istioConfigOf(r.metadata) ?? vhIstio;
    const label = routeLabel(vh, r, i);
    const matchText = describeRouteMatch(r.match);
    tried.push(`routes[${i}] ${matchText}`);
    if (x.matched === 'no') {
      steps.push({ step: 'route', resource: label, ...(istio !== undefined ? { istioResource: istio } : {}), decision: 'no match', detail: `match ${matchText}: ${reasonText(x)}` });
      continue;
    }
    const sel = selectOne(rc, vh, i, input, problems);
    if (sel === undefined) {
      steps.push({ step: 'route', resource: label, ...(istio !== undefined ? { istioResource: istio } : {}), decision: 'skipped', detail: `match ${matchText} holds, but the route yields no target (an optional cluster specifier plugin this proxy does not run); matching goes on` });
      continue;
    }
    steps.push({
      step: 'route',
      resource: label,
      ...(istio !== undefined ? { istioResource: istio } : {}),
      decision: x.matched === 'yes' ? 'matched' : 'matches sometimes',
      detail: `match ${matchText}: ${reasonText(x)}${x.matched === 'sometimes' ? '; the other requests go on to the next route' : ''}`,
    });
    crossCheck(rc, input, sel, problems);
    return { selection: sel, routeConfig: rc, virtualHost: vh, route: r, label, istioResource: istio, notFound: undefined };
  }
  steps.push({ step: 'route', resource: vh.name, ...(vhIstio !== undefined ? { istioResource: vhIstio } : {}), decision: 'none matched', detail: `no route of ${vh.name} matches ${input.method} ${input.path}` });
  const path = view.pathOnly;
  return none(
    {
      outcome: 'rejected',
      status: 404,
      responseFlag: 'NR',
      summary: `no route matched: virtual host ${vh.name} has routes ${tried.join('; ')}, none matches path ${path}`,
    },
    { routeConfig: rc, virtualHost: vh },
  );
}

/** The whole table must agree on whether a route is selected; a disagreement is reported, not hidden. */
function crossCheck(rc: RouteConfiguration, input: RouteInput, sel: RouteSelection, problems: string[]): void {
  const full = compileRouteConfig(rc);
  if (!full.ok) return;
  const actual = full.value.select(input, ZERO_RANDOM);
  if (actual === undefined || actual.kind !== sel.kind || actual.route.name !== sel.route.name) {
    problems.push(`the proxy's route table selects ${actual === undefined ? 'no route' : `a ${actual.kind} route "${actual.route.name}"`} for this request; the explanation above may be incomplete`);
  }
}
