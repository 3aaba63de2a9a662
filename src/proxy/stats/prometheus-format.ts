// Prometheus text exposition of a stats store, shaped like Envoy's `/stats/prometheus`
// (source/server/admin/prometheus_stats.cc): counters, then gauges, then histograms; within each kind one
// group per tag-extracted name, sorted, each opened by `# TYPE <name> <type>` and closed by a blank line.
// Names are `envoy_` + the extracted name with every character outside [a-zA-Z0-9_] replaced by `_`;
// labeled families (Istio's istio_requests_total ...) keep their own name, as Envoy does for custom
// stat namespaces. Tag-less samples print `{}` as Envoy does. Histograms print `_bucket{...,le="..."}` for
// every bound plus `+Inf`, then `_sum` and `_count`.
// Admin path only: it allocates freely; the hot path never calls it.

import type { Histogram } from './histogram.js';
import type { Counter, Gauge } from './metric.js';
import type { StatsStore } from './stats-store.js';
import type { Tag } from './tag-extractor.js';

export interface PrometheusOptions {
  /** Only stats written at least once (`?usedonly`). */
  readonly usedOnly?: boolean;
  /** Only stats whose full Envoy name matches (`?filter=`). */
  readonly filter?: RegExp;
}

/**
 * Envoy's custom stat namespace for metrics Wasm plugins define (`wasmcustom.<name>` in /stats): Prometheus
 * shows them under the plugin's own name, without the namespace and without `envoy_` (Envoy's
 * Stats::CustomStatNamespaces, source/server/admin/prometheus_stats.cc).
 */
export const WASM_CUSTOM_PREFIX = 'wasmcustom.';

/** Envoy's sanitizeName: every character outside [a-zA-Z0-9_] becomes `_`. */
export function sanitizePrometheusName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** Escapes a label value per the exposition format (backslash, double quote, newline). */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function formatTags(tags: readonly Tag[]): string {
  let out = '';
  for (let i = 0; i < tags.length; i++) {
    const t = tags[i] as Tag;
    if (i > 0) out += ',';
    out += `${sanitizePrometheusName(t.name)}="${escapeLabelValue(t.value)}"`;
  }
  return out;
}

/** Envoy prints bucket bounds and sums in fixed-point where it can ({:.32g}); JS's shortest form matches it for ordinary values. */
function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

type Metric = Counter | Gauge | Histogram;

interface Sample<M extends Metric> {
  readonly metric: M;
  readonly labels: string;
}

function group<M extends Metric>(
  store: StatsStore,
  metrics: Iterable<M>,
  options: PrometheusOptions,
): Map<string, Sample<M>[]> {
  const groups = new Map<string, Sample<M>[]>();
  for (const metric of metrics) {
    if (options.usedOnly === true && !metric.used) continue;
    if (options.filter !== undefined) {
      options.filter.lastIndex = 0;
      if (!options.filter.test(metric.name)) continue;
    }
    const tagged = store.tagsOf(metric);
    const promName =
      metric.family !== undefined
        ? metric.family.familyName
        : tagged.extractedName.startsWith(WASM_CUSTOM_PREFIX)
          ? sanitizePrometheusName(tagged.extractedName.slice(WASM_CUSTOM_PREFIX.length))
          : `envoy_${sanitizePrometheusName(tagged.extractedName)}`;
    const list = groups.get(promName) ?? [];
    list.push({ metric, labels: formatTags(tagged.tags) });
    groups.set(promName, list);
  }
  return groups;
}

function sortedEntries<T>(groups: Map<string, T[]>): [string, T[]][] {
  return [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function byLabels<M extends Metric>(a: Sample<M>, b: Sample<M>): number {
  return a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0;
}

function renderScalars(out: string[], groups: Map<string, Sample<Counter | Gauge>[]>, type: string): void {
  for (const [name, samples] of sortedEntries(groups)) {
    out.push(`# TYPE ${name} ${type}\n`);
    for (const s of samples.sort(byLabels)) out.push(`${name}{${s.labels}} ${formatNumber(s.metric.value)}\n`);
    out.push('\n');
  }
}

function renderHistograms(out: string[], groups: Map<string, Sample<Histogram>[]>): void {
  for (const [name, samples] of sortedEntries(groups)) {
    out.push(`# TYPE ${name} histogram\n`);
    for (const { metric: h, labels } of samples.sort(byLabels)) {
      const bucketLabels = labels === '' ? '' : `${labels},`;
      const cumulative = h.cumulativeBucketCounts();
      for (let i = 0; i < h.bounds.length; i++) {
        out.push(`${name}_bucket{${bucketLabels}le="${formatNumber(h.bounds[i] ?? 0)}"} ${cumulative[i] ?? 0}\n`);
      }
      out.push(`${name}_bucket{${bucketLabels}le="+Inf"} ${h.count}\n`);
      out.push(`${name}_sum{${labels}} ${formatNumber(h.sum)}\n`);
      out.push(`${name}_count{${labels}} ${h.count}\n`);
    }
    out.push('\n');
  }
}

/** The `/stats/prometheus` body. */
export function renderPrometheus(store: StatsStore, options: PrometheusOptions = {}): string {
  store.refresh();
  const out: string[] = [];
  renderScalars(out, group(store, store.counters(), options), 'counter');
  renderScalars(out, group(store, store.gauges(), options), 'gauge');
  renderHistograms(out, group(store, store.histograms(), options));
  return out.join('');
}
