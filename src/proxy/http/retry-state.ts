// Envoy's router retry decisions, pure: which outcomes are retriable under a route's retry_on conditions,
// and the fully jittered exponential back-off between attempts.
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#config-http-filters-router-x-envoy-retry-grpc-on

import type { Random } from '../lib/random.js';

export interface RetryPolicy {
  readonly retryOn: ReadonlySet<string>;
  readonly numRetries: number;
  /** 0 = no per-try timeout. */
  readonly perTryTimeoutMs: number;
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly retriableStatusCodes: ReadonlySet<number>;
  /** retry_host_predicate envoy.retry_host_predicates.previous_hosts */
  readonly avoidPreviousHosts: boolean;
  readonly hostSelectionMaxAttempts: number;
  /** retry_priority envoy.retry_priorities.previous_priorities: its update_frequency (undefined: none). */
  readonly previousPrioritiesUpdateFrequency?: number | undefined;
}

/** How one attempt ended. `reset` kinds are before any response header arrived. */
export type AttemptOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly grpcStatus: number | undefined }
  | { readonly kind: 'connect-failure' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'refused-stream' }
  | { readonly kind: 'per-try-timeout' };

const GRPC: ReadonlyMap<string, number> = new Map([
  ['cancelled', 1],
  ['deadline-exceeded', 4],
  ['resource-exhausted', 8],
  ['internal', 13],
  ['unavailable', 14],
]);

export function isRetriable(p: RetryPolicy, o: AttemptOutcome): boolean {
  const on = p.retryOn;
  switch (o.kind) {
    case 'connect-failure':
      return on.has('connect-failure') || on.has('5xx') || on.has('gateway-error') || on.has('reset');
    // RetryStateImpl::wouldRetryFromReset: 5xx and gateway-error count any reset before a response as a 5xx.
    case 'reset':
      return on.has('reset') || on.has('5xx') || on.has('gateway-error');
    case 'refused-stream':
      return on.has('refused-stream') || on.has('5xx') || on.has('gateway-error') || on.has('reset');
    case 'per-try-timeout':
      return on.has('5xx') || on.has('gateway-error') || on.has('reset');
    case 'response': {
      const s = o.status;
      if (on.has('5xx') && s >= 500) return true;
      if (on.has('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
      if (on.has('retriable-4xx') && s === 409) return true;
      if (on.has('retriable-status-codes') && p.retriableStatusCodes.has(s)) return true;
      if (o.grpcStatus !== undefined) for (const [name, code] of GRPC) if (o.grpcStatus === code && on.has(name)) return true;
      return false;
    }
  }
}

/** Fully jittered back-off: uniform in [0, min(max, base * (2^attempt - 1))] (Envoy's JitteredExponentialBackOffStrategy). */
export function backoffMs(p: RetryPolicy, retryNumber: number, random: Random): number {
  const ceiling = Math.min(p.maxIntervalMs, p.baseIntervalMs * (2 ** retryNumber - 1));
  return Math.floor(random.next() * (ceiling + 1));
}
