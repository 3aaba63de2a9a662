// Prometheus' histogram_quantile over cumulative buckets (upper bound `le`, count of observations <= le):
// find the bucket holding the rank q*total and interpolate linearly inside it, the lowest bucket
// starting at 0; a rank in the +Inf bucket answers the upper bound of the last finite bucket.
// Buckets whose counts decrease (rates of buckets scraped at slightly different moments) are made
// monotonic first, as Prometheus does. https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile
// and promql/quantile.go bucketQuantile.

export interface Bucket {
  /** Upper bound; Infinity for the +Inf bucket. */
  readonly le: number;
  /** Cumulative count (or rate) of observations <= le. */
  readonly count: number;
}

/** NaN when there is nothing to compute (no +Inf bucket, fewer than 2 buckets, or no observations). */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const last = sorted[sorted.length - 1];
  if (sorted.length < 2 || last === undefined || last.le !== Infinity) return NaN;
  // Monotonic counts (Prometheus' ensureMonotonic).
  let max = -Infinity;
  const counts = sorted.map((b) => (max = Math.max(max, b.count)));
  const total = counts[counts.length - 1] ?? 0;
  if (!(total > 0)) return NaN;
  const rank = q * total;
  // Search among the finite buckets only; none holding the rank means the +Inf bucket does.
  let b = counts.findIndex((c, i) => i < counts.length - 1 && c >= rank);
  if (b === -1) b = counts.length - 1;
  if (b === counts.length - 1) return sorted[counts.length - 2]?.le ?? NaN;
  const end = sorted[b]?.le ?? NaN;
  if (b === 0 && end <= 0) return end;
  const start = b === 0 ? 0 : (sorted[b - 1]?.le ?? 0);
  const below = b === 0 ? 0 : (counts[b - 1] ?? 0);
  const inBucket = (counts[b] ?? 0) - below;
  if (inBucket <= 0) return start; // q = 0 with an empty lowest bucket
  return start + (end - start) * ((rank - below) / inBucket);
}
