// The service graph (Kiali's versioned-app graph with service nodes) from the stored Istio metrics:
// nodes are workloads and services; a request from workload A to service S served by workload B makes
// the edges A -> S and S -> B. Per edge: requests/s, errors/s and error rate, responses by code and
// response flags, p95 latency, the mTLS share, and bytes/s for TCP.
// It follows Kiali's choices (kiali/kiali graph/telemetry/istio):
//  - traffic is read from reporter="source" series (they include requests that failed before reaching
//    the destination, such as UH "no healthy upstream"), and from reporter="destination" series only
//    for requests whose source has no proxy (source_workload="unknown") (istio.go buildNamespaceTrafficMap);
//  - an HTTP request is an error when its response code is 4xx or 5xx; a gRPC one when its
//    grpc_response_status is not 0 (graph/protocol.go IsHTTPErr, IsGRPCErr). Response flags do not make
//    an error by themselves; they are reported per code in `responses`;
//  - latency is histogram_quantile(0.95) over the 2xx requests of istio_request_duration_milliseconds,
//    same reporters (appender/response_time.go); bucket rates are summed before the quantile;
//  - mTLS comes from reporter="destination" series, which carry connection_security_policy: the share
//    of the edge's rate with mutual_tls (appender/security_policy.go); `mtls` is true when any is.
//  - TCP edges are istio_tcp_sent_bytes_total per second (same reporters as HTTP).
// Edges with no traffic in the window are left out, as Kiali does without its idle-edge option.

import { labelMatcher } from './label-matchers.js';
import { histogramQuantile } from './histogram-quantile.js';
import { seriesRates } from './queries.js';
import type { SeriesStore } from './series-store.js';

export type NodeKind = 'workload' | 'service' | 'unknown';
export type EdgeProtocol = 'http' | 'grpc' | 'tcp';

export interface GraphNode {
  /** `workload:<ns>/<name>`, `service:<ns>/<name>` (`service:<host>` for a host without a service name) or `unknown`. */
  readonly id: string;
  readonly kind: NodeKind;
  readonly namespace: string;
  readonly name: string;
  readonly app?: string;
  readonly version?: string;
  /** Services: destination_service (the FQDN). */
  readonly host?: string;
}

export interface GraphEdge {
  /** `<source id> -> <target id> (<protocol>)` */
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly protocol: EdgeProtocol;
  /** HTTP and gRPC: requests per second (0 for TCP). */
  readonly requestsPerSecond: number;
  readonly errorsPerSecond: number;
  /** errors / requests, 0..1; null for TCP. */
  readonly errorRate: number | null;
  /** Requests per second by response code, then by response flags (`-` = none). */
  readonly responses: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** p95 of the 2xx requests' duration in ms; null without observations. */
  readonly p95LatencyMs: number | null;
  /** TCP: bytes sent per second. */
  readonly bytesPerSecond?: number;
  /** Percent of the destination-reported traffic over mutual TLS; null when no destination reported it. */
  readonly mtlsPercent: number | null;
  readonly mtls: boolean;
}

export interface ServiceGraph {
  /** ISO time the graph was computed at. */
  readonly timestamp: string;
  readonly windowMs: number;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export interface GraphOptions {
  readonly windowMs: number;
  readonly now: number;
  /** Keep only edges with an end in this namespace. */
  readonly namespace?: string;
}

type Labels = Readonly<Record<string, string>>;

const known = (v: string | undefined): v is string => v !== undefined && v !== '' && v !== 'unknown';

interface Hop {
  readonly source: GraphNode;
  readonly target: GraphNode;
}

/** The node a series' source_* labels name: its workload, or `unknown` for a source without a proxy. */
export function sourceNode(l: Labels): GraphNode {
  const name = l['source_workload'];
  if (!known(name)) return { id: 'unknown', kind: 'unknown', namespace: '', name: 'unknown' };
  const ns = l['source_workload_namespace'] ?? '';
  const app = l['source_canonical_service'] ?? l['source_app'];
  const version = l['source_canonical_revision'] ?? l['source_version'];
  return { id: `workload:${ns}/${name}`, kind: 'workload', namespace: ns, name, ...(known(app) ? { app } : {}), ...(known(version) ? { version } : {}) };
}

/** The service and the workload a series' destination_* labels name, as far as they are known. */
export function destinationNodes(l: Labels): { service?: GraphNode; workload?: GraphNode } {
  const host = l['destination_service'];
  const svcName = l['destination_service_name'];
  const svcNs = l['destination_service_namespace'] ?? '';
  const wl = l['destination_workload'];
  const wlNs = l['destination_workload_namespace'] ?? svcNs;
  const app = l['destination_canonical_service'] ?? l['destination_app'];
  const version = l['destination_canonical_revision'] ?? l['destination_version'];
  const service: GraphNode | undefined = known(svcName)
    ? { id: `service:${svcNs}/${svcName}`, kind: 'service', namespace: svcNs, name: svcName, ...(known(host) ? { host } : {}) }
    : known(host)
      ? { id: `service:${host}`, kind: 'service', namespace: '', name: host, host }
      : undefined;
  const workload: GraphNode | undefined = known(wl)
    ? { id: `workload:${wlNs}/${wl}`, kind: 'workload', namespace: wlNs, name: wl, ...(known(app) ? { app } : {}), ...(known(version) ? { version } : {}) }
    : undefined;
  return { ...(service !== undefined ? { service } : {}), ...(workload !== undefined ? { workload } : {}) };
}

/** The edges one series contributes to: source -> service -> workload, or source -> whichever destination is known. */
function hopsOf(l: Labels): Hop[] {
  const source = sourceNode(l);
  const { service, workload } = destinationNodes(l);
  if (service !== undefined && workload !== undefined) return [{ source, target: service }, { source: service, target: workload }];
  const target = service ?? workload;
  return target === undefined ? [] : [{ source, target }];
}

/** Kiali's reporter choice: source-reported, except destination-reported for sources without a proxy. */
function isTrafficSeries(l: Labels): boolean {
  const sourceKnown = known(l['source_workload']);
  return l['reporter'] === 'source' ? sourceKnown : l['reporter'] === 'destination' && !sourceKnown;
}

function protocolOf(l: Labels): EdgeProtocol {
  return l['request_protocol'] === 'grpc' ? 'grpc' : 'http';
}

function isError(l: Labels, protocol: EdgeProtocol): boolean {
  const grpc = l['grpc_response_status'];
  if (protocol === 'grpc' && grpc !== undefined && grpc !== '') return grpc !== '0';
  const code = l['response_code'] ?? '';
  return code.startsWith('4') || code.startsWith('5');
}

interface EdgeAcc {
  source: string;
  target: string;
  protocol: EdgeProtocol;
  rps: number;
  errors: number;
  bytes: number;
  responses: Map<string, Map<string, number>>;
  buckets: Map<number, number>;
  mtls: number;
  otherSecurity: number;
}

export function buildServiceGraph(store: SeriesStore, o: GraphOptions): ServiceGraph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, EdgeAcc>();
  const edgeFor = (hop: Hop, protocol: EdgeProtocol, create: boolean): EdgeAcc | undefined => {
    const id = `${hop.source.id} -> ${hop.target.id} (${protocol})`;
    let e = edges.get(id);
    if (e === undefined && create) {
      for (const n of [hop.source, hop.target]) if (!nodes.has(n.id)) nodes.set(n.id, n);
      e = { source: hop.source.id, target: hop.target.id, protocol, rps: 0, errors: 0, bytes: 0, responses: new Map(), buckets: new Map(), mtls: 0, otherSecurity: 0 };
      edges.set(id, e);
    }
    return e;
  };
  const { windowMs, now } = o;

  for (const { series, rate } of seriesRates(store, 'istio_requests_total', [], windowMs, now)) {
    if (rate <= 0 || !isTrafficSeries(series.labels)) continue;
    const protocol = protocolOf(series.labels);
    const code = series.labels['response_code'] ?? '-';
    const flags = series.labels['response_flags'] ?? '-';
    const error = isError(series.labels, protocol);
    for (const hop of hopsOf(series.labels)) {
      const e = edgeFor(hop, protocol, true) as EdgeAcc;
      e.rps += rate;
      if (error) e.errors += rate;
      let byFlags = e.responses.get(code);
      if (byFlags === undefined) e.responses.set(code, (byFlags = new Map()));
      byFlags.set(flags, (byFlags.get(flags) ?? 0) + rate);
    }
  }
  for (const { series, rate } of seriesRates(store, 'istio_tcp_sent_bytes_total', [], windowMs, now)) {
    if (rate <= 0 || !isTrafficSeries(series.labels)) continue;
    for (const hop of hopsOf(series.labels)) (edgeFor(hop, 'tcp', true) as EdgeAcc).bytes += rate;
  }
  const ok2xx = [labelMatcher('response_code', '=~', '2..')];
  for (const { series, rate } of seriesRates(store, 'istio_request_duration_milliseconds_bucket', ok2xx, windowMs, now)) {
    if (!isTrafficSeries(series.labels)) continue;
    const le = series.labels['le'] === '+Inf' ? Infinity : Number(series.labels['le']);
    if (Number.isNaN(le)) continue;
    for (const hop of hopsOf(series.labels)) {
      const e = edgeFor(hop, protocolOf(series.labels), false);
      if (e !== undefined) e.buckets.set(le, (e.buckets.get(le) ?? 0) + rate);
    }
  }
  const destinationReported = [labelMatcher('reporter', '=', 'destination')];
  for (const [metric, tcp] of [['istio_requests_total', false], ['istio_tcp_sent_bytes_total', true]] as const) {
    for (const { series, rate } of seriesRates(store, metric, destinationReported, windowMs, now)) {
      if (rate <= 0) continue;
      const mutual = series.labels['connection_security_policy'] === 'mutual_tls';
      for (const hop of hopsOf(series.labels)) {
        const e = edgeFor(hop, tcp ? 'tcp' : protocolOf(series.labels), false);
        if (e === undefined) continue;
        if (mutual) e.mtls += rate;
        else e.otherSecurity += rate;
      }
    }
  }

  const out: GraphEdge[] = [];
  for (const [id, e] of edges) {
    const src = nodes.get(e.source);
    const dst = nodes.get(e.target);
    if (o.namespace !== undefined && src?.namespace !== o.namespace && dst?.namespace !== o.namespace) continue;
    const p95 = histogramQuantile(0.95, [...e.buckets].map(([le, count]) => ({ le, count })));
    const secured = e.mtls + e.otherSecurity;
    const mtlsPercent = secured > 0 ? (e.mtls / secured) * 100 : null;
    const tcp = e.protocol === 'tcp';
    out.push({
      id,
      source: e.source,
      target: e.target,
      protocol: e.protocol,
      requestsPerSecond: e.rps,
      errorsPerSecond: e.errors,
      errorRate: tcp ? null : e.rps > 0 ? e.errors / e.rps : 0,
      responses: Object.fromEntries([...e.responses].sort(([a], [b]) => (a < b ? -1 : 1)).map(([code, f]) => [code, Object.fromEntries([...f].sort(([a], [b]) => (a < b ? -1 : 1)))])),
      p95LatencyMs: Number.isFinite(p95) ? p95 : null,
      ...(tcp ? { bytesPerSecond: e.bytes } : {}),
      mtlsPercent,
      mtls: e.mtls > 0,
    });
  }
  out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const used = new Set(out.flatMap((e) => [e.source, e.target]));
  const nodeList = [...nodes.values()].filter((n) => used.has(n.id)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { timestamp: new Date(now).toISOString(), windowMs, nodes: nodeList, edges: out };
}
