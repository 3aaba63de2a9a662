// envoy.config.route.v3.RetryPolicy compiled for the router. Defaults as Envoy's RetryPolicyImpl:
// num_retries 1 when a policy exists, no per-try timeout, back-off base 25 ms and max 10x the base
// (a max below the base is rejected). retry_on is split on commas and trimmed; names the router does not
// know are kept and simply never fire (Envoy ignores them in route configuration too).
// retry_options_predicates and rate_limited_retry_back_off are accepted and not compiled (they refine
// upstream options and back-off from reset headers; without them retries still follow this policy).
// A route's policy replaces the virtual host's entirely (no merging); the caller picks which applies.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-retrypolicy
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-max-retries

import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { RetryPolicy, RetryPolicy_RetryPriority } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { PreviousPrioritiesConfigSchema } from '../../../xds/gen/envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config_pb.js';
import { compileHeaderMatchers } from './header-matcher.js';
import { durationMs, optionalDurationMs } from './proto-values.js';
import type { CompiledRetryPolicy } from './types.js';

export const DEFAULT_BASE_INTERVAL_MS = 25;
export const PREVIOUS_HOSTS_PREDICATE = 'envoy.retry_host_predicates.previous_hosts';
const PREVIOUS_HOSTS_TYPE = 'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';
const PREVIOUS_PRIORITIES = 'envoy.retry_priorities.previous_priorities';

/**
 * retry_priority: Envoy's previous_priorities (its update_frequency), the one retry priority it ships; an
 * extension is known by its typed_config's type, or by name without one. Another is refused, as Envoy
 * refuses an extension it has no implementation of.
 */
function previousPrioritiesOf(rp: RetryPolicy_RetryPriority | undefined, path: string, problems: string[]): number | undefined {
  if (rp === undefined) return undefined;
  const any = rp.configType.case === 'typedConfig' ? rp.configType.value : undefined;
  if (any === undefined ? rp.name !== PREVIOUS_PRIORITIES : !any.typeUrl.endsWith(PreviousPrioritiesConfigSchema.typeName)) {
    problems.push(`${path}.retry_priority: unsupported retry priority ${any?.typeUrl ?? rp.name}; supported: ${PREVIOUS_PRIORITIES}`);
    return undefined;
  }
  const cfg = any !== undefined ? anyUnpack(any, PreviousPrioritiesConfigSchema) : undefined;
  if (any !== undefined && cfg === undefined) problems.push(`${path}.retry_priority.typed_config: cannot decode PreviousPrioritiesConfig`);
  // PGV: update_frequency > 0 (so a config without one is refused too, as Envoy's validation refuses it).
  if ((cfg?.updateFrequency ?? 0) <= 0) {
    problems.push(`${path}.retry_priority.typed_config.update_frequency: value must be greater than 0`);
    return undefined;
  }
  return cfg?.updateFrequency;
}

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
  // previous_hosts is the one host predicate here (omit_canary_hosts and omit_host_metadata are not).
  p.retryHostPredicate.forEach((h, i) => {
    const type = h.configType.case === 'typedConfig' ? h.configType.value.typeUrl : undefined;
    if (type === undefined ? h.name !== PREVIOUS_HOSTS_PREDICATE : !type.endsWith(PREVIOUS_HOSTS_TYPE)) {
      problems.push(`${path}.retry_host_predicate[${i}]: unsupported retry host predicate ${type ?? h.name}; supported: ${PREVIOUS_HOSTS_PREDICATE}`);
    }
  });
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
    previousPrioritiesUpdateFrequency: previousPrioritiesOf(p.retryPriority, path, problems),
    retriableHeaders: compileHeaderMatchers(p.retriableHeaders, `${path}.retriable_headers`, problems),
    retriableRequestHeaders: compileHeaderMatchers(p.retriableRequestHeaders, `${path}.retriable_request_headers`, problems),
  });
}
