// What the router and tcp_proxy need from an upstream cluster, whatever its discovery type or balancer:
// pick a host, get a connection pool to it, hold circuit-breaker slots, and report each attempt's outcome
// to outlier detection. Implemented by UpstreamCluster; tests may implement it over fixed hosts.

import type { ClusterStats, ConnectionEvents } from './cluster-stats.js';
import type { Readable } from 'node:stream';
import type { CompiledCluster, TransportSettings } from '../runtime/compile-cluster.js';
import type { SlotGrant } from './connection-slots.js';
import type { PreviousPriorities } from './previous-priorities.js';
import type { OverrideHost } from './override-host.js';

export type { SlotGrant };

export interface PickedHost {
  readonly address: string;
  readonly port: number;
  /** `address:port`, as Envoy's %UPSTREAM_HOST%. */
  readonly key: string;
  readonly transport: TransportSettings;
  /** The address connections leave from (the cluster's bind config or the pod IP); undefined = the OS's choice. */
  readonly localAddress?: string;
  /** `address` is a Unix domain socket's path (Envoy's pipe address; Istio's Sidecar `unix://` endpoints). */
  readonly pipe?: true;
  /** The endpoint's hostname (EDS Endpoint.hostname, or the DNS name it was resolved from); absent when none. */
  readonly hostname?: string;
}

export interface PickContext {
  /** Request hash for RING_HASH / MAGLEV. */
  readonly hash: bigint | undefined;
  /** Hosts to avoid (previous_hosts retry predicate). */
  readonly avoid: ReadonlySet<string> | undefined;
  /**
   * Host selections to make while each picked host is one to avoid: Envoy's host_selection_retry_max_attempts
   * plus the first (Istio sets 5, so 6); 6 when unset. The last one picked is used anyway.
   */
  readonly selectionAttempts?: number;
  /** ORIGINAL_DST clusters: the destination to connect to (host:port). */
  readonly originalDestination: string | undefined;
  /** The request's previous_priorities retry state: levels it leaves out, and the picked host's level is recorded. */
  readonly priorities?: PreviousPriorities | undefined;
  /** The host the request asks for (a stateful session's cookie or header), chosen before the balancer when it may be. */
  readonly override?: OverrideHost | undefined;
}

/** The HTTP version spoken to an upstream. */
export type WireProtocol = 'http1' | 'http2';

export type HeaderValues = Record<string, string | string[] | undefined>;

/** Controls one upstream request (undici's DispatchController subset). */
export interface DispatchController {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
  /** The local `address:port` of the connection the request went out on, once it has one (%UPSTREAM_LOCAL_ADDRESS%). */
  readonly localAddress?: string | undefined;
}

export interface DispatchRequest {
  readonly path: string;
  readonly method: string;
  readonly headers: HeaderValues;
  readonly body: Readable | null;
  readonly headersTimeout?: number;
  readonly bodyTimeout?: number;
}

/** The callbacks of one upstream request (undici's new-style dispatch handler). */
export interface DispatchHandler {
  onRequestStart(controller: DispatchController, context?: unknown): void;
  /**
   * The request has a connection and is being written: Envoy's ConnPoolImplBase::attachStreamToClient, where
   * `upstream_rq_total` and `upstream_rq_active` are counted (a request whose connection never comes up is not).
   * onRequestStart comes first, at dispatch, so the request can be aborted while it waits.
   */
  onRequestSent?(): void;
  /** The upstream sent `100 Continue` (other 1xx responses are dropped, as Envoy's codecs drop them). */
  onResponseContinue?(controller: DispatchController): void;
  onResponseStart(controller: DispatchController, status: number, headers: HeaderValues, statusMessage?: string): void;
  onResponseData(controller: DispatchController, chunk: Buffer): void;
  onResponseEnd(controller: DispatchController, trailers: HeaderValues): void;
  onResponseError(controller: DispatchController | undefined, error: Error): void;
}

/** A connection pool to one host: undici's HTTP/1.1 Pool, or Http2Upstream. */
export interface UpstreamDispatcher {
  dispatch(req: DispatchRequest, handler: DispatchHandler): boolean;
  close(): Promise<void>;
}

export type BreakerKind = 'requests' | 'pending' | 'retries' | 'connections';
export type ResultKind = '5xx' | 'gateway' | 'local-origin-failure' | 'success';

/** What /clusters prints of a host besides rq_active. */
export interface HostStatsCounters {
  readonly rqTotal: number;
  readonly rqSuccess: number;
  readonly rqError: number;
  readonly rqTimeout: number;
  readonly cxTotal: number;
  readonly cxConnectFail: number;
  /** Connections open now (cx_active). */
  readonly activeConnections: number;
}

/** Envoy's per-host request counters. */
export interface HostRequestCounters {
  rqTotal: number;
  rqSuccess: number;
  rqError: number;
  rqTimeout: number;
}

export interface ClusterHandle {
  readonly config: CompiledCluster;
  /** Envoy's `cluster.<stat name>.*` stats (cluster-stats.ts). */
  readonly envoyStats: ClusterStats;
  pick(ctx: PickContext): PickedHost | undefined;
  /**
   * A pool to the host for the protocol, or the transport failure reason (for example a TLS secret not yet
   * supplied). `authority` (the request's upstream host) feeds auto_sni / auto_san_validation on TLS clusters;
   * `alpn` replaces the cluster's ALPN list on TLS connections (Istio's istio.alpn), in a pool of its own.
   */
  pool(host: PickedHost, protocol: WireProtocol, authority?: string, alpn?: readonly string[]): { readonly ok: true; readonly dispatcher: UpstreamDispatcher } | { readonly ok: false; readonly transportFailure: string };
  tryAcquire(kind: BreakerKind): boolean;
  release(kind: BreakerKind): void;
  /**
   * HTTP/1.1: a connection for one request now ('ready'), once one frees up ('pending': `onReady` runs
   * then) or not at all ('overflow': the pending breaker is open). Pair each non-overflow grant with one
   * releaseConnection(onReady), which also cancels a wait that has not ended.
   */
  acquireConnection(onReady: () => void): SlotGrant;
  releaseConnection(onReady: () => void): void;
  report(host: PickedHost, kind: ResultKind): void;
  /**
   * An upstream response's status and headers, as Envoy's router takes them: the outcome for outlier detection
   * (5xx, gateway error or success), and `x-envoy-immediate-health-check-fail`, which fails the host's active
   * health check at once when the cluster has one.
   */
  reportResponse(host: PickedHost, status: number, headers: Readonly<Record<string, string | string[] | undefined>>): void;
  /**
   * An HTTP attempt handed to the host's pool: counts the host's rq_total and returns its counters, which the
   * router moves as the attempt ends (rq_success, rq_error, rq_timeout; Envoy's per-host stats in /clusters).
   */
  /** Counts a connection to `host` in the cluster's upstream_cx_* and the host's cx_total / cx_active. */
  connectionEvents(host: PickedHost, protocol: 'http1' | 'http2' | 'tcp'): ConnectionEvents;
  requestSent(host: PickedHost): HostRequestCounters;
  /** Per-host active requests, for LEAST_REQUEST. */
  requestStarted(host: PickedHost): void;
  requestEnded(host: PickedHost): void;
}
