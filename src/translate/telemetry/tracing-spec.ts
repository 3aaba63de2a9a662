// Which Telemetry `tracing` entries apply to a proxy and what they add up to for its client side (outbound
// listeners, gateways) and its server side (inbound listeners), as Istio's Telemetries.Tracing does
// (pilot/pkg/model/telemetry.go). Entries come in precedence order, later ones winning field by field:
// the root namespace's namespace-wide Telemetry, the proxy's namespace's namespace-wide one, then those
// selecting the workload (see effective-metrics.ts for the attachment rules, shared with metrics).
//  - no entry and no meshConfig.defaultProviders.tracing: undefined (no tracing at all);
//  - the provider starts as the first default provider, and an entry naming providers replaces it with its
//    first (only one provider per mode is supported, as in Istio); names are matched case-insensitively;
//  - disableSpanReporting, customTags (replaced whole, not merged), randomSamplingPercentage,
//    useRequestIdForTraceSampling, enableIstioTags and disableContextPropagation apply when set;
//  - a mode with no provider found is disabled.
// Pure.

import type { CustomTag, Tracing } from '../../api/telemetry/telemetry.js';
import type { ExtensionProvider, MeshConfig } from '../../model/mesh-config.js';
import { shouldAttachPolicy } from '../policy-attachment.js';
import type { TelemetryLookup, TelemetryWorkload } from './effective-metrics.js';

/** Istio's TracingSpec: one side's merged tracing settings. */
export interface TracingSpec {
  readonly provider: ExtensionProvider | undefined;
  readonly disabled: boolean;
  /** undefined: Istio's fallback (PILOT_TRACE_SAMPLING, 1 %). */
  readonly randomSamplingPercentage: number | undefined;
  readonly customTags: Readonly<Record<string, CustomTag>> | undefined;
  readonly useRequestIdForTraceSampling: boolean;
  readonly enableIstioTags: boolean;
  readonly disableContextPropagation: boolean;
}

/** Istio's TracingConfig. */
export interface TracingConfig {
  readonly client: TracingSpec;
  readonly server: TracingSpec;
}

function namespaceWide(t: { readonly spec: { readonly selector?: { readonly matchLabels?: Record<string, string> | undefined } | undefined; readonly targetRef?: unknown; readonly targetRefs?: readonly unknown[] | undefined } }): boolean {
  const labels = t.spec.selector?.matchLabels ?? {};
  return Object.keys(labels).length === 0 && (t.spec.targetRefs ?? []).length === 0 && t.spec.targetRef === undefined;
}

/** applicableTelemetries (tracing part): the `tracing` entries that apply to the workload, later ones winning. */
export function applicableTracing(lookup: TelemetryLookup, rootNamespace: string, w: TelemetryWorkload): Tracing[] {
  const out: Tracing[] = [];
  if (rootNamespace !== '') {
    const root = lookup(rootNamespace).find(namespaceWide);
    if (root !== undefined) out.push(...(root.spec.tracing ?? []));
  }
  if (w.namespace !== rootNamespace) {
    const ns = lookup(w.namespace).find(namespaceWide);
    if (ns !== undefined) out.push(...(ns.spec.tracing ?? []));
  }
  for (const t of lookup(w.namespace)) {
    if (namespaceWide(t)) continue;
    if (shouldAttachPolicy(t, { namespace: w.namespace, labels: w.labels })) out.push(...(t.spec.tracing ?? []));
  }
  return out;
}

/** fetchProvider: the extension provider of that name, case-insensitively. */
function fetchProvider(mesh: MeshConfig, name: string): ExtensionProvider | undefined {
  const lower = name.toLowerCase();
  return (mesh.extensionProviders ?? []).find((p) => p.name.toLowerCase() === lower);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Telemetries.Tracing: the merged client and server specs, or undefined when tracing is not configured. */
export function mergeTracing(tracing: readonly Tracing[], mesh: MeshConfig): TracingConfig | undefined {
  const defaults = mesh.defaultProviders?.tracing ?? [];
  if (tracing.length === 0 && defaults.length === 0) return undefined;
  const fresh = (): Mutable<TracingSpec> => ({
    provider: defaults[0] !== undefined ? fetchProvider(mesh, defaults[0]) : undefined,
    disabled: false,
    randomSamplingPercentage: undefined,
    customTags: undefined,
    useRequestIdForTraceSampling: true,
    enableIstioTags: true,
    disableContextPropagation: false,
  });
  const client = fresh();
  const server = fresh();
  for (const m of tracing) {
    const mode = m.match?.mode;
    const specs = mode === 'CLIENT' ? [client] : mode === 'SERVER' ? [server] : [client, server];
    const first = (m.providers ?? []).map((p) => p.name ?? '').find((n) => n !== '');
    for (const s of specs) {
      if (first !== undefined) s.provider = fetchProvider(mesh, first);
      if (m.disableSpanReporting !== undefined) s.disabled = m.disableSpanReporting;
      if (m.customTags !== undefined) s.customTags = m.customTags;
      if (m.randomSamplingPercentage !== undefined) s.randomSamplingPercentage = m.randomSamplingPercentage;
      if (m.useRequestIdForTraceSampling !== undefined) s.useRequestIdForTraceSampling = m.useRequestIdForTraceSampling;
      if (m.enableIstioTags !== undefined) s.enableIstioTags = m.enableIstioTags;
      if (m.disableContextPropagation !== undefined) s.disableContextPropagation = m.disableContextPropagation;
    }
  }
  if (client.provider === undefined) client.disabled = true;
  if (server.provider === undefined) server.disabled = true;
  return { client, server };
}

/** The effective tracing config of a workload (undefined: no tracing configured). */
export function effectiveTracing(lookup: TelemetryLookup, mesh: MeshConfig, w: TelemetryWorkload): TracingConfig | undefined {
  return mergeTracing(applicableTracing(lookup, mesh.rootNamespace, w), mesh);
}
