import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { CircuitBreakersSchema } from '../../xds/gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { RoutingPriority } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { CircuitBreakers, breakerLimits, type BreakerResource } from './circuit-breakers.js';

test('circuit breakers: Envoy defaults 1024/1024/1024 and 3 retries', () => {
  assert.deepEqual({ ...breakerLimits(undefined) }, { connections: 1024, pending: 1024, requests: 1024, retries: 3 });
  const b = new CircuitBreakers();
  assert.equal([1, 2, 3].every(() => b.tryAcquire('retries')), true);
  assert.equal(b.tryAcquire('retries'), false);
});

const LIMITS: { resource: BreakerResource; field: 'maxConnections' | 'maxPendingRequests' | 'maxRequests' | 'maxRetries'; open: string; remaining: string }[] = [
  { resource: 'connections', field: 'maxConnections', open: 'cx_open', remaining: 'remaining_cx' },
  { resource: 'pending', field: 'maxPendingRequests', open: 'rq_pending_open', remaining: 'remaining_pending' },
  { resource: 'requests', field: 'maxRequests', open: 'rq_open', remaining: 'remaining_rq' },
  { resource: 'retries', field: 'maxRetries', open: 'rq_retry_open', remaining: 'remaining_retries' },
];

for (const c of LIMITS) {
  test(`circuit breakers: ${c.field} limits ${c.resource} and opens at the limit`, () => {
    const b = new CircuitBreakers(create(CircuitBreakersSchema, { thresholds: [{ [c.field]: 2 }] }));
    const g = () => b.gauges() as unknown as Record<string, number>;
    assert.equal(b.tryAcquire(c.resource), true);
    assert.equal(g()[c.remaining], 1);
    assert.equal(g()[c.open], 0);
    assert.equal(b.tryAcquire(c.resource), true);
    assert.equal(b.tryAcquire(c.resource), false);
    assert.equal(g()[c.open], 1);
    assert.equal(g()[c.remaining], 0);
    b.release(c.resource);
    assert.equal(g()[c.open], 0);
    assert.equal(b.tryAcquire(c.resource), true);
  });
}

test('circuit breakers: thresholds of the requested priority', () => {
  const proto = create(CircuitBreakersSchema, {
    thresholds: [
      { priority: RoutingPriority.DEFAULT, maxRequests: 5 },
      { priority: RoutingPriority.HIGH, maxRequests: 50 },
    ],
  });
  assert.equal(new CircuitBreakers(proto).limit('requests'), 5);
  assert.equal(new CircuitBreakers(proto, RoutingPriority.HIGH).limit('requests'), 50);
  assert.equal(new CircuitBreakers(create(CircuitBreakersSchema, { thresholds: [{ priority: RoutingPriority.HIGH, maxRequests: 1 }] })).limit('requests'), 1024);
});

test('circuit breakers: release without acquire does not go negative', () => {
  const b = new CircuitBreakers();
  b.release('requests');
  assert.equal(b.current('requests'), 0);
});

test('circuit breakers: a retry budget scales retries with active requests', () => {
  const b = new CircuitBreakers(create(CircuitBreakersSchema, { thresholds: [{ maxRetries: 1, retryBudget: {} }] }));
  assert.equal(b.limit('retries'), 3, 'min_retry_concurrency floor');
  for (let i = 0; i < 40; i++) b.tryAcquire('requests');
  for (let i = 0; i < 10; i++) b.tryAcquire('pending');
  assert.equal(b.limit('retries'), 10, '20% of 50 active');
  const custom = new CircuitBreakers(create(CircuitBreakersSchema, { thresholds: [{ retryBudget: { budgetPercent: { value: 50 }, minRetryConcurrency: 1 } }] }));
  assert.equal(custom.limit('retries'), 1);
  custom.tryAcquire('requests');
  custom.tryAcquire('requests');
  custom.tryAcquire('requests');
  custom.tryAcquire('requests');
  assert.equal(custom.limit('retries'), 2);
});
