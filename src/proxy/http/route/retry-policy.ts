// envoy.config.route.v3.RetryPolicy compiled for the router. Defaults as Envoy's RetryPolicyImpl:
// num_retries 1 when a policy exists, no per-try timeout, back-off base 25 ms and max 10x the base
// (a max below the base is rejected). retry_on is split on commas and trimmed; names the router does not
// know are kept and simply never fire (Envoy ignores them in route configuration too).
// retry_options_predicates and rate_limited_retry_back_off are accepted and not compiled (they refine
// upstream options and back-off from reset headers; without them retries still follow this policy).
// A route's policy replaces the virtual host's entirely (no merging); the caller picks which applies.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-retrypolicy
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-max-retries

import type { RetryPolicy } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { compileHeaderMatchers } from './header-matcher.js';
import { durationMs, optionalDurationMs } from './proto-values.js';
import type { CompiledRetryPolicy } from './types.js';

export const DEFAULT_BASE_INTERVAL_MS = 25;
export const PREVIOUS_HOSTS_PREDICATE = 'envoy.retry_host_predicates.previous_hosts';

export function compileRetryPolicy(p: RetryPolicy, path: string, problems: string[]): CompiledRetryPolicy {
  const retryOn = new Set<string>();
  for (const token of p.retryOn.split(',')) {
    const t = token.trim();
    if (t !== '') retryOn.add(t);
  }
  let baseIntervalMs = DEFAULT_BASE_INTERVAL_MS;
  let maxIntervalMs = DEFAULT_BASE_INTERVAL_MS * 10;
  const b = p.retryBackOff;
  if (b !== undefined) {
    if (b.baseInterval === undefined) problems.push(`${path}.retry_back_off.base_interval: must be set`);
    else {
      const base = durationMs(b.baseInterval, `${path}.retry_back_off.base_interval`, problems);
      if (b.baseInterval.seconds === 0n && b.baseInterval.nanos === 0) problems.push(`${path}.retry_back_off.base_interval: must be greater than 0`);
      // Envoy rounds sub-millisecond intervals up to 1 ms.
      baseIntervalMs = Math.max(1, base ?? DEFAULT_BASE_INTERVAL_MS);
    }
    maxIntervalMs = baseIntervalMs * 10;
    const max = optionalDurationMs(b.maxInterval, `${path}.retry_back_off.max_interval`, problems);
    if (max !== undefined) {
      if (max < baseIntervalMs) problems.push(`${path}.retry_back_off.max_interval: must be greater than or equal to the base_interval`);
      maxIntervalMs = max;
    }
  }
  const retryHostPredicates = p.retryHostPredicate.map((h) => h.name);
  const hostAttempts = Number(p.hostSelectionRetryMaxAttempts);
  return Object.freeze({
    retryOn,
    numRetries: p.numRetries ?? 1,
    perTryTimeoutMs: optionalDurationMs(p.perTryTimeout, `${path}.per_try_timeout`, problems) ?? 0,
    perTryIdleTimeoutMs: optionalDurationMs(p.perTryIdleTimeout, `${path}.per_try_idle_timeout`, problems) ?? 0,
    baseIntervalMs,
    maxIntervalMs,
    retriableStatusCodes: new Set(p.retriableStatusCodes),
    retryHostPredicates: Object.freeze(retryHostPredicates),
    avoidPreviousHosts: retryHostPredicates.includes(PREVIOUS_HOSTS_PREDICATE),
    // "If unspecified, this will default to retrying once."
    hostSelectionMaxAttempts: hostAttempts > 0 ? hostAttempts : 1,
    retryPriority: p.retryPriority?.name,
    retriableHeaders: compileHeaderMatchers(p.retriableHeaders, `${path}.retriable_headers`, problems),
    retriableRequestHeaders: compileHeaderMatchers(p.retriableRequestHeaders, `${path}.retriable_request_headers`, problems),
  });
}
