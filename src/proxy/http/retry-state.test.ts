import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRetriable, type AttemptOutcome, type RetryPolicy } from './retry-state.js';

function policy(retryOn: string, codes: number[] = []): RetryPolicy {
  return {
    retryOn: new Set(retryOn.split(',')),
    numRetries: 2,
    perTryTimeoutMs: 0,
    baseIntervalMs: 25,
    maxIntervalMs: 250,
    retriableStatusCodes: new Set(codes),
    avoidPreviousHosts: false,
    hostSelectionMaxAttempts: 1,
  };
}

const response = (status: number, grpcStatus?: number): AttemptOutcome => ({ kind: 'response', status, grpcStatus });

// RetryStateImpl::wouldRetryFromHeaders / wouldRetryFromReset.
const cases: { name: string; retryOn: string; codes?: number[]; outcome: AttemptOutcome; want: boolean }[] = [
  { name: '5xx retries a 500', retryOn: '5xx', outcome: response(500), want: true },
  { name: 'gateway-error does not retry a 500', retryOn: 'gateway-error', outcome: response(500), want: false },
  { name: 'gateway-error retries 502, 503, 504', retryOn: 'gateway-error', outcome: response(503), want: true },
  { name: 'retriable-status-codes with no codes retries nothing', retryOn: 'retriable-status-codes', outcome: response(503), want: false },
  { name: 'retriable-status-codes with 503', retryOn: 'retriable-status-codes', codes: [503], outcome: response(503), want: true },
  { name: 'retriable-4xx retries 409 only', retryOn: 'retriable-4xx', outcome: response(404), want: false },
  { name: 'gRPC unavailable', retryOn: 'unavailable', outcome: response(200, 14), want: true },
  { name: 'gRPC cancelled does not cover unavailable', retryOn: 'cancelled', outcome: response(200, 14), want: false },
  { name: 'connect-failure on a connect failure', retryOn: 'connect-failure', outcome: { kind: 'connect-failure' }, want: true },
  { name: 'connect-failure not on a reset', retryOn: 'connect-failure', outcome: { kind: 'reset' }, want: false },
  { name: 'gateway-error counts a reset as a 5xx', retryOn: 'gateway-error', outcome: { kind: 'reset' }, want: true },
  { name: '5xx counts a reset as a 5xx', retryOn: '5xx', outcome: { kind: 'reset' }, want: true },
  { name: 'gateway-error on a refused stream', retryOn: 'gateway-error', outcome: { kind: 'refused-stream' }, want: true },
  { name: 'refused-stream on a refused stream', retryOn: 'refused-stream', outcome: { kind: 'refused-stream' }, want: true },
  { name: 'a per-try timeout under gateway-error', retryOn: 'gateway-error', outcome: { kind: 'per-try-timeout' }, want: true },
  { name: "a per-try timeout under Istio's default conditions", retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', outcome: { kind: 'per-try-timeout' }, want: false },
];

for (const c of cases) {
  test(`retriable: ${c.name}`, () => assert.equal(isRetriable(policy(c.retryOn, c.codes), c.outcome), c.want));
}

// Conditions that need more than the status: reset-before-request (only while nothing reached the upstream),
// envoy-ratelimited (a response an upstream Envoy rate limited: x-envoy-ratelimited, retried under no other
// condition), retriable-headers (response headers matching retriable_headers).
test('reset-before-request retries resets of requests that never reached the upstream, and connection failures', () => {
  const p = policy('reset-before-request');
  assert.equal(isRetriable(p, { kind: 'reset', started: false }), true);
  assert.equal(isRetriable(p, { kind: 'reset', started: true }), false);
  assert.equal(isRetriable(p, { kind: 'connect-failure' }), true);
  assert.equal(isRetriable(p, response(503)), false);
});

test('a response with x-envoy-ratelimited is retried under envoy-ratelimited only, whatever its status', () => {
  const limited: AttemptOutcome = { kind: 'response', status: 429, grpcStatus: undefined, headers: { 'x-envoy-ratelimited': 'true' } };
  assert.equal(isRetriable(policy('envoy-ratelimited'), limited), true);
  assert.equal(isRetriable(policy('retriable-status-codes', [429]), limited), false);
  assert.equal(isRetriable(policy('5xx'), { ...limited, status: 503 }), false);
  assert.equal(isRetriable(policy('envoy-ratelimited'), response(429)), false);
});

test('retriable-headers retries a response whose headers match one of retriable_headers', () => {
  const p: RetryPolicy = { ...policy('retriable-headers'), retriableHeaders: [{ name: 'x-upstream-busy', matchesMap: (h) => h['x-upstream-busy'] !== undefined }] };
  assert.equal(isRetriable(p, { kind: 'response', status: 200, grpcStatus: undefined, headers: { 'x-upstream-busy': '1' } }), true);
  assert.equal(isRetriable(p, { kind: 'response', status: 200, grpcStatus: undefined, headers: {} }), false);
  assert.equal(isRetriable(policy('5xx'), { kind: 'response', status: 200, grpcStatus: undefined, headers: { 'x-upstream-busy': '1' } }), false);
});
