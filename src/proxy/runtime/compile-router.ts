// The router filter's config (envoy.extensions.filters.http.router.v3.Router). What the proxy acts on:
// suppress_envoy_headers, respect_expected_rq_timeout and strict_check_headers (router-controls.ts).
// start_child_span (Istio sets it where tracing is on) is accepted: the stream's one span covers the upstream
// request, without Envoy's child span per attempt. dynamic_stats (default on) is accepted on; turned off, or
// upstream access logs, upstream HTTP filters and suppressed gRPC failure code stats, it is refused rather
// than ignored.

import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { RouterSchema } from '../../xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';

/** The router filter's own config (envoy.extensions.filters.http.router.v3.Router), as the proxy acts on it. */
export interface RouterConfig {
  /** No x-envoy-expected-rq-timeout-ms upstream, no x-envoy-upstream-service-time and x-envoy-overloaded downstream. */
  readonly suppressEnvoyHeaders: boolean;
  readonly respectExpectedRqTimeout: boolean;
  /** Headers whose values are checked, a bad one answered 400 (lower case). */
  readonly strictCheckHeaders: readonly string[];
}

export const DEFAULT_ROUTER_CONFIG: RouterConfig = Object.freeze({ suppressEnvoyHeaders: false, respectExpectedRqTimeout: false, strictCheckHeaders: Object.freeze([]) });

/** The headers strict_check_headers may name (the field's PGV rule). */
export const STRICT_CHECKABLE: readonly string[] = ['x-envoy-upstream-rq-timeout-ms', 'x-envoy-upstream-rq-per-try-timeout-ms', 'x-envoy-max-retries', 'x-envoy-retry-grpc-on', 'x-envoy-retry-on'];

/** `path` is the filter's typed_config field path. */
export function compileRouterFilter(a: Any, path: string, problems: string[]): RouterConfig {
  const r = anyUnpack(a, RouterSchema);
  if (r === undefined) {
    problems.push(`${path}: cannot decode ${RouterSchema.typeName}`);
    return DEFAULT_ROUTER_CONFIG;
  }
  if (r.dynamicStats === false) problems.push(`${path}.dynamic_stats: false is not supported`);
  if (r.upstreamLog.length > 0 || r.upstreamLogOptions !== undefined) problems.push(`${path}.upstream_log: upstream access logs are not supported`);
  if (r.upstreamHttpFilters.length > 0) problems.push(`${path}.upstream_http_filters: upstream HTTP filters are not supported`);
  if (r.suppressGrpcRequestFailureCodeStats) problems.push(`${path}.suppress_grpc_request_failure_code_stats: not supported`);
  r.strictCheckHeaders.forEach((h, i) => {
    // PGV: each item in the list the router can check.
    if (!STRICT_CHECKABLE.includes(h)) problems.push(`${path}.strict_check_headers[${i}]: value must be in list [${STRICT_CHECKABLE.join(' ')}]`);
  });
  if (!r.suppressEnvoyHeaders && !r.respectExpectedRqTimeout && r.strictCheckHeaders.length === 0) return DEFAULT_ROUTER_CONFIG;
  return Object.freeze({ suppressEnvoyHeaders: r.suppressEnvoyHeaders, respectExpectedRqTimeout: r.respectExpectedRqTimeout, strictCheckHeaders: Object.freeze([...r.strictCheckHeaders]) });
}
