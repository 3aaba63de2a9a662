// The route table's public shapes: what a request offers (RouteInput), what the compiled table answers
// (RouteSelection) and the compiled policies the router reads from a selection. Everything here is
// immutable once compiled; a selection is either shared (static routes) or a small per-request object.
// Envoy: source/common/router/config_impl.h (RouteEntry, DirectResponseEntry) is the model.

import type { Any } from '@bufbuild/protobuf/wkt';
import type { Metadata } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { CorsPolicy, Decorator } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { Random } from '../../lib/random.js';

/** Request or response headers: lower-case names, like node's IncomingHttpHeaders. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** What route selection reads from a request. */
export interface RouteInput {
  /** :authority (HTTP/1 Host). */
  readonly authority: string;
  /** :path with its query string. */
  readonly path: string;
  readonly method: string;
  /** The request's effective scheme (what Envoy's connection manager puts in x-forwarded-proto). */
  readonly scheme: 'http' | 'https';
  readonly headers: HeaderMap;
}

/** What header formatters (`%DOWNSTREAM_REMOTE_ADDRESS%` ...) read; a missing value formats as ''. */
export interface HeaderFormatContext {
  readonly downstreamRemoteIp?: string;
  readonly downstreamRemotePort?: number;
  /** `ip:port` of the upstream host, once one is picked. */
  readonly upstreamRemoteAddress?: string;
  /** `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` or `HTTP/3`. */
  readonly protocol?: string;
  readonly hostname?: string;
  /** Read by `%REQ(x)%` when mutating response headers; request mutations read the map they mutate. */
  readonly requestHeaders?: HeaderMap;
}

export type CompileResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: string[] };

/** A FractionalPercent as numbers: a hit when `randomValue % denominator < numerator`. */
export interface Fraction {
  readonly numerator: number;
  /** 100, 10,000 or 1,000,000. */
  readonly denominator: number;
}

/** A compiled RetryPolicy; structurally a router RetryPolicy (src/proxy/http/retry-state.ts). */
export interface CompiledRetryPolicy {
  /** retry_on split on commas, trimmed (x-envoy-retry-on and x-envoy-retry-grpc-on names). */
  readonly retryOn: ReadonlySet<string>;
  readonly numRetries: number;
  /** 0 = no per-try timeout. */
  readonly perTryTimeoutMs: number;
  /** 0 = no per-try idle timeout. */
  readonly perTryIdleTimeoutMs: number;
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly retriableStatusCodes: ReadonlySet<number>;
  /** retry_host_predicate names in order. */
  readonly retryHostPredicates: readonly string[];
  /** envoy.retry_host_predicates.previous_hosts is among the predicates. */
  readonly avoidPreviousHosts: boolean;
  readonly hostSelectionMaxAttempts: number;
  /** The previous_priorities retry priority's update_frequency; undefined without one (retry_priority unset). */
  readonly previousPrioritiesUpdateFrequency: number | undefined;
  /** Response headers that make a response retriable under `retriable-headers`. */
  readonly retriableHeaders: readonly HeaderPredicate[];
  /** The request must match all of these to be retried at all. */
  readonly retriableRequestHeaders: readonly HeaderPredicate[];
}

/** A compiled HeaderMatcher over a plain header map (for retriable_headers and the like). */
export interface HeaderPredicate {
  readonly name: string;
  matchesMap(headers: HeaderMap): boolean;
}

export type CompiledHashPolicy =
  | { readonly kind: 'header'; readonly terminal: boolean; readonly headerName: string; readonly rewrite: ((value: string) => string) | undefined }
  | {
      readonly kind: 'cookie';
      readonly terminal: boolean;
      readonly name: string;
      /** Set: Envoy generates the cookie when absent. */
      readonly ttlMs: number | undefined;
      readonly path: string;
      readonly attributes: readonly { readonly name: string; readonly value: string }[];
    }
  | { readonly kind: 'sourceIp'; readonly terminal: boolean }
  | { readonly kind: 'queryParameter'; readonly terminal: boolean; readonly name: string }
  | { readonly kind: 'filterState'; readonly terminal: boolean; readonly key: string };

export interface CompiledMirrorPolicy {
  /** '' when cluster_header names the cluster. */
  readonly cluster: string;
  readonly clusterHeader: string;
  /** runtime_fraction.default_value; 100% when unset. */
  readonly fraction: Fraction;
  readonly traceSampled: boolean | undefined;
  readonly disableShadowHostSuffixAppend: boolean;
}

/** What a forwarding route tells the router besides the cluster, path and host. */
export interface RouteActionPolicy {
  /** Route timeout; 15 s when unset, 0 = disabled. */
  readonly timeoutMs: number;
  /** undefined: the connection manager's stream_idle_timeout applies; 0 = disabled. */
  readonly idleTimeoutMs: number | undefined;
  /** The route's retry_policy, else the virtual host's. */
  readonly retryPolicy: CompiledRetryPolicy | undefined;
  readonly hashPolicies: readonly CompiledHashPolicy[];
  /** The route's request_mirror_policies, else the virtual host's, else the route configuration's. */
  readonly mirrorPolicies: readonly CompiledMirrorPolicy[];
  /** max_stream_duration is set (Envoy's "new timeouts"): the connection manager times the stream, and the router ignores `timeoutMs` and max_grpc_timeout. */
  readonly newTimeouts: boolean;
  readonly maxStreamDurationMs: number | undefined;
  readonly grpcTimeoutHeaderMaxMs: number | undefined;
  readonly grpcTimeoutHeaderOffsetMs: number | undefined;
  /** Legacy max_grpc_timeout / grpc_timeout_offset. */
  readonly maxGrpcTimeoutMs: number | undefined;
  readonly grpcTimeoutOffsetMs: number | undefined;
  /** auto_host_rewrite: the router sets :authority to the picked host's hostname. */
  readonly autoHostRewrite: boolean;
  readonly appendXForwardedHost: boolean;
  /** Status when the cluster does not exist (cluster_not_found_response_code). */
  readonly clusterNotFoundStatus: number;
  /** upgrade_configs: lower-case upgrade type → enabled. */
  readonly upgrades: ReadonlyMap<string, boolean>;
  /**
   * per_request_buffer_limit_bytes of the route, else of its virtual host (undefined: neither set): caps the
   * request body the router keeps for retries and shadows, below the listener's per_connection_buffer_limit_bytes
   * (Envoy's RouteEntryImplBase::retryShadowBufferLimit).
   */
  readonly retryShadowBufferLimit: number | undefined;
}

/** VirtualHost.virtual_clusters[i]: requests whose headers all match count in its stats (route-stats.ts). */
export interface CompiledVirtualCluster {
  readonly name: string;
  readonly headers: readonly HeaderPredicateLike[];
}

/** A compiled HeaderMatcher as virtual clusters use it (header-matcher.ts CompiledHeaderMatcher). */
export interface HeaderPredicateLike {
  matches(headers: { header(name: string): string | undefined }): boolean;
}

export interface VirtualHostInfo {
  readonly name: string;
  /** virtual_clusters in order; empty: none (and no `other` catch-all). */
  readonly virtualClusters: readonly CompiledVirtualCluster[];
  readonly includeRequestAttemptCount: boolean;
  readonly includeAttemptCountInResponse: boolean;
  readonly includeIsTimeoutRetryHeader: boolean;
  readonly metadata: Metadata | undefined;
}

export interface RouteInfo {
  readonly name: string;
  /** Route.stat_prefix: '' for none; else the route's stats are kept (route-stats.ts). */
  readonly statPrefix: string;
  readonly metadata: Metadata | undefined;
  readonly decorator: Decorator | undefined;
}

/** The CORS policy that applies, raw: the filter's per-route typed config, else the legacy field. */
export type CorsSource = { readonly kind: 'typed'; readonly config: Any } | { readonly kind: 'legacy'; readonly policy: CorsPolicy };

/** What every selection offers, whatever its action. */
export interface SelectionCommon {
  readonly virtualHost: VirtualHostInfo;
  readonly route: RouteInfo;
  readonly cors: CorsSource | undefined;
  /**
   * typed_per_filter_config by filter name, most specific wins (weighted cluster > route > vhost > route
   * config). The Any is as configured: the filter's own config or an envoy.config.route.v3.FilterConfig.
   */
  perFilterConfig(name: string): Any | undefined;
  /** request_headers_to_add/remove of every level, in Envoy's order; mutates `headers`. */
  applyRequestHeaders(headers: HeaderMap, ctx: HeaderFormatContext): void;
  /** response_headers_to_add/remove of every level, in Envoy's order; mutates `headers`. */
  applyResponseHeaders(headers: HeaderMap, ctx: HeaderFormatContext): void;
}

export interface ForwardSelection extends SelectionCommon {
  readonly kind: 'route';
  /** '' when cluster_header named a header the request lacks: answer action.clusterNotFoundStatus. */
  readonly cluster: string;
  /** The path to send upstream (with the query string), or undefined to send the request's path. */
  readonly path: string | undefined;
  /** The :authority to send upstream, or undefined to keep the request's (or auto_host_rewrite). */
  readonly host: string | undefined;
  readonly action: RouteActionPolicy;
}

export interface RedirectSelection extends SelectionCommon {
  readonly kind: 'redirect';
  readonly status: number;
  /** The full Location: scheme://host[:port]/path[?query]. */
  readonly location: string;
}

export interface DirectResponseSelection extends SelectionCommon {
  readonly kind: 'directResponse';
  readonly status: number;
  readonly body: Uint8Array | undefined;
}

export type RouteSelection = ForwardSelection | RedirectSelection | DirectResponseSelection;

export interface CompiledRouteConfig {
  readonly name: string;
  /** internal_only_headers, lower-case: removed from external requests by the connection manager. */
  readonly internalOnlyHeaders: readonly string[];
  /** undefined: no virtual host or no route matches (the caller answers 404, response flag NR). */
  select(input: RouteInput, random: Random): RouteSelection | undefined;
}
