// Counters and gauges: the two scalar stat kinds of Envoy's stats store
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/observability/statistics).
// A handle is created once (by name, at config time) and kept; the request path only calls inc()/set(),
// which touch two fields and never build a string. `used` mirrors Envoy's "used" flag that
// `/stats?usedonly` filters on: set by the first write, even a write of zero.
// Names and tags are owned by the store; this file must not know about formats.

import type { TaggedName } from './tag-extractor.js';

/** Labels of a metric that belongs to a labeled family (Istio-style custom metric), in family order. */
export interface FamilyMembership {
  readonly familyName: string;
  readonly labelNames: readonly string[];
  readonly labelValues: readonly string[];
}

/** A monotonically increasing count (Envoy `Counter`). */
export class Counter {
  value = 0;
  used = false;
  /** Tag extraction result, computed lazily by the store on the first Prometheus render. */
  tagged: TaggedName | undefined = undefined;
  /** Counted alike by every worker process (it follows the config, not the traffic): merged as the largest, not summed. */
  shared = false;

  constructor(
    /** Envoy's dotted stat name, e.g. `cluster.outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_200`. */
    readonly name: string,
    readonly family: FamilyMembership | undefined = undefined,
  ) {}

  inc(): void {
    this.value++;
    this.used = true;
  }

  add(amount: number): void {
    this.value += amount;
    this.used = true;
  }

  /** Envoy's `/reset_counters`: the value goes back to zero; a used counter stays used. */
  reset(): void {
    this.value = 0;
  }
}

/** A value that goes up and down (Envoy `Gauge`), e.g. active connections. */
export class Gauge {
  value = 0;
  used = false;
  tagged: TaggedName | undefined = undefined;
  /** The same in every worker process (state derived from the config, e.g. a cluster's membership): merged as the largest, not summed. */
  shared = false;

  constructor(
    readonly name: string,
    readonly family: FamilyMembership | undefined = undefined,
  ) {}

  set(value: number): void {
    this.value = value;
    this.used = true;
  }

  inc(): void {
    this.value++;
    this.used = true;
  }

  dec(): void {
    this.value--;
    this.used = true;
  }

  add(amount: number): void {
    this.value += amount;
    this.used = true;
  }

  sub(amount: number): void {
    this.value -= amount;
    this.used = true;
  }
}
