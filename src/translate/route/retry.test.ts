// Retry policy conversion against Istio's retry_test.go expectations.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { convertInboundRetryPolicy, convertRetryPolicy, DEFAULT_RETRY_ON, parseRetryOn } from './retry.js';

describe('convertRetryPolicy', () => {
  it('defaults: 2 retries, Istio retry_on, previous hosts, 5 host selection attempts', () => {
    const p = convertRetryPolicy(undefined, false);
    assert.equal(p?.numRetries, 2);
    assert.equal(p?.retryOn, DEFAULT_RETRY_ON);
    assert.equal(p?.hostSelectionRetryMaxAttempts, 5n);
    assert.deepEqual(p?.retryHostPredicate.map((x) => x.name), ['envoy.retry_host_predicates.previous_hosts']);
  });

  it('consistent hashing keeps retrying the same host', () => {
    assert.deepEqual(convertRetryPolicy(undefined, true)?.retryHostPredicate, []);
  });

  it('attempts 0 disables retries', () => {
    assert.equal(convertRetryPolicy({ attempts: 0 }, false), undefined);
    assert.equal(convertRetryPolicy({ attempts: 0, retryOn: '5xx' }, false), undefined);
  });

  it('status codes in retryOn become retriable_status_codes', () => {
    const p = convertRetryPolicy({ attempts: 3, retryOn: '5xx,503, 429,unavailable', perTryTimeout: '2s' }, false);
    assert.equal(p?.numRetries, 3);
    assert.equal(p?.retryOn, '5xx,unavailable,retriable-status-codes');
    assert.deepEqual(p?.retriableStatusCodes, [503, 429]);
    assert.equal(p?.perTryTimeout?.seconds, 2n);
  });

  it('does not add retriable-status-codes twice', () => {
    assert.equal(convertRetryPolicy({ attempts: 1, retryOn: 'retriable-status-codes,502' }, false)?.retryOn, 'retriable-status-codes');
  });

  it('retryIgnorePreviousHosts false drops the predicate; remote localities add previous priorities; backoff', () => {
    const p = convertRetryPolicy({ attempts: 1, retryIgnorePreviousHosts: false, retryRemoteLocalities: true, backoff: '100ms' }, false);
    assert.deepEqual(p?.retryHostPredicate, []);
    assert.equal(p?.retryPriority?.name, 'envoy.retry_priorities.previous_priorities');
    assert.equal(p?.retryBackOff?.baseInterval?.nanos, 100_000_000);
  });

  it('numbers Go has no status text for stay in retry_on', () => {
    assert.deepEqual(parseRetryOn('599,503,gateway-error'), { retryOn: '599,gateway-error', codes: [503] });
  });

  it('inbound: reset-before-request only', () => {
    const p = convertInboundRetryPolicy(undefined);
    assert.equal(p?.retryOn, 'reset-before-request');
    assert.equal(p?.numRetries, 2);
    assert.deepEqual(p?.retryHostPredicate, []);
  });
});
