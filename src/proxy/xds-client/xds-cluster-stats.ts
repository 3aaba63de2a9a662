// Envoy's cluster stats for the ADS cluster itself (`cluster.xds-grpc.*` under Istio's bootstrap), which
// Istio's default stats inclusion exports (`envoy_cluster_upstream_cx_connect_fail{cluster_name="xds-grpc"}`
// is how a scrape tells that a proxy cannot reach its control plane). The ADS stream runs on a gRPC channel,
// not on the data plane's cluster manager, so the counts come from the channel's connectivity states
// (grpc-js calls a watcher synchronously on each change, so none is missed):
// - upstream_cx_total, upstream_cx_http2_total: the channel became READY (a connection is up);
// - upstream_cx_active (gauge): 1 while READY;
// - upstream_cx_destroy: READY was left (the connection closed, either side);
// - upstream_cx_connect_fail: CONNECTING ended in TRANSIENT_FAILURE;
// - upstream_rq_total, upstream_rq_active (gauge): ADS streams opened, and the one open now;
// - membership_total and membership_healthy (gauges): 1, the bootstrap's single static endpoint, which Envoy
//   counts healthy (no health check).
// Names from https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats.

import { connectivityState, type ChannelInterface } from '@grpc/grpc-js';
import type { Counter, Gauge } from '../stats/metric.js';
import type { StatsScope } from '../stats/stats-store.js';

/** The part of a grpc-js channel watched (Client.getChannel()). */
export type WatchedChannel = Pick<ChannelInterface, 'getConnectivityState' | 'watchConnectivityState'>;

export class XdsClusterStats {
  readonly #cxTotal: Counter;
  readonly #cxHttp2Total: Counter;
  readonly #cxActive: Gauge;
  readonly #cxDestroy: Counter;
  readonly #cxConnectFail: Counter;
  readonly #rqTotal: Counter;
  readonly #rqActive: Gauge;
  #stopped = false;

  /** `scope` is the cluster's, e.g. `store.scope('cluster.xds-grpc')`. */
  constructor(scope: StatsScope) {
    this.#cxTotal = scope.counter('upstream_cx_total');
    this.#cxHttp2Total = scope.counter('upstream_cx_http2_total');
    this.#cxActive = scope.gauge('upstream_cx_active');
    this.#cxDestroy = scope.counter('upstream_cx_destroy');
    this.#cxConnectFail = scope.counter('upstream_cx_connect_fail');
    this.#rqTotal = scope.counter('upstream_rq_total');
    this.#rqActive = scope.gauge('upstream_rq_active');
    scope.gauge('membership_total').set(1);
    scope.gauge('membership_healthy').set(1);
  }

  /** Follows the channel's states until it shuts down or stop() is called. */
  watch(channel: WatchedChannel): void {
    let last = channel.getConnectivityState(false);
    const next = (): void => {
      if (this.#stopped || last === connectivityState.SHUTDOWN) return;
      channel.watchConnectivityState(last, Infinity, (error) => {
        if (error !== undefined || this.#stopped) return;
        const now = channel.getConnectivityState(false);
        this.#transition(last, now);
        last = now;
        next();
      });
    };
    next();
  }

  stop(): void {
    this.#stopped = true;
    this.#cxActive.set(0);
    this.#rqActive.set(0);
  }

  /** An ADS stream was opened. */
  streamStarted(): void {
    this.#rqTotal.inc();
    this.#rqActive.set(1);
  }

  /** The ADS stream ended. */
  streamEnded(): void {
    this.#rqActive.set(0);
  }

  #transition(from: connectivityState, to: connectivityState): void {
    if (to === connectivityState.READY && from !== connectivityState.READY) {
      this.#cxTotal.inc();
      this.#cxHttp2Total.inc();
      this.#cxActive.set(1);
    } else if (from === connectivityState.READY && to !== connectivityState.READY) {
      this.#cxDestroy.inc();
      this.#cxActive.set(0);
    }
    if (from === connectivityState.CONNECTING && to === connectivityState.TRANSIENT_FAILURE) this.#cxConnectFail.inc();
  }
}
