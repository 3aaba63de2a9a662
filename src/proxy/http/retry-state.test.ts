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
