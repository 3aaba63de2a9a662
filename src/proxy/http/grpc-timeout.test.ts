// The gRPC deadline as Envoy's router reads and writes it (Grpc::Common::getGrpcTimeout/toGrpcTimeout and
// FilterUtility::finalTimeout with the legacy max_grpc_timeout Istio sets on every route).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGrpcTimeout, legacyGrpcTimeout, parseGrpcTimeout } from './grpc-timeout.js';
import { requestControls, setTimeoutHeaders } from './router-controls.js';
import { DEFAULT_ROUTER_CONFIG } from '../runtime/compile-router.js';
import { isGrpcRequest } from './local-reply.js';
import type { CompiledRetryPolicy } from './route/types.js';
import type { HeaderMap } from './headers.js';

test('grpc-timeout: 1-8 digits and a unit; micro- and nanoseconds round up to a millisecond', () => {
  const cases: [string | undefined, number | undefined][] = [
    ['1H', 3_600_000], ['2M', 120_000], ['3S', 3000], ['250m', 250], ['1500u', 2], ['1n', 1], ['0m', 0],
    ['123456789m', undefined], ['10', undefined], ['1s', undefined], ['-1S', undefined], ['', undefined], [undefined, undefined],
  ];
  for (const [v, ms] of cases) assert.equal(parseGrpcTimeout(v), ms, String(v));
});

test('grpc-timeout written back: milliseconds while they fit 8 digits, then truncated seconds, minutes, hours', () => {
  assert.deepEqual([formatGrpcTimeout(300), formatGrpcTimeout(99_999_999), formatGrpcTimeout(100_000_000), formatGrpcTimeout(1e14), formatGrpcTimeout(1e20)], ['300m', '99999999m', '100000S', '27777777H', '99999999H']);
});

const grpc = (t?: string): HeaderMap => ({ 'content-type': 'application/grpc', ...(t !== undefined ? { 'grpc-timeout': t } : {}) });
const noRetry = undefined;

const retryPolicy: CompiledRetryPolicy = {
  retryOn: new Set(['5xx']), numRetries: 1, perTryTimeoutMs: 0, perTryIdleTimeoutMs: 0, baseIntervalMs: 25, maxIntervalMs: 250, retriableStatusCodes: new Set<number>(),
  retryHostPredicates: [], avoidPreviousHosts: false, hostSelectionMaxAttempts: 1, previousPrioritiesUpdateFrequency: undefined, retriableHeaders: [], retriableRequestHeaders: [],
};

/** The route timeout a request gets and the headers its first attempt carries upstream. */
function firstAttempt(route: { timeoutMs: number; maxGrpcTimeoutMs: number | undefined; grpcTimeoutOffsetMs: undefined | number }, h: HeaderMap, perTryTimeoutMs = 0): number {
  const retry: CompiledRetryPolicy | undefined = perTryTimeoutMs > 0 ? { ...retryPolicy, perTryTimeoutMs } : noRetry;
  const c = requestControls({ ...route, newTimeouts: false }, retry, h, isGrpcRequest(h['content-type']), DEFAULT_ROUTER_CONFIG);
  setTimeoutHeaders(h, c, 0, false);
  return c.timeoutMs;
}


test('under max_grpc_timeout a gRPC request takes its deadline, capped at the maximum (0: uncapped); the header carries what is enforced', () => {
  const istio = { timeoutMs: 5000, maxGrpcTimeoutMs: 5000, grpcTimeoutOffsetMs: undefined };
  let h = grpc('300m');
  assert.equal(firstAttempt(istio, h), 300);
  assert.equal(h['grpc-timeout'], '300m');
  h = grpc('10S');
  assert.equal(firstAttempt(istio, h), 5000, 'capped at the VirtualService timeout');
  assert.equal(h['grpc-timeout'], '5000m');
  h = grpc();
  assert.equal(firstAttempt(istio, h), 5000, 'no deadline: the maximum');
  const noVsTimeout = { timeoutMs: 0, maxGrpcTimeoutMs: 0, grpcTimeoutOffsetMs: undefined };
  h = grpc('2S');
  assert.equal(firstAttempt(noVsTimeout, h), 2000, 'a max of 0 leaves the deadline uncapped');
  h = grpc();
  assert.equal(firstAttempt(noVsTimeout, h), 0, 'no deadline and no max: no timeout');
  assert.equal(h['grpc-timeout'], undefined);
  h = grpc('2S');
  assert.equal(firstAttempt(noVsTimeout, h, 400), 2000);
  assert.equal(h['grpc-timeout'], '400m', 'a shorter per-try timeout is what the server is told');
});

test('grpc_timeout_offset is taken off when something is left; non-gRPC requests and routes without max_grpc_timeout keep the route timeout', () => {
  const withOffset = { timeoutMs: 0, maxGrpcTimeoutMs: 0, grpcTimeoutOffsetMs: 100 };
  assert.equal(legacyGrpcTimeout(withOffset, grpc('1S')), 900);
  assert.equal(legacyGrpcTimeout(withOffset, grpc('50m')), 50);
  const plain: HeaderMap = { 'content-type': 'application/json', 'grpc-timeout': '1S' };
  assert.equal(firstAttempt({ timeoutMs: 5000, maxGrpcTimeoutMs: 5000, grpcTimeoutOffsetMs: undefined }, plain), 5000);
  assert.equal(plain['grpc-timeout'], '1S');
  assert.equal(firstAttempt({ timeoutMs: 15000, maxGrpcTimeoutMs: undefined, grpcTimeoutOffsetMs: undefined }, grpc('1S')), 15000);
});
