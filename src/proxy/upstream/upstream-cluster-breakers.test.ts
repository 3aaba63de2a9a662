// A live cluster's circuit breakers come from its thresholds for the DEFAULT priority, retry_budget included:
// Istio turns a DestinationRule's trafficPolicy.retryBudget into one, and Envoy then ignores max_retries
// (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/circuit_breaker.proto: "If retry
// budget is set, max_retries is ignored"). The cluster used to read max_retries alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { systemClock } from '../../lib/clock.js';
import { compileCluster } from '../runtime/compile-cluster.js';
import { mathRandom } from '../lib/random.js';
import { NO_SECRETS } from './connection-pools.js';
import { UpstreamCluster } from './upstream-cluster.js';

function live(circuitBreakers: JsonObject): UpstreamCluster {
  const c = compileCluster(fromJson(ClusterSchema, { name: 'c', type: 'STATIC', circuitBreakers }, { registry: XDS_REGISTRY }));
  assert.ok(c.ok);
  return new UpstreamCluster(c.value, { random: mathRandom, clock: systemClock, secrets: NO_SECRETS }, undefined);
}

test('a retry budget sets the retries limit (min_retry_concurrency with no load), not max_retries', () => {
  const u = live({ thresholds: [{ maxRetries: 1, retryBudget: { budgetPercent: { value: 20 }, minRetryConcurrency: 4 } }] });
  const taken = Array.from({ length: 5 }, () => u.tryAcquire('retries'));
  assert.deepEqual(taken, [true, true, true, true, false]);
  u.close();
});

test('without a budget, max_retries is the limit', () => {
  const u = live({ thresholds: [{ maxRetries: 1, maxRequests: 2 }] });
  assert.deepEqual([u.tryAcquire('retries'), u.tryAcquire('retries'), u.tryAcquire('requests'), u.tryAcquire('requests'), u.tryAcquire('requests')], [true, false, true, true, false]);
  u.close();
});

test('per_host_thresholds are refused: busy connections are counted per cluster, not per host', () => {
  const c = compileCluster(fromJson(ClusterSchema, { name: 'c', type: 'STATIC', circuitBreakers: { thresholds: [{ maxConnections: 10 }], perHostThresholds: [{ maxConnections: 2 }] } }, { registry: XDS_REGISTRY }));
  assert.deepEqual(c.ok ? [] : c.problems, ['circuit_breakers.per_host_thresholds: per-host circuit breaker limits are not supported']);
  const withoutPerHost = compileCluster(fromJson(ClusterSchema, { name: 'c', type: 'STATIC', circuitBreakers: { thresholds: [{ maxConnections: 10 }] } }, { registry: XDS_REGISTRY }));
  assert.equal(withoutPerHost.ok, true);
});
