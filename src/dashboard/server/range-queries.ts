// Rates at evenly spaced times, for the charts of the service and workload pages: Prometheus' range
// query (query_range) of `rate(x[r])`, evaluated at every step of the window. The rate at a time t is
// the rule of queries.ts over the samples in [t - r, t]: their increase (a drop counts as a counter
// reset) divided by the time between the first and the last; fewer than two samples, no rate.
// A series' samples are read once for all the points (a running increase and two cursors), not once
// per point. Bucket rates become quantiles per point with histogram_quantile.

import { histogramQuantile } from './histogram-quantile.js';
import type { Series } from './series-store.js';

/** Points of a chart: at most this many per window. */
export const MAX_CHART_POINTS = 60;

export interface ChartTimes {
  /** Evaluation times (ms since the epoch), oldest first, `stepMs` apart, the last at or before `now`. */
  readonly times: readonly number[];
  readonly stepMs: number;
  /** The `r` of each point's rate(x[r]): at least three scrapes, so a point always spans two samples. */
  readonly rateIntervalMs: number;
}

/**
 * The times to evaluate a window at: a step of whole seconds, no finer than the scrape interval, giving
 * at most MAX_CHART_POINTS points; aligned to the step so the points stay put between refreshes.
 */
export function chartTimes(windowMs: number, scrapeIntervalMs: number, now: number): ChartTimes {
  const stepMs = Math.max(scrapeIntervalMs, Math.ceil(windowMs / MAX_CHART_POINTS / 1000) * 1000);
  const rateIntervalMs = Math.max(2 * stepMs, 3 * scrapeIntervalMs);
  const last = Math.floor(now / stepMs) * stepMs;
  const n = Math.max(2, Math.floor(windowMs / stepMs) + 1);
  const times: number[] = [];
  for (let i = n - 1; i >= 0; i--) times.push(last - i * stepMs);
  return { times, stepMs, rateIntervalMs };
}

/** rate(series[rateIntervalMs]) at each of `times` (increasing), per second; NaN where it has none. */
export function seriesRateRange(s: Series, times: readonly number[], rateIntervalMs: number): Float64Array {
  const out = new Float64Array(times.length).fill(NaN);
  const first = times[0];
  const last = times[times.length - 1];
  if (first === undefined || last === undefined) return out;
  // The samples the points can see, with the increase up to each one.
  const ts: number[] = [];
  const inc: number[] = [];
  let prev = NaN;
  s.samples.forEachIn(first - rateIntervalMs, last, (t, v) => {
    const before = inc[inc.length - 1];
    inc.push(before === undefined ? 0 : before + (v >= prev ? v - prev : v));
    ts.push(t);
    prev = v;
  });
  let lo = 0;
  let hi = -1;
  times.forEach((t, i) => {
    while (lo < ts.length && (ts[lo] ?? Infinity) < t - rateIntervalMs) lo++;
    while (hi + 1 < ts.length && (ts[hi + 1] ?? Infinity) <= t) hi++;
    if (hi > lo) out[i] = ((inc[hi] ?? 0) - (inc[lo] ?? 0)) / (((ts[hi] ?? 0) - (ts[lo] ?? 0)) / 1000);
  });
  return out;
}

/** A running sum of rates over the points (sum by () of rate), null where no series had one. */
export class RateSum {
  readonly sum: Float64Array;
  /** 1 where some series had a rate. */
  readonly seen: Uint8Array;

  constructor(points: number) {
    this.sum = new Float64Array(points);
    this.seen = new Uint8Array(points);
  }

  add(rates: Float64Array): void {
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i] ?? NaN;
      if (Number.isNaN(r)) continue;
      this.sum[i] = (this.sum[i] ?? 0) + r;
      this.seen[i] = 1;
    }
  }

  values(): (number | null)[] {
    return Array.from(this.sum, (v, i) => (this.seen[i] === 1 ? v : null));
  }
}

/** Histogram bucket rates summed by upper bound at every point, for quantiles per point. */
export class BucketRates {
  readonly #byLe = new Map<number, RateSum>();

  constructor(readonly points: number) {}

  /** Adds one `_bucket` series' rates; a series without a numeric `le` is skipped. */
  add(le: string | undefined, rates: Float64Array): void {
    const bound = le === '+Inf' ? Infinity : Number(le);
    if (le === undefined || le === '' || Number.isNaN(bound)) return;
    let sum = this.#byLe.get(bound);
    if (sum === undefined) this.#byLe.set(bound, (sum = new RateSum(this.points)));
    sum.add(rates);
  }

  /** histogram_quantile(q) at every point; null where there were no observations. */
  quantile(q: number): (number | null)[] {
    const out: (number | null)[] = [];
    for (let i = 0; i < this.points; i++) {
      const buckets = [...this.#byLe].filter(([, s]) => s.seen[i] === 1).map(([le, s]) => ({ le, count: s.sum[i] ?? 0 }));
      const v = histogramQuantile(q, buckets);
      out.push(Number.isFinite(v) ? v : null);
    }
    return out;
  }
}
