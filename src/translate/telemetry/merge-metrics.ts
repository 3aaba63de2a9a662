// The Telemetry API's `metrics` entries that apply to a proxy, merged into one normalized config per provider,
// as Istio's mergeMetrics (pilot/pkg/model/telemetry.go) does. The entries come in precedence order (root
// namespace, then the proxy's namespace, then workload-selected; see effective-metrics.ts) and later ones win:
//  - providers: the last entry naming providers decides which providers are in scope; an entry without
//    providers applies to its parent's (ultimately meshConfig.defaultProviders.metrics). No entry at all means
//    the default providers, with no overrides;
//  - overrides: each selects metrics (one Istio metric, a custom metric name, or ALL_METRICS, which is expanded
//    into every Istio metric) for CLIENT, SERVER or both; `disabled` and tag overrides are applied on top of what
//    earlier overrides set for the same metric and mode (`disabled` only when set, tags one by one);
//  - an override disabling ALL_METRICS disables the provider for that mode (no filter at all), until a later
//    override of any other kind for that provider and mode re-enables it ("root namespace disables all, but
//    then enables them by namespace scoped").
// Pure; the output is sorted (metrics and tags by name), as Istio sorts it.

import type { Metrics, MetricSelector, TelemetryWorkloadMode } from '../../api/telemetry/telemetry.js';
import { ISTIO_METRICS } from '../../api/telemetry/telemetry.js';

/** Istio's tpb.WorkloadMode CLIENT / SERVER, the two sides a metric config is kept for. */
export type MetricsMode = 'CLIENT' | 'SERVER';

/** A tag override after merging: removed, or set to a CEL expression. */
export interface MergedTagOverride {
  readonly name: string;
  readonly remove: boolean;
  /** The CEL expression (UPSERT); '' when removed. */
  readonly value: string;
}

/** Istio's metricsOverride: one metric's merged overrides. `name` is the Istio metric name or the custom one. */
export interface MergedMetricOverride {
  readonly name: string;
  readonly disabled: boolean;
  /** Sorted by name. */
  readonly tags: readonly MergedTagOverride[];
}

/** Istio's metricConfig: one mode's metrics. */
export interface ModeMetrics {
  /** Every metric disabled: no stats filter for this mode. */
  readonly disabled: boolean;
  /** Sorted by metric name. */
  readonly overrides: readonly MergedMetricOverride[];
}

/** Istio's metricsConfig: one provider's merged config. */
export interface ProviderMetrics {
  readonly client: ModeMetrics;
  readonly server: ModeMetrics;
  /** The last reportingInterval set for the provider (a Go duration string, as the Telemetry holds it). */
  readonly reportingInterval?: string;
}

/** Istio's allMetrics: every IstioMetric but ALL_METRICS, sorted by name. */
export const ALL_ISTIO_METRICS: readonly string[] = Object.freeze(ISTIO_METRICS.filter((m) => m !== 'ALL_METRICS').sort());

/** getModes: CLIENT_AND_SERVER (or unset) applies to both. */
function modesOf(mode: TelemetryWorkloadMode | undefined): readonly MetricsMode[] {
  if (mode === 'CLIENT' || mode === 'SERVER') return [mode];
  return ['CLIENT', 'SERVER'];
}

/** isAllMetrics: no match, or a match on ALL_METRICS (a custom metric never is). */
function isAllMetrics(match: MetricSelector | undefined): boolean {
  if (match?.customMetric !== undefined) return false;
  if (match?.metric !== undefined) return match.metric === 'ALL_METRICS';
  return true;
}

/** getMatches: the metric names an override selects. */
function matchedMetrics(match: MetricSelector | undefined): readonly string[] {
  if (match?.customMetric !== undefined) return [match.customMetric];
  if (match?.metric !== undefined && match.metric !== 'ALL_METRICS') return [match.metric];
  return ALL_ISTIO_METRICS;
}

function providerNames(m: Metrics): string[] {
  return (m.providers ?? []).map((p) => p.name ?? '');
}

interface Acc {
  disabled: boolean | undefined;
  readonly tags: Map<string, { readonly remove: boolean; readonly value: string }>;
}

type ModeMap = Map<MetricsMode, Map<string, Acc>>;

function key(provider: string, mode: MetricsMode): string {
  return `${provider}/${mode}`;
}

const byName = <T extends { readonly name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function modeMetrics(metrics: ReadonlyMap<string, Acc> | undefined, disabled: boolean): ModeMetrics {
  if (disabled || metrics === undefined) return { disabled, overrides: [] };
  const overrides: MergedMetricOverride[] = [];
  for (const [name, acc] of metrics) {
    const tags = [...acc.tags].map(([tag, t]) => ({ name: tag, remove: t.remove, value: t.value })).sort(byName);
    overrides.push({ name, disabled: acc.disabled ?? false, tags });
  }
  return { disabled: false, overrides: overrides.sort(byName) };
}

/**
 * mergeMetrics: `metrics` in precedence order (later wins) and meshConfig.defaultProviders.metrics, to one
 * config per provider name (names as the Telemetry spells them; the caller looks the providers up).
 */
export function mergeMetrics(metrics: readonly Metrics[], defaultProviders: readonly string[]): Map<string, ProviderMetrics> {
  const providers = new Map<string, ModeMap>();
  if (metrics.length === 0) {
    // The default providers, with no overrides: presence alone gets the filter built.
    for (const p of defaultProviders) providers.set(p, new Map());
  }
  let inScopeNames: readonly string[] = defaultProviders;
  for (const m of metrics) {
    const names = providerNames(m);
    if (names.length > 0) inScopeNames = names;
  }
  const inScope = new Set(inScopeNames);
  let parent: readonly string[] = defaultProviders;
  const disabledAll = new Set<string>();
  const intervals = new Map<string, string>();
  for (const m of metrics) {
    let names: readonly string[] = providerNames(m);
    if (names.length === 0) names = parent;
    parent = names;
    for (const provider of names) {
      // A provider a narrower Telemetry dropped is ignored.
      if (!inScope.has(provider)) continue;
      if (m.reportingInterval !== undefined) intervals.set(provider, m.reportingInterval);
      let modes = providers.get(provider);
      if (modes === undefined) {
        modes = new Map([
          ['CLIENT', new Map()],
          ['SERVER', new Map()],
        ]);
        providers.set(provider, modes);
      }
      for (const o of m.overrides ?? []) {
        if (isAllMetrics(o.match) && o.disabled === true) {
          for (const mode of modesOf(o.match?.mode)) disabledAll.add(key(provider, mode));
          continue;
        }
        const selected = matchedMetrics(o.match);
        for (const mode of modesOf(o.match?.mode)) {
          disabledAll.delete(key(provider, mode));
          let byMetric = modes.get(mode);
          if (byMetric === undefined) {
            byMetric = new Map();
            modes.set(mode, byMetric);
          }
          for (const name of selected) {
            let acc = byMetric.get(name);
            if (acc === undefined) {
              acc = { disabled: undefined, tags: new Map() };
              byMetric.set(name, acc);
            }
            if (o.disabled !== undefined) acc.disabled = o.disabled;
            for (const [tag, t] of Object.entries(o.tagOverrides ?? {})) {
              const remove = t.operation === 'REMOVE';
              acc.tags.set(tag, { remove, value: remove ? '' : (t.value ?? '') });
            }
          }
        }
      }
    }
  }
  const out = new Map<string, ProviderMetrics>();
  for (const [provider, modes] of providers) {
    const interval = intervals.get(provider);
    out.set(provider, {
      client: modeMetrics(modes.get('CLIENT'), modes.has('CLIENT') && disabledAll.has(key(provider, 'CLIENT'))),
      server: modeMetrics(modes.get('SERVER'), modes.has('SERVER') && disabledAll.has(key(provider, 'SERVER'))),
      ...(interval !== undefined ? { reportingInterval: interval } : {}),
    });
  }
  return out;
}
