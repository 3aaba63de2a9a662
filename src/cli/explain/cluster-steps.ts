// The cluster a request is sent to and the endpoints it may reach. The cluster is compiled by the
// proxy's compileCluster / compileLbConfig (type, load balancing, panic threshold, circuit breakers,
// TLS) and named after the DestinationRule and subset Istio records in its metadata; its endpoints
// come from the config dump's EDS assignment (or the cluster's own load_assignment), with the live
// health flags of admin /clusters, and go through the proxy's buildHealthView: priority loads and panic
// mode decide which hosts can be picked. None can be: 503 `no healthy upstream`, flag UH. A request whose
// persistent session names a host (the stateful session filter) goes to it first when the cluster accepts it.
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/panic_threshold

import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { compileCluster, type CompiledCluster, type TransportSettings } from '../../proxy/runtime/compile-cluster.js';
import { compileLbConfig } from '../../proxy/upstream/lb/lb-config.js';
import { originalDestinationOf } from '../../proxy/upstream/original-dst.js';
import type { HeaderMap } from '../../proxy/http/headers.js';
import { buildHealthView } from '../../proxy/upstream/lb/health-view.js';
import { hostSetFromAssignment, type Host } from '../../proxy/upstream/host.js';
import { durationMs } from '../../proxy/runtime/duration.js';
import { describeIstioConfig, istioConfigOf, istioServicesOf, istioSubsetOf } from './istio-resource.js';
import type { ProxyConfig } from './proxy-config.js';
import type { ExplainStep } from './types.js';
import { hostHealthStatus, overrideHostStatuses, type OverrideHost } from '../../proxy/upstream/override-host.js';

export type ClusterOutcome =
  | { readonly kind: 'missing'; readonly cluster: string }
  | { readonly kind: 'no-healthy'; readonly cluster: string; readonly hosts: number; readonly reason?: string }
  | { readonly kind: 'ok'; readonly cluster: string; readonly candidates: readonly string[]; readonly panic: boolean };

const KIND_TEXT: Record<CompiledCluster['kind'], string> = {
  static: 'STATIC',
  eds: 'EDS',
  'strict-dns': 'STRICT_DNS',
  'logical-dns': 'LOGICAL_DNS',
  'original-dst': 'ORIGINAL_DST',
};

function transportText(t: TransportSettings): string {
  if (t.kind === 'raw') return 'plaintext';
  const sans = t.subjectAltNames.map((m) => (m.matchPattern.case === 'exact' || m.matchPattern.case === 'prefix' ? m.matchPattern.value : m.matchPattern.case ?? '')).filter((s) => s !== '');
  return `TLS${t.sni !== '' ? ` (SNI ${t.sni})` : ''}${sans.length > 0 ? ` verifying ${sans.join(', ')}` : ''}${t.sdsCertificate !== undefined ? ` with certificate ${t.sdsCertificate}` : ''}`;
}

const UINT32_MAX = 4294967295;

function limit(n: number): string {
  return n >= UINT32_MAX ? 'unlimited' : String(n);
}

function msText(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

function clusterText(c: Cluster, cc: CompiledCluster): string {
  const lb = compileLbConfig(c).config;
  const parts = [`type ${KIND_TEXT[cc.kind]}`, `load balancing ${cc.kind === 'original-dst' ? 'CLUSTER_PROVIDED (the original destination)' : lb.policy}`, `connect timeout ${msText(cc.connectTimeoutMs)}`, `upstream ${cc.protocol === 'http2' ? 'HTTP/2' : cc.protocol === 'http1' ? 'HTTP/1.1' : "the downstream's protocol"}`];
  const t = cc.thresholds;
  parts.push(`circuit breakers: connections ${limit(t.maxConnections)}, pending requests ${limit(t.maxPendingRequests)}, requests ${limit(t.maxRequests)}, retries ${limit(t.maxRetries)}`);
  const od = c.outlierDetection;
  if (od !== undefined) {
    parts.push(
      `outlier detection: eject after ${od.consecutive5xx ?? 5} consecutive 5xx${od.consecutiveGatewayFailure !== undefined ? ` or ${od.consecutiveGatewayFailure} gateway errors` : ''}, every ${msText(durationMs(od.interval, 10_000))}, for ${msText(durationMs(od.baseEjectionTime, 30_000))} (longer each time), at most ${od.maxEjectionPercent ?? 10}% of hosts`,
    );
  }
  if (cc.kind !== 'original-dst') parts.push(`panic threshold ${lb.panicThreshold}%${lb.panicThreshold === 0 ? ' (panic mode off)' : ''}`);
  if (cc.transportMatches.length > 0) parts.push(`transport per endpoint: ${cc.transportMatches.map((m) => `${m.name || Object.entries(m.match).map(([k, v]) => `${k}=${v}`).join(',') || 'default'}: ${transportText(m.transport)}`).join('; ')}; otherwise ${transportText(cc.transport)}`);
  else parts.push(transportText(cc.transport));
  const services = istioServicesOf(c.metadata);
  if (services.length > 0) parts.push(`service ${services.join(', ')}`);
  const subset = istioSubsetOf(c.metadata);
  if (subset !== undefined) parts.push(`subset ${subset}`);
  return parts.join('; ');
}

function hostText(h: Host, flags: string | undefined, candidate: boolean): string {
  const health = flags ?? (h.health === 'HEALTHY' || h.health === 'UNKNOWN' ? 'healthy' : h.health.toLowerCase());
  const where = [h.locality.region, h.locality.zone, h.locality.subZone].filter((s) => s !== '').join('/');
  return `${h.key} ${health}${h.priority > 0 ? ` priority ${h.priority}` : ''}${where !== '' ? ` ${where}` : ''}${h.weight !== 1 ? ` weight ${h.weight}` : ''}${candidate ? '' : ' (not picked)'}`;
}

/**
 * Whether a session's host is taken (override-host.ts): one of the cluster's endpoints, its health status (from
 * EDS and the live /clusters flags) one the cluster's override_host_status accepts.
 */
function sessionHost(c: Cluster, hosts: readonly Host[], live: ReadonlyMap<string, string> | undefined, o: OverrideHost): { host?: Host; status?: string; accepted: string; why: string } {
  const statuses = overrideHostStatuses(c.commonLbConfig);
  const accepted = statuses.size === 0 ? 'empty: sessions are ignored' : [...statuses].join(', ');
  const h = hosts.find((x) => x.key === o.address);
  if (h === undefined) return { accepted, why: "is not one of the cluster's endpoints" };
  const f = live?.get(h.key) ?? '';
  const status = hostHealthStatus(h, { failedActiveHc: f.includes('/failed_active_hc'), degradedActiveHc: f.includes('/degraded_active_hc') }, f.includes('/failed_outlier_check'));
  if (statuses.has(status)) return { host: h, status, accepted, why: '' };
  return { status, accepted, why: `is ${status}, which the cluster's override_host_status (${accepted}) does not accept` };
}

/**
 * The cluster's breakers at their limit right now (admin /stats), and what that does to this request; undefined
 * when none is. Only the proxy's state at the moment it was read: the next request may find room.
 */
function openBreakers(live: ReadonlyMap<string, number> | undefined, cc: CompiledCluster): string | undefined {
  if (live === undefined) return undefined;
  const t = cc.thresholds;
  const active = live.get('upstream_rq_active') ?? 0;
  const pending = live.get('upstream_rq_pending_active') ?? 0;
  const parts: string[] = [];
  if (live.get('rq_open') === 1) parts.push(`requests (${limit(t.maxRequests)}; ${active} in flight): a new request is refused at once, 503 with x-envoy-overloaded (UO)`);
  if (live.get('cx_open') === 1) {
    parts.push(
      live.get('rq_pending_open') === 1
        ? `connections (${limit(t.maxConnections)}) and pending requests (${limit(t.maxPendingRequests)}; ${pending} waiting): a new HTTP/1.1 request finds no free connection and no room to wait, 503 with x-envoy-overloaded (UO)`
        : `connections (${limit(t.maxConnections)}): a new HTTP/1.1 request waits for one to free up (${pending} waiting already)`,
    );
  } else if (live.get('rq_pending_open') === 1) parts.push(`pending requests (${limit(t.maxPendingRequests)}; ${pending} waiting)`);
  if (live.get('rq_retry_open') === 1) parts.push(`retries (${limit(t.maxRetries)}): a failed attempt is not retried (upstream_rq_retry_overflow)`);
  return parts.length === 0 ? undefined : `at their limit when the proxy's /stats was read: ${parts.join('; ')}`;
}

/** The request as an ORIGINAL_DST cluster reads it: its headers, and the destination it was sent to (authority and scheme's port). */
export interface OriginalDstRequest {
  readonly headers: HeaderMap;
  readonly destination: string;
}

/** Explains the cluster `name` and its endpoints. */
export function explainCluster(cfg: ProxyConfig, name: string, request: OriginalDstRequest, steps: ExplainStep[], problems: string[], override?: OverrideHost): ClusterOutcome {
  const c = cfg.clusters.get(name);
  if (c === undefined) {
    steps.push({ step: 'cluster', resource: name, decision: 'missing', detail: `the proxy has no cluster ${name} (not sent by CDS, or removed): the router answers 503 (NC)` });
    return { kind: 'missing', cluster: name };
  }
  const compiled = compileCluster(c);
  if (!compiled.ok) {
    problems.push(`cluster ${name}: ${compiled.problems.join('; ')}`);
    steps.push({ step: 'cluster', resource: name, decision: 'unreadable', detail: compiled.problems.join('; ') });
    return { kind: 'missing', cluster: name };
  }
  const cc = compiled.value;
  const istio = istioConfigOf(c.metadata);
  steps.push({
    step: 'cluster',
    resource: name,
    ...(istio !== undefined ? { istioResource: istio } : {}),
    decision: 'found',
    detail: `${clusterText(c, cc)}${istio !== undefined ? ` (shaped by ${describeIstioConfig(istio)})` : ''}`,
  });

  const open = openBreakers(cfg.breakers?.get(c.altStatName || name), cc);
  if (open !== undefined) steps.push({ step: 'circuit-breakers', resource: name, decision: 'open now', detail: open });

  if (cc.kind === 'original-dst') {
    const od = cc.originalDst;
    const r = originalDestinationOf(od, request.headers, request.destination);
    const port = od?.portOverride;
    const dest = port === undefined ? r.destination : `${r.destination.slice(0, r.destination.lastIndexOf(':'))}:${port}`;
    const how =
      od?.headerName !== undefined && !r.invalidHeader && r.destination !== request.destination
        ? `the address in the request's ${od.headerName} header`
        : `the request's own destination${r.invalidHeader ? ` (its ${od?.headerName ?? ''} header is not an address and port: original_dst_host_invalid)` : ''}`;
    steps.push({ step: 'endpoints', resource: name, decision: 'original destination', detail: `an ORIGINAL_DST cluster connects to ${how}: ${dest}${port !== undefined ? ` (upstream_port_override ${port})` : ''}` });
    return { kind: 'ok', cluster: name, candidates: [dest], panic: false };
  }
  const cla = cc.kind === 'eds' ? cfg.endpoints.get(cc.edsName) : c.loadAssignment;
  if (cla === undefined) {
    steps.push({ step: 'endpoints', resource: cc.edsName, decision: 'none', detail: cc.kind === 'eds' ? `EDS has sent no endpoints for ${cc.edsName}: no host to pick, 503 no healthy upstream (UH)` : `the cluster lists no endpoints: 503 no healthy upstream (UH)` });
    return { kind: 'no-healthy', cluster: name, hosts: 0 };
  }
  const set = hostSetFromAssignment(cla);
  const live = cfg.hostFlags?.get(name);
  const ejected = (h: Host): boolean => {
    const f = live?.get(h.key);
    return f !== undefined && (f.includes('/failed_outlier_check') || f.includes('/failed_active_hc'));
  };
  const lb = compileLbConfig(c).config;
  const view = buildHealthView(set, ejected, lb.panicThreshold);
  const candidates = new Set<Host>();
  let panic = false;
  view.levels.forEach((level, i) => {
    const inPanic = view.loads.panic[i] === true;
    if ((view.loads.healthy[i] ?? 0) > 0) {
      if (inPanic) {
        panic = true;
        if (!lb.failTrafficOnPanic) for (const h of level.all) candidates.add(h);
      } else for (const h of level.healthy) candidates.add(h);
    }
    if ((view.loads.degraded[i] ?? 0) > 0) for (const h of level.degraded) candidates.add(h);
  });
  const hosts = set.hosts.map((h) => hostText(h, live?.get(h.key), candidates.has(h)));
  if (override !== undefined) {
    const s = sessionHost(c, set.hosts, live, override);
    if (s.host !== undefined) {
      steps.push({ step: 'endpoints', resource: cc.edsName, decision: 'session host', detail: `the session's host ${s.host.key} (${s.status}) is taken before the balancer (override_host_status ${s.accepted}): ${hosts.join(', ')}` });
      return { kind: 'ok', cluster: name, candidates: [s.host.key], panic: false };
    }
    if (override.strict) {
      const reason = `the session's host ${override.address} ${s.why}, and the session is strict`;
      steps.push({ step: 'endpoints', resource: cc.edsName, decision: 'none', detail: `${reason}: 503 no healthy upstream (UH); endpoints: ${hosts.join(', ')}` });
      return { kind: 'no-healthy', cluster: name, hosts: set.hosts.length, reason };
    }
    steps.push({ step: 'endpoints', resource: cc.edsName, decision: 'session host unavailable', detail: `the session's host ${override.address} ${s.why}: the balancer picks, and the response names the host that answers` });
  }
  const healthy = set.hosts.filter((h) => !ejected(h) && (h.health === 'HEALTHY' || h.health === 'UNKNOWN')).length;
  if (candidates.size === 0) {
    const why =
      set.hosts.length === 0
        ? `${cc.kind === 'eds' ? `EDS (${cc.edsName})` : 'the cluster'} lists no endpoints`
        : `none of its ${set.hosts.length} endpoint(s) is healthy${lb.panicThreshold === 0 ? ' and panic mode is off (panic threshold 0%)' : lb.failTrafficOnPanic ? ' and fail_traffic_on_panic is set' : ''}`;
    steps.push({ step: 'endpoints', resource: cc.edsName, decision: 'none healthy', detail: `${why}: 503 no healthy upstream (UH)${hosts.length > 0 ? `; endpoints: ${hosts.join(', ')}` : ''}` });
    return { kind: 'no-healthy', cluster: name, hosts: set.hosts.length };
  }
  const pickText = panic
    ? `only ${healthy} of ${set.hosts.length} endpoint(s) healthy, below the ${lb.panicThreshold}% panic threshold: Envoy balances over all of them, healthy or not`
    : `${lb.policy} over ${candidates.size} of ${set.hosts.length} endpoint(s)`;
  steps.push({ step: 'endpoints', resource: cc.edsName, decision: panic ? 'panic' : `${candidates.size} healthy`, detail: `${pickText}: ${hosts.join(', ')}` });
  return { kind: 'ok', cluster: name, candidates: [...candidates].map((h) => h.key), panic };
}
