// Istio's standard metrics, as its stats filter records them (istio/proxy source/extensions/filters/http/
// istio_stats; labels and meanings: istio.io docs/reference/config/metrics): per HTTP stream
// istio_requests_total, istio_request_duration_milliseconds, istio_request_bytes and istio_response_bytes;
// per TCP connection istio_tcp_connections_opened_total / _closed_total and istio_tcp_sent_bytes_total /
// _received_bytes_total (bytes reported every tcp_reporting_duration while the connection lasts). The reporter is `destination` on inbound listeners (the server's proxy) and `source`
// on outbound listeners and gateways; this side's labels come from its own node, the other side's from the
// peer metadata the exchange discovered (`unknown` when there was none). Principals are the SPIFFE URI SANs
// of the mTLS certificates; the destination service is the cluster's `istio.services` metadata, else (when
// host header fallback is on) the request's host. connection_security_policy is `mutual_tls` or `none` when
// the destination reports, `unknown` when the source does.
// Families are built once per filter config (tags removed, added or overridden by Telemetry), so a request
// does one label lookup per metric; expressions are evaluated only for metrics that have them.

import type { StatsStore } from '../stats/stats-store.js';
import type { LabeledFamily } from '../stats/labeled-family.js';
import { responseFlagsToString } from '../http/response-flags.js';
import type { StatsFilterConfig, TagExpression } from './stats-config.js';
import { encodePeerMetadata, workloadFromNode, type WorkloadMetadata } from './workload-metadata.js';

export type Reporter = 'source' | 'destination' | 'waypoint';

/** This proxy's identity for telemetry, computed once at start. */
export interface OwnWorkload {
  readonly nodeId: string;
  readonly metadata: WorkloadMetadata;
  /** Its x-envoy-peer-metadata value. */
  readonly header: string;
}

export function ownWorkload(nodeId: string, metadata: Readonly<Record<string, unknown>> | undefined): OwnWorkload {
  const m = workloadFromNode(nodeId, metadata);
  return { nodeId, metadata: m, header: encodePeerMetadata(m) };
}

/** An `istio.stats` filter on one listener: its config and which side reports. */
export interface IstioStatsFilter {
  readonly config: StatsFilterConfig;
  readonly reporter: Reporter;
}

/** What one finished HTTP stream or TCP connection tells the stats filter. */
export interface TelemetryFacts {
  readonly downstreamPeer: WorkloadMetadata | undefined;
  readonly upstreamPeer: WorkloadMetadata | undefined;
  /** URI SAN of the client's certificate on the downstream connection ('' without mTLS). */
  readonly downstreamPeerPrincipal: string;
  /** URI SAN of this proxy's certificate on the downstream connection. */
  readonly downstreamLocalPrincipal: string;
  readonly upstreamPeerPrincipal: string;
  readonly upstreamLocalPrincipal: string;
  readonly service: { readonly host: string; readonly name: string; readonly namespace: string } | undefined;
  /** The request's host without port, for the host header fallback ('' for TCP). */
  readonly authority: string;
  readonly flags: number;
  /** CEL attributes for Telemetry tag expressions (built only when an expression needs them). */
  attributes(): Record<string, unknown>;
}

export interface HttpFacts extends TelemetryFacts {
  readonly protocol: 'http' | 'grpc';
  readonly responseCode: number;
  readonly grpcStatus: string;
  readonly durationMs: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export interface TcpFacts extends TelemetryFacts {
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

const PEER_TAGS = [
  'reporter',
  'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace', 'source_principal',
  'source_app', 'source_version', 'source_cluster',
  'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version',
  'destination_service', 'destination_canonical_service', 'destination_canonical_revision', 'destination_service_name',
  'destination_service_namespace', 'destination_cluster',
] as const;

/** Istio's default tags, in its order. */
export const HTTP_TAGS: readonly string[] = [...PEER_TAGS, 'request_protocol', 'response_code', 'grpc_response_status', 'response_flags', 'connection_security_policy'];
export const TCP_TAGS: readonly string[] = [...PEER_TAGS, 'request_protocol', 'response_flags', 'connection_security_policy'];

/** Envoy's default histogram buckets, which Istio's metrics use. */
const BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

const UNKNOWN = 'unknown';
const or = (v: string): string => (v === '' ? UNKNOWN : v);

/** One metric as configured: its family and how to turn default tag values into its label values. */
interface MetricPlan<F> {
  readonly family: F;
  /** For each label: the index into the default tag values, or an expression. */
  readonly sources: readonly (number | TagExpression)[];
  readonly hasExpressions: boolean;
  /** The labels are the default tags, unchanged: their values are used as they are. */
  readonly identity: boolean;
}

type Counter = LabeledFamily<'counter'>;
type Histogram = LabeledFamily<'histogram'>;
type HistogramMetric = ReturnType<Histogram['labels']>;

interface HttpPlans {
  readonly requests: MetricPlan<Counter> | undefined;
  readonly duration: MetricPlan<Histogram> | undefined;
  readonly requestBytes: MetricPlan<Histogram> | undefined;
  readonly responseBytes: MetricPlan<Histogram> | undefined;
}

interface TcpPlans {
  readonly opened: MetricPlan<Counter> | undefined;
  readonly closed: MetricPlan<Counter> | undefined;
  readonly sent: MetricPlan<Counter> | undefined;
  readonly received: MetricPlan<Counter> | undefined;
}

function labelValues<F>(p: MetricPlan<F>, defaults: string[], facts: TelemetryFacts): string[] {
  if (p.identity) return defaults;
  const attrs = p.hasExpressions ? facts.attributes() : undefined;
  return p.sources.map((s) => {
    if (typeof s === 'number') return defaults[s] ?? '';
    try {
      const v = s(attrs ?? {});
      return v === undefined || v === null ? UNKNOWN : typeof v === 'string' ? v : String(v);
    } catch {
      return UNKNOWN;
    }
  });
}

export class IstioMetrics {
  readonly #http = new WeakMap<StatsFilterConfig, HttpPlans>();
  readonly #tcp = new WeakMap<StatsFilterConfig, TcpPlans>();
  readonly #bundles = new WeakMap<object, readonly [HistogramMetric, HistogramMetric, HistogramMetric]>();
  /** Per open TCP connection: reported already, and the bytes reported so far. */
  readonly #tcpState = new WeakMap<object, { opened: boolean; sent: number; received: number }>();
  /** The tag values of the request or connection being recorded (see #peerTags). */
  readonly #httpTags: string[] = HTTP_TAGS.map(() => '');
  readonly #tcpTags: string[] = TCP_TAGS.map(() => '');

  constructor(
    private readonly stats: StatsStore,
    readonly own: OwnWorkload | undefined,
  ) {}

  #plan(kind: 'counter' | 'histogram', name: string, tags: readonly string[], config: StatsFilterConfig): MetricPlan<Counter | Histogram> | undefined {
    const o = config.overrides.get(name);
    if (o?.drop === true) return undefined;
    const labels: string[] = [];
    const sources: (number | TagExpression)[] = [];
    tags.forEach((t, i) => {
      if (o?.tagsToRemove.has(t)) return;
      const expr = o?.dimensions.find(([d]) => d === t)?.[1];
      labels.push(t);
      sources.push(expr ?? i);
    });
    for (const [t, expr] of o?.dimensions ?? []) {
      if (tags.includes(t)) continue;
      labels.push(t);
      sources.push(expr);
    }
    const prom = `istio_${name}`;
    const family = kind === 'counter' ? this.stats.labeledCounter(prom, labels) : this.stats.labeledHistogram(prom, labels, BUCKETS);
    return { family, sources, hasExpressions: sources.some((s) => typeof s !== 'number'), identity: sources.length === tags.length && sources.every((s, i) => s === i) };
  }

  #httpPlans(c: StatsFilterConfig): HttpPlans {
    let p = this.#http.get(c);
    if (p === undefined) {
      p = {
        requests: this.#plan('counter', 'requests_total', HTTP_TAGS, c) as MetricPlan<Counter> | undefined,
        duration: this.#plan('histogram', 'request_duration_milliseconds', HTTP_TAGS, c) as MetricPlan<Histogram> | undefined,
        requestBytes: this.#plan('histogram', 'request_bytes', HTTP_TAGS, c) as MetricPlan<Histogram> | undefined,
        responseBytes: this.#plan('histogram', 'response_bytes', HTTP_TAGS, c) as MetricPlan<Histogram> | undefined,
      };
      this.#http.set(c, p);
    }
    return p;
  }

  #tcpPlans(c: StatsFilterConfig): TcpPlans {
    let p = this.#tcp.get(c);
    if (p === undefined) {
      p = {
        opened: this.#plan('counter', 'tcp_connections_opened_total', TCP_TAGS, c) as MetricPlan<Counter> | undefined,
        closed: this.#plan('counter', 'tcp_connections_closed_total', TCP_TAGS, c) as MetricPlan<Counter> | undefined,
        sent: this.#plan('counter', 'tcp_sent_bytes_total', TCP_TAGS, c) as MetricPlan<Counter> | undefined,
        received: this.#plan('counter', 'tcp_received_bytes_total', TCP_TAGS, c) as MetricPlan<Counter> | undefined,
      };
      this.#tcp.set(c, p);
    }
    return p;
  }

  /**
   * The default tag values shared by HTTP and TCP (PEER_TAGS order), written into `out` from index 0; the
   * caller adds its own after them. One array per kind is reused (label lookups copy what they keep), so a
   * request allocates no tag array.
   */
  #peerTags(f: IstioStatsFilter, facts: TelemetryFacts, out: string[]): void {
    const own = this.own?.metadata;
    const server = f.reporter !== 'source';
    const src = server ? facts.downstreamPeer : own;
    const dst = server ? own : facts.upstreamPeer;
    const srcPrincipal = server ? facts.downstreamPeerPrincipal : facts.upstreamLocalPrincipal;
    const dstPrincipal = server ? facts.downstreamLocalPrincipal : facts.upstreamPeerPrincipal;
    const svc = facts.service;
    const fallback = f.config.disableHostHeaderFallback ? '' : facts.authority;
    const serviceHost = svc?.host ?? fallback;
    out[0] = f.reporter;
    out[1] = or(src?.workloadName ?? '');
    out[2] = or(src?.canonicalName ?? '');
    out[3] = or(src?.canonicalRevision ?? '');
    out[4] = or(src?.namespace ?? '');
    out[5] = or(srcPrincipal);
    out[6] = or(src?.appName ?? '');
    out[7] = or(src?.appVersion ?? '');
    out[8] = or(src?.clusterId ?? '');
    out[9] = or(dst?.workloadName ?? '');
    out[10] = or(dst?.namespace ?? '');
    out[11] = or(dstPrincipal);
    out[12] = or(dst?.appName ?? '');
    out[13] = or(dst?.appVersion ?? '');
    out[14] = or(serviceHost);
    out[15] = or(dst?.canonicalName ?? '');
    out[16] = or(dst?.canonicalRevision ?? '');
    out[17] = or(svc?.name ?? serviceHost);
    out[18] = or(svc?.namespace ?? '');
    out[19] = or(dst?.clusterId ?? '');
  }

  #security(f: IstioStatsFilter, facts: TelemetryFacts): string {
    if (f.reporter === 'source') return UNKNOWN;
    return facts.downstreamPeerPrincipal !== '' ? 'mutual_tls' : 'none';
  }

  recordHttp(f: IstioStatsFilter, facts: HttpFacts): void {
    const p = this.#httpPlans(f.config);
    const tags = this.#httpTags;
    this.#peerTags(f, facts, tags);
    tags[PEER_TAGS.length] = facts.protocol;
    tags[PEER_TAGS.length + 1] = String(facts.responseCode);
    tags[PEER_TAGS.length + 2] = facts.grpcStatus;
    tags[PEER_TAGS.length + 3] = responseFlagsToString(facts.flags);
    tags[PEER_TAGS.length + 4] = this.#security(f, facts);
    const { requests, duration, requestBytes, responseBytes } = p;
    if (requests?.identity === true && duration?.identity === true && requestBytes?.identity === true && responseBytes?.identity === true) {
      // No Telemetry overrides (the common case): one label lookup finds the request counter, and the
      // histograms of the same label values hang off it.
      const c = requests.family.labelsOf(tags);
      let b = this.#bundles.get(c);
      if (b === undefined) {
        b = [duration.family.labelsOf(tags), requestBytes.family.labelsOf(tags), responseBytes.family.labelsOf(tags)];
        this.#bundles.set(c, b);
      }
      c.inc();
      b[0].record(facts.durationMs);
      b[1].record(facts.requestBytes);
      b[2].record(facts.responseBytes);
      return;
    }
    if (p.requests !== undefined) p.requests.family.labelsOf(labelValues(p.requests, tags, facts)).inc();
    if (p.duration !== undefined) p.duration.family.labelsOf(labelValues(p.duration, tags, facts)).record(facts.durationMs);
    if (p.requestBytes !== undefined) p.requestBytes.family.labelsOf(labelValues(p.requestBytes, tags, facts)).record(facts.requestBytes);
    if (p.responseBytes !== undefined) p.responseBytes.family.labelsOf(labelValues(p.responseBytes, tags, facts)).record(facts.responseBytes);
  }

  /**
   * A TCP connection, as Istio's filter reports it: opened once the upstream is connected, its bytes every
   * reporting interval and at the end (only what is new since the last report), closed at the end. A
   * connection that never reached an upstream is counted opened and closed when it ends.
   */
  recordTcp(f: IstioStatsFilter, facts: TcpFacts, event: 'open' | 'progress' | 'close', connection: object): void {
    const p = this.#tcpPlans(f.config);
    let st = this.#tcpState.get(connection);
    if (st === undefined) {
      st = { opened: false, sent: 0, received: 0 };
      this.#tcpState.set(connection, st);
    }
    const tags = this.#tcpTags;
    this.#peerTags(f, facts, tags);
    tags[PEER_TAGS.length] = 'tcp';
    tags[PEER_TAGS.length + 1] = responseFlagsToString(facts.flags);
    tags[PEER_TAGS.length + 2] = this.#security(f, facts);
    if (!st.opened) {
      st.opened = true;
      if (p.opened !== undefined) p.opened.family.labelsOf(labelValues(p.opened, tags, facts)).inc();
    }
    const sent = facts.bytesSent - st.sent;
    const received = facts.bytesReceived - st.received;
    st.sent = facts.bytesSent;
    st.received = facts.bytesReceived;
    if (sent > 0 && p.sent !== undefined) p.sent.family.labelsOf(labelValues(p.sent, tags, facts)).add(sent);
    if (received > 0 && p.received !== undefined) p.received.family.labelsOf(labelValues(p.received, tags, facts)).add(received);
    if (event === 'close') {
      this.#tcpState.delete(connection);
      if (p.closed !== undefined) p.closed.family.labelsOf(labelValues(p.closed, tags, facts)).inc();
    }
  }

}
