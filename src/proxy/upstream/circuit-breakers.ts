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

export class CircuitBreakers {
  readonly limits: BreakerLimits;
  private readonly active: Record<BreakerResource, number> = { connections: 0, pending: 0, requests: 0, retries: 0 };
  /** Resources the last shared take refused (the proxy-wide count is at the limit). */
  private readonly refused: Record<BreakerResource, boolean> = { connections: false, pending: false, requests: false, retries: false };

  constructor(
    config?: CircuitBreakersProto | BreakerLimits,
    priority: RoutingPriority = RoutingPriority.DEFAULT,
    private readonly statGauges?: BreakerStatGauges,
    /** The proxy-wide units of a `--concurrency` worker (absent: this breaker's counts are the proxy's). */
    private readonly shared?: ProxyWideUnits,
  ) {
    this.limits = config === undefined ? DEFAULT_LIMITS : 'thresholds' in config ? breakerLimits(config, priority) : config;
  }

  /**
   * Moves the gauges by `delta`: active ones by increments, since a cluster replaced by CDS shares them with
   * its successor while its last requests finish.
   */
  #publish(r: BreakerResource, delta: 1 | -1): void {
    const g = this.statGauges;
    if (g === undefined) return;
    g.active[r]?.add(delta);
    g.open[r].set(this.isOpen(r) ? 1 : 0);
  }

  /** The current limit of `r` (the retry limit moves with load under a retry budget). */
  limit(r: BreakerResource): number {
    if (r === 'retries' && this.limits.retryBudget !== undefined) {
      const b = this.limits.retryBudget;
      return Math.max(b.minRetryConcurrency, Math.floor((b.budgetPercent / 100) * (this.active.requests + this.active.pending)));
    }
    return this.limits[r];
  }

  /** Takes one unit of `r` if below the limit; false means the breaker is open (Envoy's overflow). */
  tryAcquire(r: BreakerResource): boolean {
    if (this.active[r] >= this.limit(r)) return false;
    if (this.shared !== undefined && !this.shared.take(r)) {
      this.refused[r] = true;
      this.statGauges?.open[r].set(1);
      return false;
    }
    this.refused[r] = false;
    this.active[r]++;
    this.#publish(r, 1);
    return true;
  }

  /** Returns one unit taken by a successful tryAcquire. */
  release(r: BreakerResource): void {
    if (this.active[r] === 0) return;
    this.active[r]--;
    this.refused[r] = false;
    this.shared?.put(r);
    this.#publish(r, -1);
  }

  /** The cluster was replaced or removed: shared units it does not use go back to the proxy. */
  close(): void {
    this.shared?.close();
  }

  current(r: BreakerResource): number {
    return this.active[r];
  }

  remaining(r: BreakerResource): number {
    return Math.max(0, this.limit(r) - this.active[r]);
  }

  isOpen(r: BreakerResource): boolean {
    return this.refused[r] || this.active[r] >= this.limit(r);
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
