// `explain`'s core: from a sidecar's config (its config dump and /clusters) and one request, the path
// the request takes through that sidecar, in the order the proxy works: listener and filter chain (the
// HTTP proxy's handoff by port), route configuration, virtual host, route, HTTP filters (fault, CORS,
// router), route action, cluster, endpoints; and the verdict: routed to a cluster (and endpoint), or
// answered by the proxy with a status and response flag, naming the step and resource that decided.
// Pure: no I/O, no clock, no randomness (percentages are reported, not rolled).

import type { RouteInput } from '../../proxy/http/route/types.js';
import { normalizeRequestPath } from '../../proxy/http/path-normalization.js';
import type { CompiledHcm } from '../../proxy/runtime/compile-hcm.js';
import type { HttpConnectionManager } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { explainCluster, type ClusterOutcome, type OriginalDstRequest } from './cluster-steps.js';
import { explainHttpFilters, type FilterOutcome } from './http-filter-steps.js';
import { explainOutboundListener, HTTP_PROXY_PORT } from './outbound-listener.js';
import type { ProxyConfig } from './proxy-config.js';
import { explainRouteAction } from './route-action-step.js';
import { explainRoute } from './route-steps.js';
import type { ExplainReport, ExplainRequest, ExplainStep, Verdict, WeightedTarget } from './types.js';

export interface ProxyInfo {
  /** `pod.namespace`. */
  readonly id: string;
  /** The sidecar's capture address. */
  readonly ip: string;
  readonly adminUrl?: string;
}

/** host[:port] with the scheme's default port added (forward.ts, for ORIGINAL_DST). */
function withPort(authority: string, scheme: string): string {
  return /:\d+$/.test(authority) && !authority.endsWith(']') ? authority : `${authority}:${scheme === 'https' ? 443 : 80}`;
}

function portOf(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

function failureVerdict(o: Exclude<ClusterOutcome, { kind: 'ok' }>, notFoundStatus: number): Verdict {
  return o.kind === 'missing'
    ? { outcome: 'rejected', status: notFoundStatus, responseFlag: 'NC', cluster: o.cluster, summary: `cluster ${o.cluster} does not exist in the proxy: ${notFoundStatus} NC` }
    : { outcome: 'rejected', status: 503, responseFlag: 'UH', cluster: o.cluster, summary: `no healthy upstream in cluster ${o.cluster}${o.reason !== undefined ? ` (${o.reason})` : o.hosts === 0 ? ' (it has no endpoints)' : ` (none of its ${o.hosts} endpoints is healthy)`}: 503 UH` };
}

/** Explains each cluster of a forward and decides the verdict for the whole split. */
function forwardVerdict(cfg: ProxyConfig, targets: readonly WeightedTarget[], weighted: boolean, originalDestination: OriginalDstRequest, notFoundStatus: number, filters: FilterOutcome, steps: ExplainStep[], problems: string[]): Verdict {
  const notes = filters.notes;
  const live = targets.filter((t) => !weighted || t.weight > 0);
  const outcomes = live.map((t) => ({ t, o: explainCluster(cfg, t.cluster, originalDestination, steps, problems, filters.override) }));
  const ok = outcomes.filter((x) => x.o.kind === 'ok');
  const failed = outcomes.filter((x) => x.o.kind !== 'ok');
  const noteText = notes.length > 0 ? `; ${notes.join('; ')}` : '';
  if (ok.length === 0) {
    const first = failed[0]?.o;
    const v = first !== undefined && first.kind !== 'ok' ? failureVerdict(first, notFoundStatus) : { outcome: 'rejected' as const, status: 503, responseFlag: 'UH', summary: 'no cluster to send to: 503 UH' };
    return { ...v, summary: `${v.summary}${noteText}`, ...(weighted ? { weightedClusters: targets } : {}) };
  }
  if (!weighted) {
    const o = ok[0]?.o;
    const candidates = o?.kind === 'ok' ? o.candidates : [];
    const endpoint = candidates.length === 1 ? candidates[0] : undefined;
    const cluster = ok[0]?.t.cluster ?? '';
    return {
      outcome: 'routed',
      cluster,
      ...(endpoint !== undefined ? { endpoint } : {}),
      summary: `routed to cluster ${cluster}${endpoint !== undefined ? `, endpoint ${endpoint}` : ` (${candidates.length} endpoints to pick from)`}${o?.kind === 'ok' && o.panic ? ' in panic mode' : ''}${noteText}`,
    };
  }
  const total = live.reduce((s, t) => s + t.weight, 0);
  const failing = failed.map((x) => {
    const v = x.o.kind !== 'ok' ? failureVerdict(x.o, notFoundStatus) : undefined;
    return `${total > 0 ? Math.round((1000 * x.t.weight) / total) / 10 : 0}% of requests get ${v?.status ?? 503} ${v?.responseFlag ?? ''} (${x.t.cluster})`;
  });
  return {
    outcome: 'routed',
    weightedClusters: targets,
    summary: `split over ${live.map((t) => `${t.cluster} (${t.weight})`).join(', ')}${failing.length > 0 ? `; ${failing.join('; ')}` : ''}${noteText}`,
  };
}

/**
 * The connection manager's path normalization (the proxy's own, path-normalization.ts), before routing: a
 * step when it changes the path or answers the request, the verdict when it answers.
 */
function explainPathNormalization(hcm: CompiledHcm, path: string, steps: ExplainStep[]): string | Verdict {
  const n = normalizeRequestPath(path, hcm.pathNormalization);
  const how = [hcm.pathNormalization.normalize ? 'normalize_path' : '', hcm.pathNormalization.mergeSlashes ? 'merge_slashes' : '', hcm.pathNormalization.escapedSlashes !== 'keep' ? `escaped slashes: ${hcm.pathNormalization.escapedSlashes}` : ''].filter((x) => x !== '').join(', ');
  if (n.action === 'reject') {
    steps.push({ step: 'path', resource: hcm.statPrefix, decision: 'rejected', detail: `${path} cannot be normalized (${how})` });
    return { outcome: 'rejected', status: 400, summary: 'the path cannot be normalized: 400 path_normalization_failed' };
  }
  if (n.action === 'redirect') {
    steps.push({ step: 'path', resource: hcm.statPrefix, decision: 'redirected', detail: `${path} has escaped slashes; the client is sent to ${n.path}` });
    return { outcome: 'rejected', status: 307, summary: `escaped slashes in the path: 307 to ${n.path}` };
  }
  if (n.path !== path) steps.push({ step: 'path', resource: hcm.statPrefix, decision: 'normalized', detail: `${path} is routed and forwarded as ${n.path} (${how})` });
  return n.path;
}

function inlineRouteConfig(hcm: HttpConnectionManager | undefined): RouteConfiguration | undefined {
  return hcm?.routeSpecifier.case === 'routeConfig' ? hcm.routeSpecifier.value : undefined;
}

/** The path of `req` through the sidecar described by `cfg`. */
export function explainRequest(cfg: ProxyConfig, proxy: ProxyInfo, req: ExplainRequest): ExplainReport {
  const steps: ExplainStep[] = [];
  const problems: string[] = [...cfg.problems];
  const url = req.url;
  const https = url.protocol === 'https:';
  const authority = url.host;
  const path = `${url.pathname}${url.search}`;
  const report = (verdict: Verdict): ExplainReport => ({
    proxy: proxy.id,
    request: { method: req.method, url: url.toString(), authority, path, headers: { ...req.headers } },
    steps,
    verdict,
    problems,
  });
  steps.push({
    step: 'proxy',
    resource: proxy.id,
    decision: 'inspected',
    detail: `the workload's sidecar: HTTP proxy ${proxy.ip}:${HTTP_PROXY_PORT}${proxy.adminUrl !== undefined ? `, config from ${proxy.adminUrl}/config_dump` : ''} (${cfg.listeners.size} listeners, ${cfg.routes.size} route configurations, ${cfg.clusters.size} clusters${cfg.hostFlags === undefined ? '; endpoint health from EDS only' : ''})`,
  });
  const port = portOf(url);
  const l = explainOutboundListener(cfg, proxy.ip, port, https ? { serverName: url.hostname, alpn: ['http/1.1'] } : undefined, steps, problems);
  if (l.kind === 'rejected') return report(l.verdict);
  if (l.kind === 'tcp') {
    const targets = l.tcp.clusters.map((c) => ({ cluster: c.name, weight: c.weight }));
    const v = forwardVerdict(cfg, targets, targets.length > 1, { headers: {}, destination: `${url.hostname}:${port}` }, 503, { answered: undefined, notes: [] }, steps, problems);
    if (v.outcome === 'rejected') {
      const flag = v.responseFlag ?? 'UH';
      return report({ outcome: 'rejected', responseFlag: flag, ...(v.cluster !== undefined ? { cluster: v.cluster } : {}), summary: `tcp_proxy has nowhere to connect (${flag}${v.cluster !== undefined ? `, cluster ${v.cluster}` : ''}): the tunnel is closed without an HTTP answer` });
    }
    return report({ ...v, summary: `tunnelled (TCP, no HTTP routing) ${v.summary}` });
  }

  const headers: Record<string, string> = { ...req.headers, host: authority };
  if (headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = https ? 'https' : 'http';
  const normalized = explainPathNormalization(l.hcm, path, steps);
  if (typeof normalized !== 'string') return report(normalized);
  const input: RouteInput = { authority, path: normalized, method: req.method, scheme: https ? 'https' : 'http', headers };
  const r = explainRoute(l.hcm, cfg.routes, inlineRouteConfig(l.hcmProto), input, steps, problems);
  const sel = r.selection;
  // Without a route only the listener-level filter config applies (Istio leaves it empty): its steps are
  // shown only when a filter answers before the router's 404.
  const filterSteps: ExplainStep[] = [];
  const filters = explainHttpFilters(l.hcm, l.hcmProto, sel, req.method, normalized, headers, r.istioResource, filterSteps);
  if (sel !== undefined || filters.answered !== undefined) steps.push(...filterSteps);
  if (filters.answered !== undefined) return report(filters.answered);
  if (sel === undefined) return report(r.notFound ?? { outcome: 'rejected', status: 404, responseFlag: 'NR', summary: 'no route: 404 NR' });
  const action = explainRouteAction(sel, r.route, r.label ?? sel.route.name, r.istioResource, normalized, steps);
  if (action.kind === 'answered') return report(action.verdict);
  const notFoundStatus = sel.kind === 'route' ? sel.action.clusterNotFoundStatus : 503;
  const originalDestination = { headers, destination: withPort(authority, input.scheme) };
  return report(forwardVerdict(cfg, action.clusters, action.weighted, originalDestination, notFoundStatus, filters, steps, problems));
}
