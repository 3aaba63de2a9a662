// Envoy's HTTP connection manager stats, `http.<stat_prefix>.*`
// (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/stats): one set of handles per
// stat prefix. The connection manager keeps the connection and stream-end ones, the data plane the per-request
// totals it counts as streams complete; both get the same handles from the store, by name, so every connection
// manager of a prefix, and one a config update replaces while its last streams finish, count together (which is
// why the gauges move by increments).

import type { Counter, Gauge } from '../stats/metric.js';
import type { StatsScope } from '../stats/stats-store.js';

export class HcmStats {
  readonly rqTotal: Counter;
  /** downstream_rq_1xx ... downstream_rq_5xx. */
  readonly rqByClass: readonly Counter[];
  readonly rqHttp1Total: Counter;
  readonly rqHttp2Total: Counter;
  /** Streams in flight. */
  readonly rqActive: Gauge;
  readonly cxTotal: Counter;
  readonly cxHttp1Total: Counter;
  readonly cxHttp2Total: Counter;
  readonly cxActive: Gauge;
  readonly cxDestroy: Counter;
  /** Streams the client cut short (a closed connection, an HTTP/2 RST_STREAM). */
  readonly rqRxReset: Counter;
  /** Streams the proxy reset. */
  readonly rqTxReset: Counter;
  /** Codec errors answered 400 or 431. */
  readonly cxProtocolError: Counter;
  /** 408 after request_headers_timeout. */
  readonly rqHeaderTimeout: Counter;
  /** 408 after request_timeout. */
  readonly rqTimeout: Counter;
  /** Streams ended by stream_idle_timeout (or a route's idle_timeout). */
  readonly rqIdleTimeout: Counter;
  /** Streams ended at their maximum duration (max_stream_duration, or a gRPC deadline under grpc_timeout_header_max). */
  readonly rqMaxDurationReached: Counter;
  /** HTTP/1.1 connections closed after the idle timeout. */
  readonly cxIdleTimeout: Counter;
  readonly cxMaxDurationReached: Counter;
  readonly cxMaxRequestsReached: Counter;
  /** Requests answered 400 because their path could not be normalized (or carried a fragment). */
  readonly rqFailedPathNormalization: Counter;
  /** Requests redirected to their path with escaped slashes unescaped (UNESCAPE_AND_REDIRECT). */
  readonly rqRedirectedWithNormalizedPath: Counter;
  /** HTTP/1.1 responses that started before their request had all arrived (the connection then closes). */
  readonly rqResponseBeforeRqComplete: Counter;
  /** Upgrade requests of a type upgrade_configs does not enable (answered 403). */
  readonly rqWsOnNonWsRoute: Counter;

  constructor(scope: StatsScope, statPrefix: string) {
    const s = scope.scope(`http.${statPrefix}`);
    this.rqTotal = s.counter('downstream_rq_total');
    this.rqByClass = [1, 2, 3, 4, 5].map((k) => s.counter(`downstream_rq_${k}xx`));
    this.rqHttp1Total = s.counter('downstream_rq_http1_total');
    this.rqHttp2Total = s.counter('downstream_rq_http2_total');
    this.rqActive = s.gauge('downstream_rq_active');
    this.cxTotal = s.counter('downstream_cx_total');
    this.cxHttp1Total = s.counter('downstream_cx_http1_total');
    this.cxHttp2Total = s.counter('downstream_cx_http2_total');
    this.cxActive = s.gauge('downstream_cx_active');
    this.cxDestroy = s.counter('downstream_cx_destroy');
    this.rqRxReset = s.counter('downstream_rq_rx_reset');
    this.rqTxReset = s.counter('downstream_rq_tx_reset');
    this.cxProtocolError = s.counter('downstream_cx_protocol_error');
    this.rqHeaderTimeout = s.counter('downstream_rq_header_timeout');
    this.rqTimeout = s.counter('downstream_rq_timeout');
    this.cxIdleTimeout = s.counter('downstream_cx_idle_timeout');
    this.cxMaxDurationReached = s.counter('downstream_cx_max_duration_reached');
    this.cxMaxRequestsReached = s.counter('downstream_cx_max_requests_reached');
    this.rqIdleTimeout = s.counter('downstream_rq_idle_timeout');
    this.rqMaxDurationReached = s.counter('downstream_rq_max_duration_reached');
    this.rqFailedPathNormalization = s.counter('downstream_rq_failed_path_normalization');
    this.rqRedirectedWithNormalizedPath = s.counter('downstream_rq_redirected_with_normalized_path');
    this.rqResponseBeforeRqComplete = s.counter('downstream_rq_response_before_rq_complete');
    this.rqWsOnNonWsRoute = s.counter('downstream_rq_ws_on_non_ws_route');
  }
}
