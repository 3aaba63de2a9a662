// Route-level stats: a route with a `stat_prefix` (Istio sets it from a VirtualService match's `statPrefix`)
// counts its requests under `vhost.<virtual host name>.route.<stat_prefix>.`, the stats Envoy documents for
// virtual clusters: upstream_rq_total (each attempt sent upstream, with the cluster's), upstream_rq_retry,
// upstream_rq_retry_limit_exceeded, upstream_rq_retry_overflow, upstream_rq_retry_success,
// upstream_rq_timeout (the route timeout), and the upstream responses forwarded: upstream_rq_completed,
// upstream_rq_<code> and upstream_rq_<N>xx (CodeStatsImpl::chargeResponseStat's route block).
// The router counts through RouterStats: the cluster's own stats for a route without a prefix (nothing more
// per request), or both at once for one with a prefix.
// Envoy: RouteStatsContextImpl (source/common/router/context_impl.cc), Router::Filter and RetryStateImpl,
// route.proto Route.stat_prefix; docs configuration/http/http_filters/router_filter (virtual clusters).

import type { StatsScope } from '../stats/stats-store.js';
import type { Counter } from '../stats/metric.js';
import type { ClusterStats } from '../upstream/cluster-stats.js';
import type { RouteInfo, VirtualHostInfo } from './route/types.js';

interface Increment {
  inc(): void;
}

/** What the router counts for both its cluster and its route (ClusterStats is one). */
export interface RouterStats {
  readonly rqTotal: Increment;
  readonly rqTimeout: Increment;
  readonly rqRetry: Increment;
  readonly rqRetrySuccess: Increment;
  readonly rqRetryLimitExceeded: Increment;
  response(status: number): void;
}

export class RouteStats {
  readonly rqTotal: Counter;
  readonly rqTimeout: Counter;
  readonly rqRetry: Counter;
  readonly rqRetrySuccess: Counter;
  readonly rqRetryOverflow: Counter;
  readonly rqRetryLimitExceeded: Counter;
  readonly #completed: Counter;
  readonly #byClass: readonly Counter[];
  readonly #byCode = new Map<number, Counter>();

  /** `scope` is `vhost.<name>.route.<stat_prefix>`. */
  constructor(private readonly scope: StatsScope) {
    this.rqTotal = scope.counter('upstream_rq_total');
    this.rqTimeout = scope.counter('upstream_rq_timeout');
    this.rqRetry = scope.counter('upstream_rq_retry');
    this.rqRetrySuccess = scope.counter('upstream_rq_retry_success');
    this.rqRetryOverflow = scope.counter('upstream_rq_retry_overflow');
    this.rqRetryLimitExceeded = scope.counter('upstream_rq_retry_limit_exceeded');
    this.#completed = scope.counter('upstream_rq_completed');
    this.#byClass = [1, 2, 3, 4, 5].map((k) => scope.counter(`upstream_rq_${k}xx`));
  }

  response(status: number): void {
    this.#completed.inc();
    let c = this.#byCode.get(status);
    if (c === undefined) {
      c = this.scope.counter(`upstream_rq_${status}`);
      this.#byCode.set(status, c);
    }
    c.inc();
    this.#byClass[Math.floor(status / 100) - 1]?.inc();
  }
}

const both = (a: Increment, b: Increment): Increment => ({
  inc: () => {
    a.inc();
    b.inc();
  },
});

/** The cluster's stats and the route's, counted together. */
function tee(cluster: ClusterStats, route: RouteStats): RouterStats {
  return {
    rqTotal: both(cluster.rqTotal, route.rqTotal),
    rqTimeout: both(cluster.rqTimeout, route.rqTimeout),
    rqRetry: both(cluster.rqRetry, route.rqRetry),
    rqRetrySuccess: both(cluster.rqRetrySuccess, route.rqRetrySuccess),
    rqRetryLimitExceeded: both(cluster.rqRetryLimitExceeded, route.rqRetryLimitExceeded),
    response: (status) => {
      cluster.response(status);
      route.response(status);
    },
  };
}

/** Each prefixed route's stats, made once per route table version (the store hands out the same counters by name). */
const made = new WeakMap<RouteInfo, RouteStats>();

/** The route's stats, undefined when it has no stat_prefix (or there is no store: some tests). */
export function routeStatsOf(vhost: VirtualHostInfo, route: RouteInfo, root: StatsScope | undefined): RouteStats | undefined {
  if (route.statPrefix === '' || root === undefined) return undefined;
  let r = made.get(route);
  if (r === undefined) {
    r = new RouteStats(root.scope(`vhost.${vhost.name}.route.${route.statPrefix}`));
    made.set(route, r);
  }
  return r;
}

const tees = new WeakMap<RouteStats, WeakMap<ClusterStats, RouterStats>>();

/** What the router counts into for a request: the cluster's stats alone, or with the route's. */
export function routerStats(cluster: ClusterStats, route: RouteStats | undefined): RouterStats {
  if (route === undefined) return cluster;
  let byCluster = tees.get(route);
  if (byCluster === undefined) tees.set(route, (byCluster = new WeakMap()));
  let t = byCluster.get(cluster);
  if (t === undefined) byCluster.set(cluster, (t = tee(cluster, route)));
  return t;
}
