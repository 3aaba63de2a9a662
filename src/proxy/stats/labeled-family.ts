// Labeled metric families: custom metrics with an explicit Prometheus name and label names, as Istio's
// stats plugin defines them (istio_requests_total{reporter=...,source_workload=...}). A family hands out
// one child handle per distinct label-value tuple and caches it, so the request path does a few Map
// lookups and then a plain inc()/record().
// In Envoy's `/stats` text the children appear under the flat name Istio's stats filter gives them,
// `reporter=.=destination;.;source_workload=.=productpage-v1;.;istio_requests_total`, which Istio's bootstrap
// tag extractors (`<tag>=\.=(.*?);\.;`) turn back into labels; here the labels are kept as given instead.
// Children are found through one Map per label level, so a lookup with values already seen allocates
// nothing (labelsOf) or only the rest-argument array (labels).

import { Counter, Gauge, type FamilyMembership } from './metric.js';
import { Histogram } from './histogram.js';

export type FamilyKind = 'counter' | 'gauge' | 'histogram';

type MetricOf<K extends FamilyKind> = K extends 'counter' ? Counter : K extends 'gauge' ? Gauge : Histogram;

const PROM_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const PROM_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Problems with a family's Prometheus name or label names ([] when valid). */
export function familyNameProblems(promName: string, labelNames: readonly string[]): string[] {
  const problems: string[] = [];
  if (!PROM_NAME.test(promName)) problems.push(`invalid Prometheus metric name '${promName}'`);
  const seen = new Set<string>();
  for (const l of labelNames) {
    if (!PROM_LABEL.test(l) || l.startsWith('__')) problems.push(`invalid Prometheus label name '${l}'`);
    if (seen.has(l)) problems.push(`duplicate label name '${l}'`);
    seen.add(l);
  }
  return problems;
}

/** The flat stat name Istio's stats filter uses for one child of a family. */
export function istioFlatStatName(promName: string, labelNames: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < labelNames.length; i++) out += `${labelNames[i]}=.=${values[i] ?? ''};.;`;
  return out + promName;
}

export class LabeledFamily<K extends FamilyKind> {
  /** One Map level per label: looking up existing values builds no string. */
  private readonly trie = new Map<string, unknown>();
  private only: MetricOf<K> | undefined = undefined;
  private readonly all: MetricOf<K>[] = [];
  /** The last child looked up and its values: consecutive requests mostly carry the same labels. */
  private lastValues: readonly string[] = [];
  private last: MetricOf<K> | undefined = undefined;

  constructor(
    readonly kind: K,
    readonly promName: string,
    readonly labelNames: readonly string[],
    private readonly buckets: readonly number[],
  ) {}

  /**
   * The child for these label values (one per label name, in order); created on first use, then cached.
   * A missing value is recorded as '' and an extra value is ignored, so a caller bug never throws on the
   * request path.
   */
  labels(...values: string[]): MetricOf<K> {
    return this.labelsOf(values);
  }

  /**
   * labels() with the values in an array, which the caller may reuse once this returns (a new child keeps a
   * copy): the request path fills one array per request instead of spreading a new one.
   */
  labelsOf(values: readonly string[]): MetricOf<K> {
    const n = this.labelNames.length;
    if (values.length !== n) return this.labelsOf(this.labelNames.map((_, i) => values[i] ?? ''));
    if (n === 0) return (this.only ??= this.create(values));
    const last = this.last;
    if (last !== undefined && sameValues(values, this.lastValues)) return last;
    const child = this.lookup(values);
    this.last = child;
    this.lastValues = child.family?.labelValues ?? [...values];
    return child;
  }

  private lookup(values: readonly string[]): MetricOf<K> {
    const n = values.length;
    let node = this.trie;
    for (let i = 0; i < n - 1; i++) {
      const v = values[i] as string;
      let next = node.get(v) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map<string, unknown>();
        node.set(v, next);
      }
      node = next;
    }
    const leaf = values[n - 1] as string;
    const hit = node.get(leaf) as MetricOf<K> | undefined;
    if (hit !== undefined) return hit;
    const child = this.create(values);
    node.set(leaf, child);
    return child;
  }

  /** Every child created so far, in creation order. */
  members(): IterableIterator<MetricOf<K>> {
    return this.all.values();
  }

  private create(values: readonly string[]): MetricOf<K> {
    const fixed = [...values];
    const family: FamilyMembership = { familyName: this.promName, labelNames: this.labelNames, labelValues: fixed };
    const name = istioFlatStatName(this.promName, this.labelNames, fixed);
    // The casts restate what K already says; TypeScript cannot narrow a generic by a field value.
    let child: MetricOf<K>;
    switch (this.kind) {
      case 'counter':
        child = new Counter(name, family) as MetricOf<K>;
        break;
      case 'gauge':
        child = new Gauge(name, family) as MetricOf<K>;
        break;
      default:
        child = new Histogram(name, this.buckets, family) as MetricOf<K>;
    }
    this.all.push(child);
    return child;
  }
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
