// How the dashboard writes numbers and names: requests/s, error rates, latencies, node labels and the
// edge labels of the graph. Pure functions (unit-tested in Node).

import type { DashboardNode, GraphEdge, XdsTypeStatus } from '../shared/api-types.js';

export function formatRps(v: number): string {
  if (v === 0) return '0';
  if (v < 0.01) return '<0.01';
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
}

/** A 0..1 ratio as a percentage. */
export function formatPercent(ratio: number): string {
  const p = ratio * 100;
  if (p === 0) return '0%';
  if (p < 0.1) return '<0.1%';
  return p < 10 ? `${p.toFixed(1)}%` : `${p.toFixed(0)}%`;
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)}ms` : ms < 1000 ? `${ms.toFixed(0)}ms` : `${(ms / 1000).toFixed(2)}s`;
}

export function formatBytes(perSecond: number): string {
  if (perSecond < 1024) return `${perSecond.toFixed(0)} B/s`;
  if (perSecond < 1024 * 1024) return `${(perSecond / 1024).toFixed(1)} kB/s`;
  return `${(perSecond / 1024 / 1024).toFixed(1)} MB/s`;
}

/**
 * A workload's version, as the graph shows it: none for `latest`, the canonical revision Istio gives a
 * workload without a version label (a gateway, say).
 */
export function versionOf(n: DashboardNode): string | undefined {
  return n.version === 'latest' ? undefined : n.version;
}

/** Kiali's versioned-app label: `reviews v2` for a versioned workload, else its app or name. */
export function nodeLabel(n: DashboardNode): string {
  const version = versionOf(n);
  if (n.kind === 'workload') return n.app !== undefined && version !== undefined ? `${n.app} ${version}` : (n.app ?? n.name);
  if (n.kind === 'service') return n.host !== undefined && n.namespace === '' ? n.host : n.name;
  return 'unknown';
}

/**
 * The text on an edge: requests/s (and the share of the source service's traffic when it splits over
 * several workloads, as a VirtualService's weights do), the error rate when not 0, the p95 latency.
 */
export function edgeLabel(e: GraphEdge, share?: number): string {
  return edgeLabelLines(e, share).join(' · ');
}

/**
 * The same text as the graph draws it, in at most two lines (as Kiali puts the error rate under the
 * request rate): the rate and share, then the error rate and p95 latency when there are any.
 */
export function edgeLabelLines(e: GraphEdge, share?: number): string[] {
  if (e.protocol === 'tcp') return [formatBytes(e.bytesPerSecond ?? 0)];
  const second: string[] = [];
  if (e.errorRate !== null && e.errorRate > 0) second.push(`${formatPercent(e.errorRate)} err`);
  if (e.p95LatencyMs !== null) second.push(`p95 ${formatMs(e.p95LatencyMs)}`);
  const first = `${formatRps(e.requestsPerSecond)} rps${share !== undefined ? ` (${formatPercent(share)})` : ''}`;
  return second.length === 0 ? [first] : [first, second.join(' · ')];
}

/** Each edge's share of its source's outgoing requests, for sources that are services splitting traffic. */
export function edgeShares(nodes: readonly DashboardNode[], edges: readonly GraphEdge[]): Map<string, number> {
  const services = new Set(nodes.filter((n) => n.kind === 'service').map((n) => n.id));
  const out = new Map<string, GraphEdge[]>();
  for (const e of edges) {
    if (!services.has(e.source) || e.protocol === 'tcp') continue;
    let list = out.get(e.source);
    if (list === undefined) out.set(e.source, (list = []));
    list.push(e);
  }
  const shares = new Map<string, number>();
  for (const list of out.values()) {
    if (list.length < 2) continue;
    const total = list.reduce((sum, e) => sum + e.requestsPerSecond, 0);
    if (total > 0) for (const e of list) shares.set(e.id, e.requestsPerSecond / total);
  }
  return shares;
}

/** Edge colour class: degraded over 0.1% errors, failure over 20%, idle without requests. */
export function edgeHealth(e: GraphEdge): 'healthy' | 'degraded' | 'failure' | 'idle' {
  if (e.protocol !== 'tcp' && e.requestsPerSecond === 0) return 'idle';
  if (e.errorRate === null || e.errorRate <= 0.001) return 'healthy';
  return e.errorRate > 0.2 ? 'failure' : 'degraded';
}

const SYNC_ORDER: readonly XdsTypeStatus[] = ['ERROR', 'STALE', 'NOT SENT', 'SYNCED'];

/** A proxy's sync state in one word, as proxy-status reads at a glance: SYNCED when every type it watches is, else the worst. */
export function syncSummary(status: Readonly<Record<string, XdsTypeStatus>>): XdsTypeStatus {
  const watched = new Set(Object.values(status));
  watched.delete('IGNORED');
  if (watched.size === 0) return 'IGNORED';
  return SYNC_ORDER.find((s) => watched.has(s)) ?? 'SYNCED';
}

/** Labels as `k=v` pairs, sorted by key. */
export function labelPairs(labels: Readonly<Record<string, string>>): string[] {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k] ?? ''}`);
}
