// The PromQL-like queries the metrics API and the service graph answer from a SeriesStore:
//   seriesRate      rate(x[window]) of one series
//   rateBy          sum by (labels) (rate(metric{matchers}[window]))
//   quantileBy      histogram_quantile(q, sum by (le, labels) (rate(metric_bucket{matchers}[window])))
// A rate uses the samples inside [now - window, now]: the increase from the first to the last,
// counting a drop as a counter reset (the counter restarted at 0, so the new value is all increase,
// as Prometheus' rate does), divided by the time between those two samples. Unlike Prometheus it does
// not extrapolate to the edges of the window; a series with fewer than two samples in it has no rate.

import { histogramQuantile } from './histogram-quantile.js';
import type { LabelMatcher } from './label-matchers.js';
import type { Series, SeriesStore } from './series-store.js';

export interface GroupValue {
  /** The values of the `by` labels ("" for a label a series lacks). */
  readonly labels: Readonly<Record<string, string>>;
  /** Per second for rates; in the metric's unit for quantiles; null for NaN (no data). */
  readonly value: number | null;
}

export interface SeriesRate {
  readonly series: Series;
  /** Per second. */
  readonly rate: number;
}

/** The per-second rate of a cumulative series over [now - windowMs, now]; undefined with fewer than two samples. */
export function seriesRate(s: Series, windowMs: number, now: number): number | undefined {
  let first = NaN;
  let firstT = NaN;
  let prev = NaN;
  let lastT = NaN;
  let increase = 0;
  s.samples.forEachIn(now - windowMs, now, (t, v) => {
    if (Number.isNaN(firstT)) {
      first = v;
      firstT = t;
    } else {
      increase += v >= prev ? v - prev : v;
    }
    prev = v;
    lastT = t;
  });
  if (Number.isNaN(first) || !(lastT > firstT)) return undefined;
  return increase / ((lastT - firstT) / 1000);
}

/** Rates of every selected series that has one. */
export function seriesRates(store: SeriesStore, metric: string, matchers: readonly LabelMatcher[], windowMs: number, now: number): SeriesRate[] {
  const out: SeriesRate[] = [];
  for (const series of store.select(metric, matchers)) {
    const rate = seriesRate(series, windowMs, now);
    if (rate !== undefined) out.push({ series, rate });
  }
  return out;
}

function groupKey(labels: Readonly<Record<string, string>>, by: readonly string[]): string {
  return by.map((b) => labels[b] ?? '').join('\u0000');
}

function pick(labels: Readonly<Record<string, string>>, by: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const b of by) out[b] = labels[b] ?? '';
  return out;
}

function sortGroups(groups: GroupValue[], by: readonly string[]): GroupValue[] {
  return groups.sort((a, b) => {
    const ka = groupKey(a.labels, by);
    const kb = groupKey(b.labels, by);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** sum by (by) (rate(metric{matchers}[window])); one group with no labels when `by` is empty. No series, no groups. */
export function rateBy(store: SeriesStore, metric: string, matchers: readonly LabelMatcher[], windowMs: number, now: number, by: readonly string[] = []): GroupValue[] {
  const sums = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const { series, rate } of seriesRates(store, metric, matchers, windowMs, now)) {
    const k = groupKey(series.labels, by);
    const g = sums.get(k);
    if (g === undefined) sums.set(k, { labels: pick(series.labels, by), value: rate });
    else g.value += rate;
  }
  return sortGroups([...sums.values()], by);
}

/**
 * histogram_quantile(q, sum by (le, by) (rate(<histogram>_bucket{matchers}[window]))). `histogram` is
 * the family name (`istio_request_duration_milliseconds`). A group with no observations has value null.
 */
export function quantileBy(store: SeriesStore, histogram: string, q: number, matchers: readonly LabelMatcher[], windowMs: number, now: number, by: readonly string[] = []): GroupValue[] {
  const groups = new Map<string, { labels: Record<string, string>; buckets: Map<number, number> }>();
  for (const { series, rate } of seriesRates(store, `${histogram}_bucket`, matchers, windowMs, now)) {
    const le = Number(series.labels['le'] === '+Inf' ? Infinity : series.labels['le']);
    if (Number.isNaN(le)) continue;
    const k = groupKey(series.labels, by);
    let g = groups.get(k);
    if (g === undefined) {
      g = { labels: pick(series.labels, by), buckets: new Map() };
      groups.set(k, g);
    }
    g.buckets.set(le, (g.buckets.get(le) ?? 0) + rate);
  }
  return sortGroups(
    [...groups.values()].map((g) => {
      const v = histogramQuantile(q, [...g.buckets].map(([le, count]) => ({ le, count })));
      return { labels: g.labels, value: Number.isFinite(v) ? v : null };
    }),
    by,
  );
}
