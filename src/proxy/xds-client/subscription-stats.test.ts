// Envoy's xDS subscription stats (CDS and LDS, and per EDS, RDS and SDS name in the scope Envoy gives each)
// and control_plane.connected_state, counted as the ADS client reports accepted and rejected updates,
// initial fetch timeouts and stream ends.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsStore } from '../stats/stats-store.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';
import { SubscriptionStats, versionHash } from './subscription-stats.js';

describe('SubscriptionStats', () => {
  it('counts attempts, successes, rejections and reloads per wildcard type under Envoy names', () => {
    const store = new StatsStore();
    const s = new SubscriptionStats(store);
    s.accepted(CLUSTER_TYPE, 'v1', 1_000);
    s.accepted(CLUSTER_TYPE, 'v1', 2_000); // same version: no reload
    s.rejected(CLUSTER_TYPE);
    s.accepted(CLUSTER_TYPE, 'v2', 3_000);
    s.accepted(LISTENER_TYPE, 'v1', 4_000);
    s.accepted(ENDPOINT_TYPE, 'v1', 5_000, [{ name: 'outbound|80||a', changed: true }]); // its own scope, none set: not counted
    const c = (n: string): number => store.counter(n).value;
    assert.deepEqual(
      ['update_attempt', 'update_success', 'update_rejected', 'update_failure', 'config_reload'].map((n) => c(`cluster_manager.cds.${n}`)),
      [4, 3, 1, 0, 2],
    );
    assert.deepEqual([c('listener_manager.lds.update_success'), c('listener_manager.lds.config_reload')], [1, 1]);
    assert.equal(store.gauge('cluster_manager.cds.update_time').value, 3_000);
    assert.equal(store.gauge('cluster_manager.cds.version').value, versionHash('v2'));
  });

  it('keeps control_plane.connected_state and counts a lost stream as a failed fetch of each subscription', () => {
    const store = new StatsStore();
    const s = new SubscriptionStats(store);
    s.connection(true);
    assert.equal(store.gauge('control_plane.connected_state').value, 1);
    s.connection(false);
    s.streamFailed();
    assert.equal(store.gauge('control_plane.connected_state').value, 0);
    assert.deepEqual([store.counter('cluster_manager.cds.update_failure').value, store.counter('listener_manager.lds.update_attempt').value], [1, 1]);
  });

  it('counts each endpoint, route and secret name in its own scope, as Envoy scopes their subscriptions', () => {
    const store = new StatsStore();
    const s = new SubscriptionStats(store);
    const a = 'outbound|80||a.default.svc.cluster.local';
    s.setScopes(ENDPOINT_TYPE, new Map([[a, [`cluster.${a}`, 'cluster.a-alt']]]));
    s.setScopes(ROUTE_TYPE, new Map([['80', ['http.outbound_0.0.0.0_80.rds.80']]]));
    s.accepted(ENDPOINT_TYPE, 'e1', 1_000, [{ name: a, changed: true }]);
    s.accepted(ROUTE_TYPE, 'r1', 2_000, [{ name: '80', changed: true }]);
    s.accepted(ROUTE_TYPE, 'r2', 3_000, [{ name: '80', changed: false }]); // same content: no reload
    s.rejected(ROUTE_TYPE, ['80']);
    s.accepted(SECRET_TYPE, 's1', 4_000, [{ name: 'default', changed: true }]);
    s.fetchTimedOut(SECRET_TYPE, ['ROOTCA']);
    s.streamFailed(new Map([[ENDPOINT_TYPE, [a]]]));
    const c = (n: string): number => store.counter(n).value;
    const row = (p: string): number[] => ['update_attempt', 'update_success', 'update_rejected', 'update_failure', 'init_fetch_timeout'].map((n) => c(`${p}.${n}`));
    assert.deepEqual(row(`cluster.${a}`), [2, 1, 0, 1, 0]);
    assert.deepEqual(row('cluster.a-alt'), [2, 1, 0, 1, 0], 'every cluster on the EDS name counts it');
    assert.deepEqual(row('http.outbound_0.0.0.0_80.rds.80'), [3, 2, 1, 0, 0]);
    assert.equal(c('http.outbound_0.0.0.0_80.rds.80.config_reload'), 1);
    assert.equal(store.gauge('http.outbound_0.0.0.0_80.rds.80.config_reload_time_ms').value, 2_000);
    assert.equal(store.gauge('http.outbound_0.0.0.0_80.rds.80.version').value, versionHash('r2'));
    assert.deepEqual(row('sds.default'), [1, 1, 0, 0, 0]);
    assert.deepEqual(row('sds.ROOTCA'), [1, 0, 0, 0, 1]);
    assert.equal(store.gauge(`cluster.${a}.update_time`).value, 1_000);
    // CDS and LDS were neither rejected nor accepted here; the stream's end counts for them too.
    assert.deepEqual(row('cluster_manager.cds'), [1, 0, 0, 1, 0]);
  });

  it('hashes versions to stable 32-bit values that differ for different versions', () => {
    assert.equal(versionHash('2026-11-28T14:00:00Z/42'), versionHash('2026-11-28T14:00:00Z/42'));
    assert.notEqual(versionHash('v1'), versionHash('v2'));
    assert.equal(versionHash(''), 0x811c9dc5);
    assert.ok(Number.isInteger(versionHash('x'.repeat(1000))) && versionHash('x'.repeat(1000)) >= 0);
  });
});
