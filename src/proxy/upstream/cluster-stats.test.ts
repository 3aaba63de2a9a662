// Envoy's cluster stats as the breakers and the router keep them: names under the cluster's scope, the
// open gauges following the limits, and pending gauges that stay right while a cluster replaced by CDS
// and its successor both have requests waiting (they share the store's handles).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsStore } from '../stats/stats-store.js';
import { CircuitBreakers } from './circuit-breakers.js';
import { ClusterStats } from './cluster-stats.js';

const LIMITS = { connections: 1, pending: 2, requests: 5, retries: 1 };

function stat(store: StatsStore, name: string): number | undefined {
  return store.gauge(name).value;
}

describe('ClusterStats', () => {
  it("names stats under cluster.<stat name> and counts a forwarded response's code, class and completion", () => {
    const store = new StatsStore();
    const s = new ClusterStats(store.scope('cluster.outbound|80||a.ns.svc.cluster.local;'), 'ignored');
    s.response(503);
    s.response(200);
    s.response(200);
    const c = (n: string): number => store.counter(`cluster.outbound|80||a.ns.svc.cluster.local;.${n}`).value;
    assert.deepEqual([c('upstream_rq_completed'), c('upstream_rq_200'), c('upstream_rq_2xx'), c('upstream_rq_503'), c('upstream_rq_5xx'), c('upstream_rq_4xx')], [3, 2, 2, 1, 1, 0]);
  });

  it('keeps upstream_rq_pending_active and the *_open gauges as the breaker takes and gives back', () => {
    const store = new StatsStore();
    const s = new ClusterStats(store.scope('cluster.c'), 'c');
    const b = new CircuitBreakers(LIMITS, undefined, { active: { pending: s.rqPendingActive }, open: s.open });
    assert.equal(b.tryAcquire('connections'), true);
    assert.equal(stat(store, 'cluster.c.circuit_breakers.default.cx_open'), 1);
    b.tryAcquire('pending');
    b.tryAcquire('pending');
    assert.equal(b.tryAcquire('pending'), false);
    assert.deepEqual([stat(store, 'cluster.c.upstream_rq_pending_active'), stat(store, 'cluster.c.circuit_breakers.default.rq_pending_open')], [2, 1]);
    b.release('pending');
    assert.deepEqual([stat(store, 'cluster.c.upstream_rq_pending_active'), stat(store, 'cluster.c.circuit_breakers.default.rq_pending_open')], [1, 0]);
    b.release('pending');
    b.release('pending'); // more releases than takes move nothing
    assert.equal(stat(store, 'cluster.c.upstream_rq_pending_active'), 0);
  });

  it('a replaced cluster finishing its requests does not wipe out what its successor has pending', () => {
    const store = new StatsStore();
    const old = new ClusterStats(store.scope('cluster.c'), 'c');
    const oldB = new CircuitBreakers(LIMITS, undefined, { active: { pending: old.rqPendingActive }, open: old.open });
    oldB.tryAcquire('pending');
    const next = new ClusterStats(store.scope('cluster.c'), 'c');
    const nextB = new CircuitBreakers(LIMITS, undefined, { active: { pending: next.rqPendingActive }, open: next.open });
    nextB.tryAcquire('pending');
    nextB.tryAcquire('pending');
    assert.equal(stat(store, 'cluster.c.upstream_rq_pending_active'), 3);
    oldB.release('pending');
    assert.equal(stat(store, 'cluster.c.upstream_rq_pending_active'), 2);
  });

  it('counts outlier ejections by type and keeps ejections_active', () => {
    const store = new StatsStore();
    const s = new ClusterStats(store.scope('cluster.c'), 'c');
    s.outlier({ action: 'eject', hostKey: 'h1', type: 'consecutive_5xx', enforced: true, numEjections: 1 }, 1);
    s.outlier({ action: 'eject', hostKey: 'h2', type: 'consecutive_gateway_failure', enforced: false, numEjections: 0 }, 1);
    s.outlier({ action: 'overflow', hostKey: 'h3', type: 'consecutive_5xx' }, 1);
    const c = (n: string): number => store.counter(`cluster.c.outlier_detection.${n}`).value;
    assert.deepEqual(
      [c('ejections_enforced_total'), c('ejections_enforced_consecutive_5xx'), c('ejections_detected_consecutive_5xx'), c('ejections_detected_consecutive_gateway_failure'), c('ejections_enforced_consecutive_gateway_failure'), c('ejections_overflow')],
      [1, 1, 2, 1, 0, 1],
    );
    assert.equal(stat(store, 'cluster.c.outlier_detection.ejections_active'), 1);
    s.outlier({ action: 'uneject', hostKey: 'h1', numEjections: 1 }, 0);
    assert.equal(stat(store, 'cluster.c.outlier_detection.ejections_active'), 0);
  });
});
