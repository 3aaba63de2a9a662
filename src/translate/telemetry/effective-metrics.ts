// Which Telemetry `metrics` apply to a proxy and what they add up to, per provider (Istio's
// Telemetries.applicableTelemetries and telemetryFilters, pilot/pkg/model/telemetry.go). In precedence order:
//  1. the root namespace's namespace-wide Telemetry (no selector labels, no targetRefs; the oldest if several),
//  2. the proxy's namespace's namespace-wide Telemetry (when that is not the root namespace),
//  3. every Telemetry of the proxy's namespace that selects the workload, oldest first (policy-attachment.ts:
//     selector labels for sidecars and Istio gateways, targetRefs naming the Gateway for Gateway API gateways).
// Selector-based Telemetries in the root namespace apply only to workloads of the root namespace, as in Istio.
// Service-attached targetRefs (kind Service / ServiceEntry) apply to waypoints only, which Isthmus does not
// run: such Telemetries never attach here.
// The merged config is kept for the providers that are `prometheus` extension providers (fetchProvider matches
// names case-insensitively), in name order: each becomes one istio.stats filter. Pure.

import type { Metrics, Telemetry } from '../../api/telemetry/telemetry.js';
import type { MeshConfig } from '../../model/mesh-config.js';
import type { Labels } from '../../registry/types.js';
import { shouldAttachPolicy } from '../policy-attachment.js';
import { mergeMetrics, type ModeMetrics, type ProviderMetrics } from './merge-metrics.js';
import type { ListenerClass } from '../listener/http-filters.js';

/** The Telemetries of a namespace, oldest first (MeshSnapshot.telemetries). */
export type TelemetryLookup = (namespace: string) => readonly Telemetry[];

export interface TelemetryWorkload {
  readonly namespace: string;
  readonly labels: Labels;
}

/** One prometheus provider's merged metrics config. */
export interface ProviderMetricsEntry {
  readonly provider: string;
  readonly metrics: ProviderMetrics;
}

function namespaceWide(t: Telemetry): boolean {
  const labels = t.spec.selector?.matchLabels ?? {};
  const refs = t.spec.targetRefs ?? [];
  return Object.keys(labels).length === 0 && refs.length === 0 && t.spec.targetRef === undefined;
}

/** namespaceWideTelemetryConfig: the oldest namespace-wide Telemetry of `namespace`. */
function namespaceWideTelemetry(lookup: TelemetryLookup, namespace: string): Telemetry | undefined {
  return lookup(namespace).find(namespaceWide);
}

/**
 * applicableTelemetries: the Telemetries that apply to the workload, in precedence order (later ones win): the root
 * namespace's namespace-wide one, the workload namespace's namespace-wide one, then those selecting the workload.
 */
export function applicableTelemetries(lookup: TelemetryLookup, rootNamespace: string, w: TelemetryWorkload): Telemetry[] {
  const out: Telemetry[] = [];
  if (rootNamespace !== '') {
    const root = namespaceWideTelemetry(lookup, rootNamespace);
    if (root !== undefined) out.push(root);
  }
  if (w.namespace !== rootNamespace) {
    const ns = namespaceWideTelemetry(lookup, w.namespace);
    if (ns !== undefined) out.push(ns);
  }
  for (const t of lookup(w.namespace)) {
    if (namespaceWide(t)) continue;
    if (shouldAttachPolicy(t, { namespace: w.namespace, labels: w.labels })) out.push(t);
  }
  return out;
}

/** applicableTelemetries (metrics part): the `metrics` entries that apply to the workload, later ones winning. */
export function applicableMetrics(lookup: TelemetryLookup, rootNamespace: string, w: TelemetryWorkload): Metrics[] {
  return applicableTelemetries(lookup, rootNamespace, w).flatMap((t) => t.spec.metrics ?? []);
}

function isPrometheusProvider(mesh: MeshConfig, name: string): boolean {
  const lower = name.toLowerCase();
  return (mesh.prometheusProviders ?? []).some((p) => p.toLowerCase() === lower);
}

/** The merged metrics config of every prometheus provider in scope for the workload, by provider name. */
export function effectiveMetrics(lookup: TelemetryLookup, mesh: MeshConfig, w: TelemetryWorkload): ProviderMetricsEntry[] {
  const merged = mergeMetrics(applicableMetrics(lookup, mesh.rootNamespace, w), mesh.defaultProviders?.metrics ?? []);
  return [...merged]
    .filter(([provider]) => isPrometheusProvider(mesh, provider))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([provider, metrics]) => ({ provider, metrics }));
}

/** MetricsForClass: inbound listeners report as the server, outbound listeners and gateways as the client. */
export function metricsForClass(m: ProviderMetrics, cls: ListenerClass): ModeMetrics {
  return cls === 'sidecar-inbound' ? m.server : m.client;
}
