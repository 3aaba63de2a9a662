// The proxy's in-process stats store (Envoy's ThreadLocalStore, single-threaded here): counters, gauges and
// histograms by Envoy's dotted names, scopes that prefix names (`cluster.<name>.`), and labeled families for
// Istio-style custom metrics. Handles are got once, at config time, and kept: `store.counter(name)` is a
// Map lookup that returns the same object every time, so the request path only calls `.inc()`.
// Tag extraction for Prometheus is computed lazily per stat and cached on it.
// This file owns naming and lookup; rendering lives in prometheus-format.ts and admin-format.ts.

import { DEFAULT_HISTOGRAM_BUCKETS, Histogram } from './histogram.js';
import { familyNameProblems, LabeledFamily, type FamilyKind } from './labeled-family.js';
import { Counter, Gauge } from './metric.js';
import {
  compileTagProducer,
  ENVOY_DEFAULT_TAG_SPECIFIERS,
  ISTIO_TAG_SPECIFIERS,
  TagProducer,
  type TaggedName,
  type TagSpecifier,
} from './tag-extractor.js';

export interface StatsStoreOptions {
  /** Compiled tag extraction (see compileTagProducer); Envoy's defaults when omitted. */
  readonly tagProducer?: TagProducer;
  /** Bounds for histograms created without explicit buckets; Envoy's defaults when omitted. */
  readonly histogramBuckets?: readonly number[];
}

/** Something that creates stats under a name prefix: the store itself, or a scope of it. */
export interface StatsScope {
  readonly prefix: string;
  counter(name: string): Counter;
  gauge(name: string): Gauge;
  histogram(name: string, buckets?: readonly number[]): Histogram;
  scope(name: string): StatsScope;
}

/**
 * Makes a cluster name or address usable as a stat-name segment the way Envoy names such stats: no leading,
 * trailing or doubled dots, and `:` replaced by `_` (cluster_stats docs: "Any : character in the stats name
 * is replaced with _"; listener stats are `listener.0.0.0.0_15006.*`).
 */
export function sanitizeStatsName(name: string): string {
  return name
    .split('.')
    .filter((s) => s !== '')
    .join('.')
    .replace(/[:\u0000]/g, '_');
}

function join(prefix: string, name: string): string {
  if (prefix === '') return name;
  if (name === '') return prefix;
  return `${prefix}.${name}`;
}

let defaultProducer: TagProducer | undefined;
let istioTagProducer: TagProducer | undefined;
function istioProducer(): TagProducer {
  if (istioTagProducer === undefined) {
    const r = compileTagProducer(ISTIO_TAG_SPECIFIERS, false);
    if (!r.ok) throw new Error(`Istio's tag extractors do not compile: ${r.problems.join('; ')}`);
    istioTagProducer = r.value;
  }
  return istioTagProducer;
}
function envoyDefaultProducer(): TagProducer {
  if (defaultProducer === undefined) {
    const r = compileTagProducer(ENVOY_DEFAULT_TAG_SPECIFIERS, false);
    if (!r.ok) throw new Error(`built-in tag extractors do not compile: ${r.problems.join('; ')}`);
    defaultProducer = r.value;
  }
  return defaultProducer;
}

class PrefixedScope implements StatsScope {
  constructor(
    private readonly store: StatsStore,
    readonly prefix: string,
  ) {}

  counter(name: string): Counter {
    return this.store.counter(join(this.prefix, name));
  }

  gauge(name: string): Gauge {
    return this.store.gauge(join(this.prefix, name));
  }

  histogram(name: string, buckets?: readonly number[]): Histogram {
    return this.store.histogram(join(this.prefix, name), buckets);
  }

  scope(name: string): StatsScope {
    return new PrefixedScope(this.store, join(this.prefix, name));
  }
}

export class StatsStore implements StatsScope {
  readonly prefix = '';
  private readonly counterMap = new Map<string, Counter>();
  private readonly gaugeMap = new Map<string, Gauge>();
  private readonly histogramMap = new Map<string, Histogram>();
  private readonly familyMap = new Map<string, LabeledFamily<FamilyKind>>();
  private readonly familyKinds = new Map<string, FamilyKind>();
  private readonly tagProducer: TagProducer;
  private readonly buckets: readonly number[];
  /** Called before each read: they set gauges that describe live state (server.uptime, server.state). */
  private readonly refreshers: (() => void)[] = [];

  constructor(options: StatsStoreOptions = {}) {
    this.tagProducer = options.tagProducer ?? envoyDefaultProducer();
    this.buckets = options.histogramBuckets ?? DEFAULT_HISTOGRAM_BUCKETS;
  }

  /**
   * A store with the tag extraction Istio's bootstrap sets: its `stats_tags` and `use_all_default_tags: false`
   * (tools/packaging/common/envoy_bootstrap.json), so Prometheus sees `cluster_name`, `response_code`, ...
   * and not Envoy's `envoy_cluster_name`, which cuts Istio's cluster names at their first dot.
   */
  static istio(): StatsStore {
    return new StatsStore({ tagProducer: istioProducer() });
  }

  /** Adds a function that brings gauges of live state up to date; `refresh()` runs it before every read. */
  addRefresher(f: () => void): void {
    this.refreshers.push(f);
  }

  /** Runs the refreshers (the admin's /stats and the Prometheus renderers call it first). */
  refresh(): void {
    for (const f of this.refreshers) f();
  }

  /** A store whose tag extraction follows a bootstrap's `stats_config` (throws on a bad regex: config time). */
  static withStatsConfig(statsTags: readonly TagSpecifier[], useAllDefaultTags: boolean): StatsStore {
    const r = compileTagProducer(statsTags, useAllDefaultTags);
    if (!r.ok) throw new Error(`stats_config: ${r.problems.join('; ')}`);
    return new StatsStore({ tagProducer: r.value });
  }

  counter(name: string): Counter {
    let c = this.counterMap.get(name);
    if (c === undefined) {
      c = new Counter(name);
      this.counterMap.set(name, c);
    }
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.gaugeMap.get(name);
    if (g === undefined) {
      g = new Gauge(name);
      this.gaugeMap.set(name, g);
    }
    return g;
  }

  /** Buckets apply when the histogram is created; a later call with other buckets gets the existing one. */
  histogram(name: string, buckets?: readonly number[]): Histogram {
    let h = this.histogramMap.get(name);
    if (h === undefined) {
      h = new Histogram(name, buckets ?? this.buckets);
      this.histogramMap.set(name, h);
    }
    return h;
  }

  /** A scope whose stats are named `<prefix>.<name>` (Envoy's Scope::createScope). */
  scope(prefix: string): StatsScope {
    return new PrefixedScope(this, prefix);
  }

  labeledCounter(promName: string, labelNames: readonly string[]): LabeledFamily<'counter'> {
    return this.family('counter', promName, labelNames, this.buckets);
  }

  labeledGauge(promName: string, labelNames: readonly string[]): LabeledFamily<'gauge'> {
    return this.family('gauge', promName, labelNames, this.buckets);
  }

  labeledHistogram(
    promName: string,
    labelNames: readonly string[],
    buckets: readonly number[] = this.buckets,
  ): LabeledFamily<'histogram'> {
    return this.family('histogram', promName, labelNames, buckets);
  }

  /** Closes the histogram interval (Envoy's periodic stats flush). */
  mergeHistograms(): void {
    for (const h of this.histograms()) h.merge();
  }

  /** Envoy's POST /reset_counters. */
  resetCounters(): void {
    for (const c of this.counters()) c.reset();
  }

  /** Every counter, plain and family members. */
  *counters(): IterableIterator<Counter> {
    yield* this.counterMap.values();
    for (const f of this.familyMap.values()) if (f.kind === 'counter') yield* f.members() as IterableIterator<Counter>;
  }

  *gauges(): IterableIterator<Gauge> {
    yield* this.gaugeMap.values();
    for (const f of this.familyMap.values()) if (f.kind === 'gauge') yield* f.members() as IterableIterator<Gauge>;
  }

  *histograms(): IterableIterator<Histogram> {
    yield* this.histogramMap.values();
    for (const f of this.familyMap.values()) {
      if (f.kind === 'histogram') yield* f.members() as IterableIterator<Histogram>;
    }
  }

  /** Tag extraction of a plain stat's name, cached on the stat. */
  tagsOf(metric: Counter | Gauge | Histogram): TaggedName {
    if (metric.tagged === undefined) {
      metric.tagged =
        metric.family !== undefined
          ? {
              extractedName: metric.family.familyName,
              tags: metric.family.labelNames.map((name, i) => ({ name, value: metric.family?.labelValues[i] ?? '' })),
            }
          : this.tagProducer.produce(metric.name);
    }
    return metric.tagged;
  }

  /**
   * One family per name and label list. A name may carry several label lists (Istio's stats filter does
   * this when a Telemetry override adds or removes tags for one listener class): the Prometheus output
   * groups them under one name. A name is one kind only.
   */
  private family<K extends FamilyKind>(
    kind: K,
    promName: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): LabeledFamily<K> {
    const key = `${promName}\0${labelNames.join(',')}`;
    const existing = this.familyMap.get(key);
    if (existing !== undefined) {
      if (existing.kind !== kind) throw new Error(`metric family '${promName}' is already registered as a ${existing.kind}`);
      return existing as LabeledFamily<K>;
    }
    const kindOfName = this.familyKinds.get(promName);
    if (kindOfName !== undefined && kindOfName !== kind) throw new Error(`metric family '${promName}' is already registered as a ${kindOfName}`);
    const problems = familyNameProblems(promName, labelNames);
    if (problems.length > 0) throw new Error(`metric family '${promName}': ${problems.join('; ')}`);
    const f = new LabeledFamily(kind, promName, [...labelNames], buckets);
    this.familyMap.set(key, f as LabeledFamily<FamilyKind>);
    this.familyKinds.set(promName, kind);
    return f;
  }

}
