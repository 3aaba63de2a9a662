// Route-level and virtual cluster stats: a route with a `stat_prefix` (Istio sets it from a VirtualService match's `statPrefix`)
// counts its requests under `vhost.<virtual host name>.route.<stat_prefix>.`, the stats Envoy documents for
// virtual clusters: upstream_rq_total (each attempt sent upstream, with the cluster's), upstream_rq_retry,
// upstream_rq_retry_limit_exceeded, upstream_rq_retry_overflow, upstream_rq_retry_success,
// upstream_rq_timeout (the route timeout), and the upstream responses forwarded: upstream_rq_completed,
// upstream_rq_<code> and upstream_rq_<N>xx (CodeStatsImpl::chargeResponseStat's route block).
// A virtual host with `virtual_clusters` counts each request the same way under
// `vhost.<virtual host name>.vcluster.<name>.`: the first virtual cluster whose header matchers all hold, else
// Envoy's catch-all `other` (%VIRTUAL_CLUSTER_NAME% in the access log).
// The router counts through RouterStats: the cluster's own stats when neither applies (nothing more per
// request), or all of them at once.
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

let nextId = 0;

/** One route's (stat_prefix) or virtual cluster's stats. */
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
  /** Names this object among the route and virtual cluster stats a cluster is counted with (routerStats). */
  readonly id = String(nextId++);

  /** `scope` is `vhost.<name>.route.<stat_prefix>` or `vhost.<name>.vcluster.<name>`. */
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

const all = (xs: readonly Increment[]): Increment => ({
  inc: () => {
    for (const x of xs) x.inc();
  },
});

/** The cluster's stats and the route's and virtual cluster's, counted together. */
function tee(cluster: ClusterStats, extra: readonly RouteStats[]): RouterStats {
  const sinks: readonly (ClusterStats | RouteStats)[] = [cluster, ...extra];
  return {
    rqTotal: all(sinks.map((x) => x.rqTotal)),
    rqTimeout: all(sinks.map((x) => x.rqTimeout)),
    rqRetry: all(sinks.map((x) => x.rqRetry)),
    rqRetrySuccess: all(sinks.map((x) => x.rqRetrySuccess)),
    rqRetryLimitExceeded: all(sinks.map((x) => x.rqRetryLimitExceeded)),
    response: (status) => {
      for (const x of sinks) x.response(status);
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

/** Envoy's catch-all virtual cluster, for requests no configured one matches. */
export const OTHER_VIRTUAL_CLUSTER = 'other';

/**
 * VirtualHostImpl::virtualCluster: the first of the virtual host's virtual clusters whose header matchers
 * all hold, else `other`; undefined when it has none.
 */
export function virtualClusterOf(vhost: VirtualHostInfo, headers: { header(name: string): string | undefined }): string | undefined {
  const vcs = vhost.virtualClusters;
  if (vcs.length === 0) return undefined;
  for (const vc of vcs) if (vc.headers.every((m) => m.matches(headers))) return vc.name;
  return OTHER_VIRTUAL_CLUSTER;
}

const vclusters = new WeakMap<VirtualHostInfo, Map<string, RouteStats>>();

/** The stats of the virtual host's virtual cluster `name` (`vhost.<vhost>.vcluster.<name>.`). */
export function virtualClusterStatsOf(vhost: VirtualHostInfo, name: string, root: StatsScope | undefined): RouteStats | undefined {
  if (root === undefined) return undefined;
  let byName = vclusters.get(vhost);
  if (byName === undefined) vclusters.set(vhost, (byName = new Map()));
  let r = byName.get(name);
  if (r === undefined) byName.set(name, (r = new RouteStats(root.scope(`vhost.${vhost.name}.vcluster.${name}`))));
  return r;
}

const tees = new WeakMap<ClusterStats, Map<string, { readonly parts: readonly RouteStats[]; readonly stats: RouterStats }>>();

/** What the router counts into for a request: the cluster's stats alone, or with the route's and the virtual cluster's. */
export function routerStats(cluster: ClusterStats, route: RouteStats | undefined, vcluster?: RouteStats): RouterStats {
  if (route === undefined && vcluster === undefined) return cluster;
  const parts = [route, vcluster].filter((x): x is RouteStats => x !== undefined);
  let byParts = tees.get(cluster);
  if (byParts === undefined) tees.set(cluster, (byParts = new Map()));
  const key = parts.map((p) => p.id).join('|');
  const hit = byParts.get(key);
  if (hit !== undefined && hit.parts.every((p, i) => p === parts[i])) return hit.stats;
  const stats = tee(cluster, parts);
  byParts.set(key, { parts, stats });
  return stats;
}
