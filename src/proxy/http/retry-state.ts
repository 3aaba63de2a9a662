// Envoy's router retry decisions, pure: which outcomes are retriable under a route's retry_on conditions,
// and the fully jittered exponential back-off between attempts.
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#config-http-filters-router-x-envoy-retry-grpc-on

import type { Random } from '../lib/random.js';
import type { HeaderMap } from './headers.js';
import type { HeaderPredicate } from './route/types.js';

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
  /** retriable_headers (and x-envoy-retriable-header-names): under `retriable-headers`, a response matching one is retried. */
  readonly retriableHeaders?: readonly HeaderPredicate[] | undefined;
}

/**
 * How one attempt ended. `reset` kinds are before any response header arrived; `started` is whether the
 * request had reached the upstream connection (Envoy's upstream_request_started, for reset-before-request).
 */
export type AttemptOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly grpcStatus: number | undefined; readonly headers?: HeaderMap }
  | { readonly kind: 'connect-failure' }
  | { readonly kind: 'reset'; readonly started?: boolean }
  | { readonly kind: 'refused-stream'; readonly started?: boolean }
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
    // RetryStateImpl::wouldRetryFromReset: a connection failure is never "started"; 5xx and gateway-error count
    // any reset before a response as a 5xx.
    case 'connect-failure':
      return on.has('connect-failure') || on.has('reset-before-request') || on.has('5xx') || on.has('gateway-error') || on.has('reset');
    case 'reset':
      return (on.has('reset-before-request') && o.started === false) || on.has('reset') || on.has('5xx') || on.has('gateway-error');
    case 'refused-stream':
      return on.has('refused-stream') || (on.has('reset-before-request') && o.started === false) || on.has('5xx') || on.has('gateway-error') || on.has('reset');
    case 'per-try-timeout':
      return on.has('5xx') || on.has('gateway-error') || on.has('reset');
    case 'response': {
      // wouldRetryFromHeaders: a response an upstream Envoy rate limited is retried only under envoy-ratelimited.
      if (o.headers?.['x-envoy-ratelimited'] !== undefined) return on.has('envoy-ratelimited');
      const s = o.status;
      if (on.has('5xx') && s >= 500) return true;
      if (on.has('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
      if (on.has('retriable-4xx') && s === 409) return true;
      if (on.has('retriable-status-codes') && p.retriableStatusCodes.has(s)) return true;
      if (on.has('retriable-headers') && o.headers !== undefined && p.retriableHeaders !== undefined) {
        for (const m of p.retriableHeaders) if (m.matchesMap(o.headers)) return true;
      }
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
