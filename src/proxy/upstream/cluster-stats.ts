// Envoy's per-cluster statistics, rooted at `cluster.<alt_stat_name or name>.` (Istio sets alt_stat_name to
// `<name>;` so its tag extractors find the cluster name), after
// https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats: the ones an
// operator greps /stats for when requests fail (Istio's circuit-breaking task reads upstream_rq_pending_*).
// The handles are taken from the proxy's stats store once per cluster; a cluster replaced by CDS takes the
// same handles again, so counts carry across updates as Envoy's do. Every update is a field increment.
//
// What is counted, and where (src/proxy/http/router.ts unless noted):
// - upstream_rq_total: requests sent to a host (each attempt, once it has a connection);
//   upstream_rq_active (gauge): those in flight (not those waiting for a connection).
// - upstream_rq_pending_total / upstream_rq_pending_active (gauge): HTTP/1.1 requests that waited for a
//   connection (upstream-cluster.ts and the breaker); upstream_rq_pending_overflow: requests failed by the pending or the requests breaker
//   (Envoy: "overflowed connection pool or requests (mainly for HTTP/2 and above) circuit breaking").
// - upstream_rq_completed, upstream_rq_<code>, upstream_rq_<N>xx: responses from hosts that were forwarded.
// - upstream_rq_timeout (route timeout), upstream_rq_per_try_timeout, upstream_rq_rx_reset (the host reset
//   or closed the request), upstream_rq_tx_reset (the proxy reset a request it had sent: a client gone, a
//   timeout).
// - upstream_rq_retry, upstream_rq_retry_success (the attempt after a retry was not retried again, as
//   Envoy's RetryStateImpl::shouldRetry counts it), upstream_rq_retry_overflow (the retries breaker or
//   budget refused one), upstream_rq_retry_limit_exceeded (num_retries spent).
// - upstream_cx_connect_fail: attempts that failed to connect.
// - upstream_cx_total, upstream_cx_http1_total, upstream_cx_http2_total: connections made (counted when the
//   socket is created, as Envoy counts a connection it starts); upstream_cx_active (gauge): those not yet
//   closed; upstream_cx_destroy: those closed. HTTP/1.1 and HTTP/2 pools and tcp_proxy connections.
// - upstream_cx_overflow: a connection the connections breaker (max_connections) refused.
// - circuit_breakers.default.{cx_open,rq_pending_open,rq_open,rq_retry_open} (gauges, 1 while at the limit).
// - outlier_detection.ejections_{active,overflow,enforced_total,enforced_<type>,detected_<type>}.
// - membership_total, membership_healthy (inclusive of active health checking and outlier detection),
//   membership_degraded, membership_excluded (gauges, set from the cluster's hosts whenever stats are read),
//   and membership_change (hosts added or removed by an update, the first one included).

import { StatsStore, type StatsScope } from '../stats/stats-store.js';
import type { Counter, Gauge } from '../stats/metric.js';
import type { BreakerResource } from './circuit-breakers.js';
import type { OutlierEvent } from './outlier-detector.js';

/** Envoy's breaker gauge names, by resource. */
const OPEN_GAUGE: Readonly<Record<BreakerResource, string>> = { connections: 'cx_open', pending: 'rq_pending_open', requests: 'rq_open', retries: 'rq_retry_open' };

/** Told of each upstream connection a pool or tcp_proxy makes: once when its socket is created, once when it closes. */
export interface ConnectionEvents {
  opened(): void;
  closed(): void;
  /** A connection reached the cluster's max_connection_duration (upstream_cx_max_duration_reached). */
  maxDurationReached?(): void;
}

/** A cluster's hosts by state, as Envoy's membership gauges count them. */
export interface Membership {
  readonly total: number;
  /** Neither failing active health checks, ejected, nor unhealthy by EDS, and not degraded. */
  readonly healthy: number;
  /** Degraded by EDS or by an active health check, and not unhealthy. */
  readonly degraded: number;
  /** Awaiting a first active check, excluded by an immediate health check failure, or draining by EDS (Envoy's excludeBasedOnHealthFlag). */
  readonly excluded: number;
}

export class ClusterStats {
  readonly rqTotal: Counter;
  readonly rqActive: Gauge;
  readonly rqPendingTotal: Counter;
  readonly rqPendingActive: Gauge;
  readonly rqPendingOverflow: Counter;
  readonly rqCompleted: Counter;
  readonly rqTimeout: Counter;
  readonly rqPerTryTimeout: Counter;
  readonly rqPerTryIdleTimeout: Counter;
  /** Attempts ended at the cluster's max_stream_duration (or x-envoy-upstream-stream-duration-ms). */
  readonly rqMaxDurationReached: Counter;
  readonly rqRxReset: Counter;
  readonly rqTxReset: Counter;
  /** ORIGINAL_DST: a request's destination header that was not an address and port. */
  readonly originalDstHostInvalid: Counter;
  readonly rqRetry: Counter;
  readonly rqRetrySuccess: Counter;
  readonly rqRetryOverflow: Counter;
  readonly rqRetryLimitExceeded: Counter;
  /** retry_or_shadow_abandoned: a request body outgrew the buffer limit, so its retries and shadows were given up. */
  readonly retryOrShadowAbandoned: Counter;
  readonly cxConnectFail: Counter;
  readonly cxOverflow: Counter;
  /** Connection events per protocol, each feeding upstream_cx_total/active/destroy and its own _total. */
  readonly connections: Readonly<Record<'http1' | 'http2' | 'tcp', ConnectionEvents>>;
  /** circuit_breakers.default.*_open, by resource. */
  readonly open: Readonly<Record<BreakerResource, Gauge>>;
  readonly membershipChange: Counter;
  readonly #membership: readonly [total: Gauge, healthy: Gauge, degraded: Gauge, excluded: Gauge];
  readonly #scope: StatsScope;
  readonly #byClass: readonly Counter[];
  readonly #byCode = new Map<number, Counter>();

  /** `scope` is `cluster.<stat name>`; without one (a cluster built outside a proxy) the stats go to a store of their own. */
  constructor(scope: StatsScope | undefined, statName: string) {
    const s = scope ?? new StatsStore().scope(`cluster.${statName}`);
    this.#scope = s;
    this.rqTotal = s.counter('upstream_rq_total');
    this.rqActive = s.gauge('upstream_rq_active');
    this.rqPendingTotal = s.counter('upstream_rq_pending_total');
    this.rqPendingActive = s.gauge('upstream_rq_pending_active');
    this.rqPendingOverflow = s.counter('upstream_rq_pending_overflow');
    this.rqCompleted = s.counter('upstream_rq_completed');
    this.rqTimeout = s.counter('upstream_rq_timeout');
    this.rqPerTryTimeout = s.counter('upstream_rq_per_try_timeout');
    this.rqPerTryIdleTimeout = s.counter('upstream_rq_per_try_idle_timeout');
    this.rqMaxDurationReached = s.counter('upstream_rq_max_duration_reached');
    this.rqRxReset = s.counter('upstream_rq_rx_reset');
    this.rqTxReset = s.counter('upstream_rq_tx_reset');
    this.originalDstHostInvalid = s.counter('original_dst_host_invalid');
    this.rqRetry = s.counter('upstream_rq_retry');
    this.rqRetrySuccess = s.counter('upstream_rq_retry_success');
    this.rqRetryOverflow = s.counter('upstream_rq_retry_overflow');
    this.rqRetryLimitExceeded = s.counter('upstream_rq_retry_limit_exceeded');
    this.retryOrShadowAbandoned = s.counter('retry_or_shadow_abandoned');
    this.cxConnectFail = s.counter('upstream_cx_connect_fail');
    this.cxOverflow = s.counter('upstream_cx_overflow');
    const total = s.counter('upstream_cx_total');
    const active = s.gauge('upstream_cx_active');
    const destroy = s.counter('upstream_cx_destroy');
    const maxDuration = s.counter('upstream_cx_max_duration_reached');
    const events = (protocolTotal: Counter | undefined): ConnectionEvents => ({
      maxDurationReached: () => maxDuration.inc(),
      opened: () => {
        total.inc();
        protocolTotal?.inc();
        active.inc();
      },
      closed: () => {
        active.dec();
        destroy.inc();
      },
    });
    this.connections = { http1: events(s.counter('upstream_cx_http1_total')), http2: events(s.counter('upstream_cx_http2_total')), tcp: events(undefined) };
    const cb = s.scope('circuit_breakers.default');
    this.open = { connections: cb.gauge(OPEN_GAUGE.connections), pending: cb.gauge(OPEN_GAUGE.pending), requests: cb.gauge(OPEN_GAUGE.requests), retries: cb.gauge(OPEN_GAUGE.retries) };
    // A breaker is open for the whole proxy (its limits are shared by the workers: shared-breakers.ts), so the
    // workers' 0/1 gauges merge as one, not as a sum.
    for (const g of Object.values(this.open)) g.shared = true;
    this.#byClass = [1, 2, 3, 4, 5].map((k) => s.counter(`upstream_rq_${k}xx`));
    // Every worker process holds the same hosts: their copies are merged as one (metric.ts `shared`).
    this.membershipChange = s.counter('membership_change');
    this.membershipChange.shared = true;
    this.#membership = [s.gauge('membership_total'), s.gauge('membership_healthy'), s.gauge('membership_degraded'), s.gauge('membership_excluded')];
    for (const g of this.#membership) g.shared = true;
  }

  /** Sets the membership gauges (Envoy's ClusterInfo endpoint stats). */
  membership(m: Membership): void {
    const [total, healthy, degraded, excluded] = this.#membership;
    total.set(m.total);
    healthy.set(m.healthy);
    degraded.set(m.degraded);
    excluded.set(m.excluded);
  }

  /** A host's response the proxy forwards: upstream_rq_completed, upstream_rq_<code>, upstream_rq_<N>xx. */
  response(status: number): void {
    this.rqCompleted.inc();
    let c = this.#byCode.get(status);
    if (c === undefined) {
      c = this.#scope.counter(`upstream_rq_${status}`);
      this.#byCode.set(status, c);
    }
    c.inc();
    this.#byClass[Math.floor(status / 100) - 1]?.inc();
  }

  /** Counts an outlier detector's event; `active` is how many hosts it has ejected now. */
  outlier(e: OutlierEvent, active: number): void {
    countOutlierEvent(this.#scope, e, active);
  }

  /** outlier_detection.ejections_active (gauge). */
  outlierActive(active: number): void {
    setEjectionsActive(this.#scope, active);
  }
}

/**
 * Counts an outlier detector's event under a cluster's scope (`cluster.<stat name>`); `active` is how many
 * hosts it has ejected now. Shared by a cluster's own detector and the primary's (outlier-hub.ts).
 */
export function countOutlierEvent(cluster: StatsScope, e: OutlierEvent, active: number): void {
  const o = cluster.scope('outlier_detection');
  if (e.action === 'overflow') {
    o.counter(`ejections_detected_${e.type}`).inc();
    o.counter('ejections_overflow').inc();
  } else if (e.action === 'eject') {
    o.counter(`ejections_detected_${e.type}`).inc();
    if (e.enforced) {
      o.counter('ejections_enforced_total').inc();
      o.counter(`ejections_enforced_${e.type}`).inc();
    }
  }
  setEjectionsActive(cluster, active);
}

/** outlier_detection.ejections_active (gauge) under a cluster's scope. */
export function setEjectionsActive(cluster: StatsScope, active: number): void {
  cluster.scope('outlier_detection').gauge('ejections_active').set(active);
}
