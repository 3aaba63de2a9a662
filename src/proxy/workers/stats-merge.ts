// Stats across worker processes. Each worker keeps its own StatsStore (its request path touches only local
// handles, as Envoy's per-thread TLS caches do); the primary asks every worker for a snapshot when /stats or
// /stats/prometheus is read and merges them into a fresh store, which the ordinary renderers then print.
// Merging follows what Envoy's single store shows for stats that all workers write: counters and gauges
// summed (except those every worker derives alike from the config, marked `shared`, such as a cluster's
// membership: those are the largest value, as one Envoy process would hold one copy), histograms accumulated (bucket counts, sum, count and the log-linear bins quantiles come from,
// as Envoy's ParentHistogram merges its per-thread histograms). `used` is true if any worker used it.
// Interval quantiles are not carried: the merged store is new at each read, so they print as nan, as
// they do in a single process until an interval is closed.

import type { StatsStore } from '../stats/stats-store.js';
import type { Counter, FamilyMembership, Gauge } from '../stats/metric.js';
import type { Histogram } from '../stats/histogram.js';
import type { HistogramSnapshot, ScalarSnapshot, StatsSnapshot } from './ipc-protocol.js';

/**
 * The histogram's bins. Histogram keeps them private (they are its quantile machinery); merging needs to
 * read and add them, and this is the one place that does. TypeScript checks the member names, so a change
 * in histogram.ts fails the type check here. A public `snapshot()/absorb()` on Histogram would retire it.
 */
function binsOf(h: Histogram): { zeros: number; bins: Uint32Array | undefined } {
  return { zeros: h['zeros'], bins: h['bins'] };
}

function addBins(h: Histogram, zeros: number, bins: Uint32Array | undefined): void {
  h['zeros'] += zeros;
  if (bins === undefined) return;
  const own = h['bins'];
  if (own === undefined) h['bins'] = bins.slice();
  else for (let i = 0; i < own.length; i++) own[i] = (own[i] ?? 0) + (bins[i] ?? 0);
}

function scalar(m: Counter | Gauge): ScalarSnapshot {
  return { name: m.name, value: m.value, used: m.used, ...(m.family !== undefined ? { family: m.family } : {}), ...(m.shared ? { shared: true as const } : {}) };
}

/** Everything in `store`, as plain data that crosses the IPC channel. */
export function snapshotStats(store: StatsStore): StatsSnapshot {
  const histograms: HistogramSnapshot[] = [];
  for (const h of store.histograms()) {
    const b = binsOf(h);
    histograms.push({
      name: h.name,
      bounds: [...h.bounds],
      bucketCounts: h.bucketCounts.slice(),
      count: h.count,
      sum: h.sum,
      used: h.used,
      zeros: b.zeros,
      bins: b.bins?.slice(),
      ...(h.family !== undefined ? { family: h.family } : {}),
    });
  }
  return { counters: [...store.counters()].map(scalar), gauges: [...store.gauges()].map(scalar), histograms };
}

/** The same snapshot without gauges and histograms: what a worker that exited leaves behind. */
export function countersOnly(s: StatsSnapshot): StatsSnapshot {
  return { counters: s.counters, gauges: [], histograms: [] };
}

function familyChild<M>(f: FamilyMembership, make: (f: FamilyMembership) => { labels(...values: string[]): M }): M | undefined {
  try {
    return make(f).labels(...f.labelValues);
  } catch {
    // A family registered with another kind or labels elsewhere: workers run the same code, so only a
    // mixed-version fleet gets here; its stat is left out rather than failing the whole page.
    return undefined;
  }
}

/** Sums a worker's value in, or for a shared stat keeps the largest. */
function add(m: Counter | Gauge, s: ScalarSnapshot): void {
  if (s.shared === true) {
    m.value = m.shared ? Math.max(m.value, s.value) : s.value;
    m.shared = true;
  } else m.value += s.value;
  m.used ||= s.used;
}

/** Adds a snapshot into `store` (created on first sight, summed after). */
export function mergeSnapshot(store: StatsStore, s: StatsSnapshot): void {
  for (const c of s.counters) {
    const m = c.family !== undefined ? familyChild(c.family, (f) => store.labeledCounter(f.familyName, f.labelNames)) : store.counter(c.name);
    if (m === undefined) continue;
    add(m, c);
  }
  for (const g of s.gauges) {
    const m = g.family !== undefined ? familyChild(g.family, (f) => store.labeledGauge(f.familyName, f.labelNames)) : store.gauge(g.name);
    if (m === undefined) continue;
    add(m, g);
  }
  for (const h of s.histograms) {
    const m = h.family !== undefined ? familyChild(h.family, (f) => store.labeledHistogram(f.familyName, f.labelNames, h.bounds)) : store.histogram(h.name, h.bounds);
    // Buckets of other bounds cannot be added (only a mixed-version fleet has them): the first seen wins.
    if (m === undefined || m.bounds.length !== h.bounds.length || m.bounds.some((b, i) => b !== h.bounds[i])) continue;
    for (let i = 0; i < m.bucketCounts.length; i++) m.bucketCounts[i] = (m.bucketCounts[i] ?? 0) + (h.bucketCounts[i] ?? 0);
    addBins(m, h.zeros, h.bins);
    m.count += h.count;
    m.sum += h.sum;
    m.used ||= h.used;
  }
}
