// Cluster circuit breakers (cluster.circuit_breakers), after Envoy's ResourceManagerImpl and
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking: one counter
// per resource (connections, pending requests, requests, retries) with a limit from the thresholds of
// the routing priority in use (DEFAULT unless asked), defaulting to 1024/1024/1024/3. tryAcquire succeeds
// while the count is below the limit; every success must be paired with one release. With a
// retry_budget, the retry limit follows the load instead: max(min_retry_concurrency (3),
// budget_percent (20%) × (active requests + pending requests)).
// Gauges follow Envoy's names (circuit_breakers.<priority>.cx_open, remaining_rq, ...): an *_open gauge is
// 1 while the resource is at its limit; given stats gauges (cluster-stats.ts), the breaker keeps them current
// with upstream_rq_pending_active. Per-host thresholds and max_connection_pools are not tracked here.
// In a `--concurrency` worker, a SharedAllowance makes the limits the whole proxy's (shared-breakers.ts).

import type { CircuitBreakers as CircuitBreakersProto } from '../../xds/gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { RoutingPriority } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { Gauge } from '../stats/metric.js';

export type BreakerResource = 'connections' | 'pending' | 'requests' | 'retries';

export interface BreakerLimits {
  readonly connections: number;
  readonly pending: number;
  readonly requests: number;
  /** Fixed retry limit; ignored when `retryBudget` is set. */
  readonly retries: number;
  readonly retryBudget?: { readonly budgetPercent: number; readonly minRetryConcurrency: number };
}

export interface BreakerGauges {
  readonly cx_open: number;
  readonly rq_pending_open: number;
  readonly rq_open: number;
  readonly rq_retry_open: number;
  readonly remaining_cx: number;
  readonly remaining_pending: number;
  readonly remaining_rq: number;
  readonly remaining_retries: number;
}

export const DEFAULT_LIMITS: BreakerLimits = Object.freeze({ connections: 1024, pending: 1024, requests: 1024, retries: 3 });

/** The limits for `priority` from the proto (first thresholds entry of that priority), with Envoy's defaults. */
export function breakerLimits(config: CircuitBreakersProto | undefined, priority: RoutingPriority = RoutingPriority.DEFAULT): BreakerLimits {
  const t = config?.thresholds.find((x) => x.priority === priority);
  if (t === undefined) return DEFAULT_LIMITS;
  const budget = t.retryBudget;
  return Object.freeze({
    connections: t.maxConnections ?? DEFAULT_LIMITS.connections,
    pending: t.maxPendingRequests ?? DEFAULT_LIMITS.pending,
    requests: t.maxRequests ?? DEFAULT_LIMITS.requests,
    retries: t.maxRetries ?? DEFAULT_LIMITS.retries,
    ...(budget !== undefined
      ? { retryBudget: { budgetPercent: budget.budgetPercent?.value ?? 20, minRetryConcurrency: budget.minRetryConcurrency ?? 3 } }
      : {}),
  });
}

/** Stats gauges a breaker keeps current: how much of a resource is taken, and 1 while it is at its limit. */
export interface BreakerStatGauges {
  readonly active: Partial<Readonly<Record<BreakerResource, Gauge>>>;
  readonly open: Readonly<Record<BreakerResource, Gauge>>;
}

/** Units of a limit the whole proxy shares (SharedAllowance in shared-breakers.ts, for `--concurrency` workers). */
export interface ProxyWideUnits {
  /** One unit of `r`; false when the proxy-wide limit is reached. */
  take(r: BreakerResource): boolean;
  put(r: BreakerResource): void;
  close(): void;
}

/**
 * The resource's slot in a breaker's arrays. Every request takes and returns two or three resources: indexed
 * by name, each access was a megamorphic keyed load or store (`perf`: about 1% of the proxy under
 * `wrk -c50`); a comparison with the call site's constant folds away once inlined.
 */
function slot(r: BreakerResource): number {
  return r === 'connections' ? 0 : r === 'pending' ? 1 : r === 'requests' ? 2 : 3;
}

const RESOURCES: readonly BreakerResource[] = ['connections', 'pending', 'requests', 'retries'];

export class CircuitBreakers {
  readonly limits: BreakerLimits;
  /** Units taken, by slot(). */
  readonly #active: number[] = [0, 0, 0, 0];
  /** Resources the last shared take refused (the proxy-wide count is at the limit), by slot(). */
  readonly #refused: boolean[] = [false, false, false, false];
  /** The fixed limits, by slot() (the retry limit is computed while a retry budget is set). */
  readonly #limit: number[];
  readonly #activeGauge: (Gauge | undefined)[] | undefined;
  readonly #openGauge: Gauge[] | undefined;

  constructor(
    config?: CircuitBreakersProto | BreakerLimits,
    priority: RoutingPriority = RoutingPriority.DEFAULT,
    statGauges?: BreakerStatGauges,
    /** The proxy-wide units of a `--concurrency` worker (absent: this breaker's counts are the proxy's). */
    private readonly shared?: ProxyWideUnits,
  ) {
    this.limits = config === undefined ? DEFAULT_LIMITS : 'thresholds' in config ? breakerLimits(config, priority) : config;
    const l = this.limits;
    this.#limit = [l.connections, l.pending, l.requests, l.retries];
    this.#activeGauge = statGauges === undefined ? undefined : RESOURCES.map((r) => statGauges.active[r]);
    this.#openGauge = statGauges === undefined ? undefined : RESOURCES.map((r) => statGauges.open[r]);
  }

  /**
   * Moves the gauges by `delta`: active ones by increments, since a cluster replaced by CDS shares them with
   * its successor while its last requests finish.
   */
  #publish(i: number, delta: 1 | -1): void {
    const open = this.#openGauge;
    if (open === undefined) return;
    this.#activeGauge?.[i]?.add(delta);
    (open[i] as Gauge).set(this.#isOpen(i) ? 1 : 0);
  }

  #limitOf(i: number): number {
    const b = this.limits.retryBudget;
    if (i === 3 && b !== undefined) {
      const a = this.#active;
      return Math.max(b.minRetryConcurrency, Math.floor((b.budgetPercent / 100) * ((a[2] as number) + (a[1] as number))));
    }
    return this.#limit[i] as number;
  }

  #isOpen(i: number): boolean {
    return (this.#refused[i] as boolean) || (this.#active[i] as number) >= this.#limitOf(i);
  }

  /** The current limit of `r` (the retry limit moves with load under a retry budget). */
  limit(r: BreakerResource): number {
    return this.#limitOf(slot(r));
  }

  /** Takes one unit of `r` if below the limit; false means the breaker is open (Envoy's overflow). */
  tryAcquire(r: BreakerResource): boolean {
    const i = slot(r);
    const a = this.#active;
    if ((a[i] as number) >= this.#limitOf(i)) return false;
    if (this.shared !== undefined && !this.shared.take(r)) {
      this.#refused[i] = true;
      this.#openGauge?.[i]?.set(1);
      return false;
    }
    this.#refused[i] = false;
    a[i] = (a[i] as number) + 1;
    this.#publish(i, 1);
    return true;
  }

  /** Returns one unit taken by a successful tryAcquire. */
  release(r: BreakerResource): void {
    const i = slot(r);
    const a = this.#active;
    if (a[i] === 0) return;
    a[i] = (a[i] as number) - 1;
    this.#refused[i] = false;
    this.shared?.put(r);
    this.#publish(i, -1);
  }

  /** The cluster was replaced or removed: shared units it does not use go back to the proxy. */
  close(): void {
    this.shared?.close();
  }

  current(r: BreakerResource): number {
    return this.#active[slot(r)] as number;
  }

  remaining(r: BreakerResource): number {
    const i = slot(r);
    return Math.max(0, this.#limitOf(i) - (this.#active[i] as number));
  }

  isOpen(r: BreakerResource): boolean {
    return this.#isOpen(slot(r));
  }

  gauges(): BreakerGauges {
    return {
      cx_open: this.isOpen('connections') ? 1 : 0,
      rq_pending_open: this.isOpen('pending') ? 1 : 0,
      rq_open: this.isOpen('requests') ? 1 : 0,
      rq_retry_open: this.isOpen('retries') ? 1 : 0,
      remaining_cx: this.remaining('connections'),
      remaining_pending: this.remaining('pending'),
      remaining_rq: this.remaining('requests'),
      remaining_retries: this.remaining('retries'),
    };
  }
}
