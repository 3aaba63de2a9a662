// The traffic of one service or workload over a window, as Kiali's metrics pages chart it: inbound
// requests from the reports of the proxies that received them (reporter="destination"), outbound ones
// from the reports of the proxies that sent them (reporter="source"). Per direction: requests/s, the
// error rate (request-errors.ts) and the p50/p95/p99 of istio_request_duration_milliseconds at every
// chart time (range-queries.ts), and the peers (who called, or which services were called) with their
// rates over the whole window. Which series belong to the target is the caller's TrafficSelector.
// Kiali: business/metrics.go, business/labels_builder.go (inbound/outbound and their reporters).

import type { DirectionTraffic, MeshObjectRef, TrafficPeer, TrafficView } from '../shared/api-types.js';
import { histogramQuantile } from './histogram-quantile.js';
import { labelMatcher } from './label-matchers.js';
import { seriesRate } from './queries.js';
import { BucketRates, chartTimes, RateSum, seriesRateRange } from './range-queries.js';
import { isRequestError } from './request-errors.js';
import type { SeriesStore } from './series-store.js';
import { destinationNodes, sourceNode, type GraphNode } from './service-graph.js';

type Labels = Readonly<Record<string, string>>;

/** Which series are the target's: `inbound` is asked about reporter="destination" series, `outbound` about reporter="source" ones. */
export interface TrafficSelector {
  readonly inbound: (labels: Labels) => boolean;
  readonly outbound: (labels: Labels) => boolean;
}

/** A service: requests to it (destination_service_*), and the requests its workloads send. */
export function serviceTraffic(namespace: string, name: string, workloads: readonly MeshObjectRef[]): TrafficSelector {
  const own = new Set(workloads.filter((w) => w.namespace === namespace).map((w) => w.name));
  return {
    inbound: (l) => l['destination_service_namespace'] === namespace && l['destination_service_name'] === name,
    outbound: (l) => l['source_workload_namespace'] === namespace && own.has(l['source_workload'] ?? ''),
  };
}

/** A workload: requests its proxies received, and those they sent. */
export function workloadTraffic(namespace: string, name: string): TrafficSelector {
  return {
    inbound: (l) => l['destination_workload_namespace'] === namespace && l['destination_workload'] === name,
    outbound: (l) => l['source_workload_namespace'] === namespace && l['source_workload'] === name,
  };
}

export interface TrafficOptions {
  readonly windowMs: number;
  readonly scrapeIntervalMs: number;
  readonly now: number;
}

const REQUESTS = 'istio_requests_total';
const DURATION_BUCKETS = 'istio_request_duration_milliseconds_bucket';
const UNKNOWN: GraphNode = { id: 'unknown', kind: 'unknown', namespace: '', name: 'unknown' };

interface PeerAcc {
  readonly node: GraphNode;
  rps: number;
  errors: number;
  readonly buckets: Map<number, number>;
}

function direction(store: SeriesStore, reporter: 'source' | 'destination', accept: (l: Labels) => boolean, peerOf: (l: Labels) => GraphNode, o: TrafficOptions, times: readonly number[], rateIntervalMs: number): DirectionTraffic {
  const matchers = [labelMatcher('reporter', '=', reporter)];
  const total = new RateSum(times.length);
  const errors = new RateSum(times.length);
  const peers = new Map<string, PeerAcc>();
  const peerFor = (l: Labels): PeerAcc => {
    const node = peerOf(l);
    let p = peers.get(node.id);
    if (p === undefined) peers.set(node.id, (p = { node, rps: 0, errors: 0, buckets: new Map() }));
    return p;
  };
  for (const s of store.select(REQUESTS, matchers)) {
    if (!accept(s.labels)) continue;
    const rates = seriesRateRange(s, times, rateIntervalMs);
    const error = isRequestError(s.labels);
    total.add(rates);
    if (error) errors.add(rates);
    const rate = seriesRate(s, o.windowMs, o.now);
    if (rate === undefined || rate <= 0) continue;
    const p = peerFor(s.labels);
    p.rps += rate;
    if (error) p.errors += rate;
  }
  const buckets = new BucketRates(times.length);
  for (const s of store.select(DURATION_BUCKETS, matchers)) {
    if (!accept(s.labels)) continue;
    buckets.add(s.labels['le'], seriesRateRange(s, times, rateIntervalMs));
    const rate = seriesRate(s, o.windowMs, o.now);
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    const p = peers.get(peerOf(s.labels).id);
    if (rate !== undefined && p !== undefined && !Number.isNaN(le)) p.buckets.set(le, (p.buckets.get(le) ?? 0) + rate);
  }

  const requests = total.values();
  const failed = errors.values();
  const errorRate = requests.map((r, i) => (r === null || r <= 0 ? null : (failed[i] ?? 0) / r));
  const peerList: TrafficPeer[] = [...peers.values()]
    .map((p) => {
      const p95 = histogramQuantile(0.95, [...p.buckets].map(([le, count]) => ({ le, count })));
      return { id: p.node.id, kind: p.node.kind, namespace: p.node.namespace, name: p.node.name, requestsPerSecond: p.rps, errorRate: p.rps > 0 ? p.errors / p.rps : null, p95LatencyMs: Number.isFinite(p95) ? p95 : null };
    })
    .sort((a, b) => b.requestsPerSecond - a.requestsPerSecond || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    charts: { requestsPerSecond: requests, errorRate, latencyMs: { p50: buckets.quantile(0.5), p95: buckets.quantile(0.95), p99: buckets.quantile(0.99) } },
    peers: peerList,
  };
}

/** Where inbound requests came from: the calling workload, or `unknown` for a caller without a proxy. */
function inboundPeer(l: Labels): GraphNode {
  return sourceNode(l);
}

/** Where outbound requests went: the service called (the workload when no service is named). */
function outboundPeer(l: Labels): GraphNode {
  const d = destinationNodes(l);
  return d.service ?? d.workload ?? UNKNOWN;
}

export function buildTrafficView(store: SeriesStore, selector: TrafficSelector, o: TrafficOptions): TrafficView {
  const { times, stepMs, rateIntervalMs } = chartTimes(o.windowMs, o.scrapeIntervalMs, o.now);
  return {
    timestamp: new Date(o.now).toISOString(),
    windowMs: o.windowMs,
    times,
    stepMs,
    rateIntervalMs,
    inbound: direction(store, 'destination', selector.inbound, inboundPeer, o, times, rateIntervalMs),
    outbound: direction(store, 'source', selector.outbound, outboundPeer, o, times, rateIntervalMs),
  };
}
