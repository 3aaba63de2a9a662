// The recent history of the metric series scraped from every proxy: one SampleRing per series, a
// series being a metric name, its sorted labels and the proxy it came from (Prometheus' `instance`).
// Samples older than `retentionMs` are dropped by prune(); a series left without samples (its proxy
// went away, or stopped reporting it) is removed then.
// Memory is bounded: at most `maxSeries` series (a series first seen while the store is full is not
// stored and counted in `droppedSeries`; the series already stored keep updating) and at most
// `maxSamplesPerSeries` samples in each (the oldest is overwritten; rings grow by doubling, so a
// series only holds what it has seen). Each sample is 16 bytes: the control plane sizes rings to the
// retention over the scrape interval plus 2 (122 at 5 s and 10 min), so 20,000 full series take about
// 39 MB of samples; the standalone default of 240 caps them at about 77 MB.
// When a cumulative series (counter, histogram bucket/sum/count) first appears on a proxy scraped
// before, it gets a 0 sample at that previous scrape: it did not exist then, so its count was 0, and
// the requests that created it count in rates (Prometheus loses that first increase).

import { isCumulative, type ParsedExposition } from './prometheus-text.js';
import { matchesAll, type LabelMatcher } from './label-matchers.js';
import { SampleRing } from './sample-ring.js';

export const DEFAULT_RETENTION_MS = 10 * 60_000;
export const DEFAULT_MAX_SERIES = 20_000;
export const DEFAULT_MAX_SAMPLES_PER_SERIES = 240;

export interface SeriesStoreOptions {
  readonly retentionMs?: number;
  readonly maxSeries?: number;
  readonly maxSamplesPerSeries?: number;
}

export interface Series {
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The proxy the series was scraped from (its Istio proxy id, `pod.namespace`). */
  readonly proxy: string;
  /** Counters and histogram buckets/sums/counts: only grow, except on a reset. */
  readonly cumulative: boolean;
  readonly samples: SampleRing;
}

export interface IngestResult {
  readonly added: number;
  readonly updated: number;
  /** New series not stored because the store holds maxSeries already. */
  readonly dropped: number;
}

export interface SeriesStoreStats {
  readonly series: number;
  readonly samples: number;
  readonly maxSeries: number;
  readonly retentionMs: number;
  /** New series refused since start because the store was full. */
  readonly droppedSeries: number;
}

function seriesKey(proxy: string, name: string, labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  let key = `${proxy}\u0000${name}`;
  for (const n of names) key += `\u0000${n}=${labels[n] ?? ''}`;
  return key;
}

export class SeriesStore {
  readonly retentionMs: number;
  readonly maxSeries: number;
  readonly maxSamplesPerSeries: number;
  /** metric name -> series key -> series. */
  readonly #byMetric = new Map<string, Map<string, Series>>();
  readonly #lastScrape = new Map<string, number>();
  #count = 0;
  #dropped = 0;

  constructor(o: SeriesStoreOptions = {}) {
    this.retentionMs = o.retentionMs ?? DEFAULT_RETENTION_MS;
    this.maxSeries = o.maxSeries ?? DEFAULT_MAX_SERIES;
    this.maxSamplesPerSeries = o.maxSamplesPerSeries ?? DEFAULT_MAX_SAMPLES_PER_SERIES;
  }

  /** Records one scrape of `proxy` taken at time `t` (ms). Samples carrying their own timestamp keep it. */
  ingest(proxy: string, scrape: ParsedExposition, t: number): IngestResult {
    const previous = this.#lastScrape.get(proxy);
    const zeroAt = previous !== undefined && previous > t - this.retentionMs && previous < t ? previous : undefined;
    this.#lastScrape.set(proxy, t);
    let added = 0;
    let updated = 0;
    let dropped = 0;
    for (const s of scrape.samples) {
      let family = this.#byMetric.get(s.name);
      const key = seriesKey(proxy, s.name, s.labels);
      let series = family?.get(key);
      if (series === undefined) {
        if (this.#count >= this.maxSeries) {
          dropped++;
          continue;
        }
        const cumulative = isCumulative(s.name, scrape.types);
        series = { metric: s.name, labels: s.labels, proxy, cumulative, samples: new SampleRing(this.maxSamplesPerSeries) };
        if (cumulative && zeroAt !== undefined) series.samples.push(zeroAt, 0);
        if (family === undefined) {
          family = new Map();
          this.#byMetric.set(s.name, family);
        }
        family.set(key, series);
        this.#count++;
        added++;
      } else {
        updated++;
      }
      series.samples.push(s.timestampMs ?? t, s.value);
    }
    this.#dropped += dropped;
    return { added, updated, dropped };
  }

  /** Drops samples older than the retention, then series and proxies left with none. */
  prune(now: number): void {
    const cutoff = now - this.retentionMs;
    for (const [name, family] of this.#byMetric) {
      for (const [key, s] of family) {
        s.samples.dropBefore(cutoff);
        if (s.samples.length === 0) {
          family.delete(key);
          this.#count--;
        }
      }
      if (family.size === 0) this.#byMetric.delete(name);
    }
    for (const [proxy, t] of this.#lastScrape) if (t < cutoff) this.#lastScrape.delete(proxy);
  }

  /** The series of `metric` whose labels satisfy every matcher. */
  select(metric: string, matchers: readonly LabelMatcher[] = []): Series[] {
    const family = this.#byMetric.get(metric);
    if (family === undefined) return [];
    const out: Series[] = [];
    for (const s of family.values()) if (matchesAll(matchers, s.labels)) out.push(s);
    return out;
  }

  /** Metric names with their number of series, sorted by name. */
  metrics(): { readonly metric: string; readonly series: number }[] {
    return [...this.#byMetric].map(([metric, f]) => ({ metric, series: f.size })).sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
  }

  stats(): SeriesStoreStats {
    let samples = 0;
    for (const f of this.#byMetric.values()) for (const s of f.values()) samples += s.samples.length;
    return { series: this.#count, samples, maxSeries: this.maxSeries, retentionMs: this.retentionMs, droppedSeries: this.#dropped };
  }
}
