// The HTTP filters a request meets, in the connection manager's order, each deciding as the proxy's
// filter chain does (src/proxy/http/filter-chain.ts): the fault filter with the most specific per-route
// HTTPFault (Istio's VirtualService `fault`) or the listener's, decided by the fault engine
// (decideFault) with the percentages reported rather than rolled; CORS with the route's policy (a
// preflight is answered here); the router last. Filters the proxy skips (disabled, passive, optional and
// unknown) are listed as skipped.

import { typedStructOf } from '../../proxy/runtime/typed-struct.js';
import { STATS_FILTER_TYPE } from '../../proxy/telemetry/stats-config.js';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { HttpConnectionManager, HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { HTTPFaultSchema } from '../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { CorsPolicySchema } from '../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import type { CompiledHcm, CompiledHttpFilter } from '../../proxy/runtime/compile-hcm.js';
import { compileFault, resolveFaultConfig, type FaultConfig } from '../../proxy/filters/fault/config.js';
import { decideFault, FAULT_ABORT_BODY } from '../../proxy/filters/fault/engine.js';
import { compileCorsPolicy, type CorsPolicyConfig } from '../../proxy/filters/cors/config.js';
import { corsPreflight } from '../../proxy/filters/cors/engine.js';
import type { RbacFilterConfig } from '../../proxy/filters/rbac/config.js';
import { evaluateRbac } from '../../proxy/filters/rbac/engine.js';
import { rbacDeniedDetails } from '../../proxy/filters/rbac/filter.js';
import type { CorsSource, HeaderMap, RouteSelection } from '../../proxy/http/route/types.js';
import { describeIstioConfig } from './istio-resource.js';
import { percent } from './route-match-reasons.js';
import { ZERO_RANDOM } from './route-steps.js';
import type { ExplainStep, Verdict } from './types.js';
import type { OverrideHost } from '../../proxy/upstream/override-host.js';
import { perRouteStatefulSession } from '../../proxy/filters/stateful-session/config.js';
import { monotonicSeconds, sessionAddress } from '../../proxy/filters/stateful-session/session-state.js';

export interface FilterOutcome {
  /** A filter answers the request itself (fault abort at 100%, CORS preflight). */
  readonly answered: Verdict | undefined;
  /** Notes for the verdict: faults that hit only a share of requests. */
  readonly notes: readonly string[];
  /** The host the stateful session filter asks the cluster for (the request's session cookie or header). */
  readonly override?: OverrideHost;
}

/**
 * The stateful session filter (filters/stateful-session): the route's config or the listener's, and the host
 * the request's cookie or header names, which the cluster step then looks for.
 */
function sessionStep(f: Extract<CompiledHttpFilter, { kind: 'stateful_session' }>, sel: RouteSelection | undefined, path: string, headers: HeaderMap, steps: ExplainStep[]): OverrideHost | undefined {
  const a = sel?.perFilterConfig(f.name);
  const r = a !== undefined ? perRouteStatefulSession(a) : undefined;
  const base = { step: 'http-filter' as const, resource: f.name };
  if (r?.ok === true && r.value.disabled) return void steps.push({ ...base, decision: 'passed', detail: 'persistent sessions are disabled for this route' });
  const config = r?.ok === true && !r.value.disabled ? r.value.config : f.config;
  const state = config.state;
  if (state === undefined) return void steps.push({ ...base, decision: 'passed', detail: "no session for this route: the listener's filter is empty (as Istio sends it), and no route or virtual host configures one (a service labelled istio.io/persistent-session does)" });
  const what = state.kind === 'cookie' ? `cookie ${state.name}` : `header ${state.name}`;
  if (state.kind === 'cookie' && !state.matchesPath(path)) return void steps.push({ ...base, decision: 'passed', detail: `a cookie session (${state.name}) for paths under ${state.path}; ${path} is not one` });
  const address = sessionAddress(state, headers, monotonicSeconds());
  if (address === undefined) {
    steps.push({ ...base, decision: 'passed', detail: `a session by ${what}, which the request does not carry (or which names no host, or has expired): the balancer picks, and the response sets the ${what} to the host that answered` });
    return undefined;
  }
  steps.push({ ...base, decision: 'session', detail: `the request's ${what} names ${address}: the cluster sends it there when that host is one of its own in a status the cluster accepts for sessions${config.strict ? ' (strict: that host or 503)' : ', else the balancer picks'}` });
  return { address, strict: config.strict };
}


function perRouteFault(sel: RouteSelection | undefined, name: string): FaultConfig | undefined {
  const a = sel?.perFilterConfig(name);
  if (a === undefined) return undefined;
  const m = anyUnpack(a, HTTPFaultSchema);
  const r = m !== undefined ? compileFault(m) : undefined;
  return r?.ok === true ? r.value : undefined;
}

function corsPolicyOf(src: CorsSource | undefined): CorsPolicyConfig | undefined {
  if (src === undefined) return undefined;
  const policy = src.kind === 'typed' ? anyUnpack(src.config, CorsPolicySchema) : src.policy;
  const r = policy !== undefined ? compileCorsPolicy(policy) : undefined;
  return r?.ok === true ? r.value : undefined;
}

function certain(p: { numerator: number; denominator: number }): boolean {
  return p.numerator >= p.denominator;
}

function faultStep(f: Extract<CompiledHttpFilter, { kind: 'fault' }>, sel: RouteSelection | undefined, headers: HeaderMap, istio: string | undefined, steps: ExplainStep[], notes: string[]): Verdict | undefined {
  const route = perRouteFault(sel, f.name);
  const cfg = resolveFaultConfig(f.config, route);
  const source = route !== undefined ? `the route's fault config${istio !== undefined ? ` (${describeIstioConfig(istio)})` : ''}` : "the listener's fault config";
  const base = { step: 'http-filter' as const, resource: f.name, ...(route !== undefined && istio !== undefined ? { istioResource: istio } : {}) };
  if (cfg.abort === undefined && cfg.delay === undefined && cfg.responseRateLimit === undefined) {
    steps.push({ ...base, decision: 'passed', detail: 'no fault is configured for this route' });
    return undefined;
  }
  // Percentages are reported, not rolled: a Random of 0 makes every percentage above 0% hit.
  const d = decideFault(cfg, headers, ZERO_RANDOM, 0, sel?.kind === 'route' ? sel.cluster : undefined);
  if (d.abort === undefined && d.delayMs === undefined && d.responseRateLimitKbps === undefined) {
    const why = cfg.upstreamCluster !== '' ? `it applies only to cluster ${cfg.upstreamCluster}` : cfg.headers.length > 0 ? 'the request does not have the headers it requires' : cfg.downstreamNodes.size > 0 ? 'the request does not come from the downstream nodes it names' : 'its percentages are 0%';
    steps.push({ ...base, decision: 'passed', detail: `${source} injects no fault into this request: ${why}` });
    return undefined;
  }
  const parts: string[] = [];
  let answered: Verdict | undefined;
  if (d.delayMs !== undefined && cfg.delay !== undefined) {
    const p = cfg.delay.percentage;
    parts.push(`delays ${percent(p.numerator, p.denominator)} of requests by ${d.delayMs} ms (response flag DI)`);
    if (!certain(p)) notes.push(`${percent(p.numerator, p.denominator)} of requests are delayed ${d.delayMs} ms by the fault filter (DI)`);
  }
  if (d.abort !== undefined && cfg.abort !== undefined) {
    const p = cfg.abort.percentage;
    const status = 'status' in d.abort ? d.abort.status : 200;
    const what = 'status' in d.abort ? `HTTP ${d.abort.status} "${FAULT_ABORT_BODY}"` : `gRPC status ${d.abort.grpcStatus}`;
    parts.push(`aborts ${percent(p.numerator, p.denominator)} of requests with ${what} (response flag FI)`);
    if (certain(p)) {
      answered = {
        outcome: 'rejected',
        status,
        responseFlag: 'FI',
        summary: `the fault filter aborts the request with ${what}${istio !== undefined && route !== undefined ? `, injected by ${describeIstioConfig(istio)}` : ''}`,
      };
    } else notes.push(`${percent(p.numerator, p.denominator)} of requests are aborted with ${what} by the fault filter (FI)${istio !== undefined && route !== undefined ? `, injected by ${describeIstioConfig(istio)}` : ''}`);
  }
  if (d.responseRateLimitKbps !== undefined) parts.push(`limits the response to ${d.responseRateLimitKbps} KiB/s`);
  steps.push({ ...base, decision: answered !== undefined ? 'aborts' : d.abort !== undefined ? 'aborts sometimes' : 'delays', detail: `${source} ${parts.join('; ')}` });
  return answered;
}

function corsStep(name: string, sel: RouteSelection | undefined, method: string, headers: HeaderMap, steps: ExplainStep[]): Verdict | undefined {
  const policy = corsPolicyOf(sel?.cors);
  if (policy === undefined) {
    steps.push({ step: 'http-filter', resource: name, decision: 'passed', detail: 'no CORS policy applies to this route' });
    return undefined;
  }
  const pre = corsPreflight(policy, method, headers, ZERO_RANDOM);
  if (pre !== undefined) {
    steps.push({ step: 'http-filter', resource: name, decision: 'answers', detail: `a CORS preflight from an allowed origin is answered by the proxy (200, ${Object.keys(pre.headers).join(', ')})` });
    return { outcome: 'rejected', status: 200, summary: 'the CORS filter answers the preflight itself (200)' };
  }
  steps.push({ step: 'http-filter', resource: name, decision: 'passed', detail: 'the route has a CORS policy; the request is not a preflight it answers, so it goes on (allowed origins get CORS response headers)' });
  return undefined;
}

const PASSIVE = new Set(['envoy.extensions.filters.http.grpc_stats.v3.FilterConfig']);

/** Why the proxy does not run a configured filter. */
function skipReason(f: HttpFilter): string {
  const t = f.configType.case === 'typedConfig' ? f.configType.value.typeUrl.slice(f.configType.value.typeUrl.lastIndexOf('/') + 1) : '';
  if (!f.disabled && f.configType.case === 'typedConfig' && typedStructOf(f.configType.value)?.type === STATS_FILTER_TYPE) return "Istio's stats filter: it records the request in istio_requests_total and the other standard metrics when it ends, and does not act on it";
  return f.disabled ? 'disabled by default in the listener' : PASSIVE.has(t) ? 'it does not act on requests in this proxy' : f.isOptional ? 'optional, and not implemented by this proxy' : 'not run by this proxy';
}

/**
 * Runs the HCM's filters in order up to the router. `istio` is the Istio resource of the selected
 * route. Returns the first local answer, if a filter gives one.
 */
/**
 * The RBAC filter, decided by the proxy's engine on what the request itself carries (method, path,
 * authority, headers). The peer's identity and addresses are those of the sending sidecar, which this
 * outbound view does not model, so rules on them are reported as not matching.
 */
function rbacStep(name: string, cfg: RbacFilterConfig, method: string, path: string, headers: HeaderMap, steps: ExplainStep[]): Verdict | undefined {
  const one = (k: string): string | undefined => {
    const v = headers[k];
    return Array.isArray(v) ? v.join(',') : v;
  };
  if (cfg.rules === undefined) {
    steps.push({ step: 'http-filter', resource: name, decision: 'passed', detail: 'no enforced rules (shadow rules only count)' });
    return undefined;
  }
  const d = evaluateRbac(cfg.rules, { method, path, host: one(':authority') ?? one('host') ?? '', headers: one, directRemoteIp: '', remoteIp: '', sourcePort: 0, destinationIp: '', destinationPort: 0, sni: '', metadata: {} });
  const which = d.matchedPolicy !== undefined ? `policy ${d.matchedPolicy}` : 'no policy';
  const detail = `${d.action} rules: ${which} matches (peer identity and addresses are not known in this view)`;
  if (d.allowed) {
    steps.push({ step: 'http-filter', resource: name, decision: 'passed', detail });
    return undefined;
  }
  steps.push({ step: 'http-filter', resource: name, decision: 'denies', detail: `${detail}: 403 ${rbacDeniedDetails(d.matchedPolicy)}` });
  return { outcome: 'rejected', status: 403, summary: `RBAC: access denied (${rbacDeniedDetails(d.matchedPolicy)})` };
}

export function explainHttpFilters(hcm: CompiledHcm, proto: HttpConnectionManager | undefined, sel: RouteSelection | undefined, method: string, path: string, headers: HeaderMap, istio: string | undefined, steps: ExplainStep[]): FilterOutcome {
  const notes: string[] = [];
  let override: OverrideHost | undefined;
  const compiled = [...hcm.httpFilters];
  const order: readonly { readonly name: string; readonly proto?: HttpFilter }[] = proto?.httpFilters.map((p) => ({ name: p.name, proto: p })) ?? compiled.map((f) => ({ name: f.name }));
  for (const p of order) {
    const f = compiled[0];
    if (f === undefined || f.name !== p.name) {
      if (p.proto !== undefined) steps.push({ step: 'http-filter', resource: p.name, decision: 'skipped', detail: skipReason(p.proto) });
      continue;
    }
    compiled.shift();
    switch (f.kind) {
      case 'fault': {
        const v = faultStep(f, sel, headers, istio, steps, notes);
        if (v !== undefined) return { answered: v, notes };
        break;
      }
      case 'cors': {
        const v = corsStep(f.name, sel, method, headers, steps);
        if (v !== undefined) return { answered: v, notes };
        break;
      }
      case 'rbac': {
        const v = rbacStep(f.name, f.config, method, path, headers, steps);
        if (v !== undefined) return { answered: v, notes };
        break;
      }
      case 'peer_metadata': {
        const c = f.config;
        const what = [
          c.upstreamPropagation ? "sends this proxy's workload upstream (x-envoy-peer-metadata)" : '',
          c.upstreamDiscovery ? "reads the server's from the response" : '',
          c.downstreamDiscovery ? "reads the client's workload from the request's x-envoy-peer-metadata" : '',
          c.downstreamPropagation ? 'answers with its own' : '',
        ].filter((x) => x !== '');
        steps.push({ step: 'http-filter', resource: f.name, decision: 'passed', detail: `Istio's metadata exchange for telemetry: ${what.join(', ') || 'nothing configured'}` });
        break;
      }
      case 'alpn': {
        const c = f.config;
        const lists = [c.http10 !== undefined ? `HTTP/1.0: ${c.http10.join(', ')}` : '', c.http11 !== undefined ? `HTTP/1.1: ${c.http11.join(', ')}` : '', c.http2 !== undefined ? `HTTP/2: ${c.http2.join(', ')}` : ''].filter((x) => x !== '');
        steps.push({ step: 'http-filter', resource: f.name, decision: 'passed', detail: `Istio's ALPN override: an mTLS connection upstream offers the list for the protocol the cluster speaks (${lists.join('; ') || 'none configured'}), unless the cluster originates its own TLS` });
        break;
      }
      case 'grpc_web': {
        const ct = headers['content-type'];
        const web = typeof ct === 'string' && ct.startsWith('application/grpc-web');
        steps.push({ step: 'http-filter', resource: f.name, decision: 'passed', detail: web ? 'a gRPC-Web request: it goes upstream as gRPC (application/grpc), and the response comes back as gRPC-Web' : 'not a gRPC-Web request (content-type): it goes on unchanged' });
        break;
      }
      case 'stateful_session':
        override = sessionStep(f, sel, path, headers, steps);
        break;
      case 'router':
        // With no route, the route steps already say why the router answers 404 (NR).
        if (sel !== undefined) {
          steps.push({
            step: 'http-filter',
            resource: f.name,
            decision: sel.kind === 'route' ? 'forwards' : 'answers',
            detail: sel.kind === 'route' ? 'the router forwards the request with the route action below' : sel.kind === 'redirect' ? 'the route is a redirect: the router answers it' : 'the route is a direct response: the router answers it',
          });
        }
        return { answered: undefined, notes, ...(override !== undefined ? { override } : {}) };
    }
  }
  return { answered: undefined, notes, ...(override !== undefined ? { override } : {}) };
}
