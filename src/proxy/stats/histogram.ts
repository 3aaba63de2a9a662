// Histograms (Envoy `ParentHistogram`): values in milliseconds (or bytes) recorded one at a time.
// Two views are kept from each record():
//  - fixed bucket counts over Envoy's default bucket bounds, which the Prometheus exposition prints as
//    `_bucket{le=...}` with an exact count, `_sum` and `_count`;
//  - a log-linear histogram with two significant digits per bin (the layout of libcircllhist, which Envoy
//    uses), from which `/stats` quantiles P0..P100 are interpolated the way Envoy's are, so a single value
//    1 shows as `P0(nan,1) P25(nan,1.025) ... P100(nan,1.1)`.
// Envoy reports quantiles per flush interval and cumulatively; merge() closes an interval (Envoy does it at
// every stats flush). record() does a few arithmetic operations and two typed-array writes: no allocation
// except the one-time lazy bin array.
// Differences from Envoy: Prometheus bucket counts and `_sum` are exact here, where Envoy approximates them
// from circllhist bins; values outside [1e-3, 1e10) are clamped into the edge bins.

import type { FamilyMembership } from './metric.js';
import type { TaggedName } from './tag-extractor.js';

/**
 * Envoy's default histogram bucket bounds
 * (envoy/config/metrics/v3/stats.proto HistogramBucketSettings; source/common/stats/histogram_impl.h).
 */
export const DEFAULT_HISTOGRAM_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
]);

/** The quantiles Envoy's admin prints, as fractions (HistogramStatisticsImpl::supportedQuantiles). */
export const SUPPORTED_QUANTILES: readonly number[] = Object.freeze([
  0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1,
]);

// Log-linear bins: mantissa 1.0..9.9 (90 bins) per decade, decades 10^E_MIN .. 10^E_MAX.
const E_MIN = -3;
const E_MAX = 9;
const BINS_PER_DECADE = 90;
const DECADES = E_MAX - E_MIN + 1;
const N_BINS = DECADES * BINS_PER_DECADE;
const POW10: readonly number[] = Array.from({ length: 20 }, (_, i) => 10 ** i);

function pow10(e: number): number {
  // Exact for integral exponents in range: positive powers are exact doubles; negative ones are divided.
  return e >= 0 ? (POW10[e] ?? 10 ** e) : 1 / (POW10[-e] ?? 10 ** -e);
}

/** Bin index of a positive value. */
function binOf(v: number): number {
  let e = Math.floor(Math.log10(v));
  if (e < E_MIN) return 0;
  if (e > E_MAX) return N_BINS - 1;
  // Scale to [1, 10) with an exact power of ten, so 0.3 lands in bin 3.0 rather than 2.9.
  const scaled = e >= 0 ? v / (POW10[e] ?? 1) : v * (POW10[-e] ?? 1);
  let m = Math.floor(scaled * 10);
  if (m >= 100) {
    m = 10;
    e++;
  } else if (m < 10) {
    m = 99;
    e--;
  }
  if (e < E_MIN) return 0;
  if (e > E_MAX) return N_BINS - 1;
  return (e - E_MIN) * BINS_PER_DECADE + (m - 10);
}

function binLower(bin: number): number {
  const e = Math.floor(bin / BINS_PER_DECADE) + E_MIN;
  const m = (bin % BINS_PER_DECADE) + 10;
  return m * pow10(e - 1);
}

function binWidth(bin: number): number {
  const e = Math.floor(bin / BINS_PER_DECADE) + E_MIN;
  return pow10(e - 1);
}

/**
 * Quantiles by linear interpolation inside the bin holding each rank (hist_approx_quantile in
 * libcircllhist). `zeros` counts values <= 0, which sit in a bin of width 0 at 0. NaN when empty.
 */
function quantilesOf(zeros: number, bins: ArrayLike<number> | undefined, qs: readonly number[]): number[] {
  let total = zeros;
  if (bins !== undefined) for (let i = 0; i < bins.length; i++) total += bins[i] ?? 0;
  const out = new Array<number>(qs.length).fill(Number.NaN);
  if (total === 0) return out;
  let qi = 0;
  let cum = 0;
  const take = (lower: number, width: number, count: number): void => {
    while (qi < qs.length) {
      const target = (qs[qi] ?? 0) * total;
      if (target > cum + count) break;
      out[qi] = lower + (width * (target - cum)) / count;
      qi++;
    }
    cum += count;
  };
  if (zeros > 0) take(0, 0, zeros);
  if (bins !== undefined) {
    for (let i = 0; i < bins.length && qi < qs.length; i++) {
      const c = bins[i] ?? 0;
      if (c > 0) take(binLower(i), binWidth(i), c);
    }
  }
  return out;
}

export class Histogram {
  used = false;
  count = 0;
  sum = 0;
  tagged: TaggedName | undefined = undefined;
  /** Per-bucket (not cumulative) counts; index bounds.length is the +Inf overflow. */
  readonly bucketCounts: Float64Array;
  private zeros = 0;
  private bins: Uint32Array | undefined = undefined;
  private lastZeros = 0;
  private lastBins: Uint32Array | undefined = undefined;
  private interval: readonly number[] = SUPPORTED_QUANTILES.map(() => Number.NaN);

  constructor(
    readonly name: string,
    /** Upper bounds, ascending (Envoy's `le` values). */
    readonly bounds: readonly number[] = DEFAULT_HISTOGRAM_BUCKETS,
    readonly family: FamilyMembership | undefined = undefined,
  ) {
    this.bucketCounts = new Float64Array(bounds.length + 1);
  }

  record(value: number): void {
    // A NaN would poison the sum forever; Envoy's histograms take unsigned integers, so it cannot happen there.
    if (Number.isNaN(value)) return;
    this.used = true;
    this.count++;
    this.sum += value;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.bucketCounts[i] = (this.bucketCounts[i] ?? 0) + 1;
    if (value > 0) {
      const bins = (this.bins ??= new Uint32Array(N_BINS));
      const b = binOf(value);
      bins[b] = (bins[b] ?? 0) + 1;
    } else {
      this.zeros++;
    }
  }

  /** Counts of values <= each bound, in bound order (Prometheus `le` buckets without +Inf). */
  cumulativeBucketCounts(): number[] {
    const out = new Array<number>(this.bounds.length);
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.bucketCounts[i] ?? 0;
      out[i] = acc;
    }
    return out;
  }

  /** Quantiles over everything recorded, in SUPPORTED_QUANTILES order (NaN when nothing was recorded). */
  cumulativeQuantiles(): number[] {
    return quantilesOf(this.zeros, this.bins, SUPPORTED_QUANTILES);
  }

  /** Quantiles over the last closed interval (NaN before the first merge or if it was empty). */
  intervalQuantiles(): readonly number[] {
    return this.interval;
  }

  /** Closes the current interval (Envoy merges histograms at every stats flush). */
  merge(): void {
    const zeros = this.zeros - this.lastZeros;
    let diff: Uint32Array | undefined;
    if (this.bins !== undefined) {
      diff = new Uint32Array(N_BINS);
      const last = this.lastBins;
      for (let i = 0; i < N_BINS; i++) diff[i] = (this.bins[i] ?? 0) - (last?.[i] ?? 0);
      this.lastBins = this.bins.slice();
    }
    this.lastZeros = this.zeros;
    this.interval = quantilesOf(zeros, diff, SUPPORTED_QUANTILES);
  }
}
