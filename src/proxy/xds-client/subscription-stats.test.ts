// Envoy's CDS/LDS subscription stats and control_plane.connected_state, counted as the ADS client reports
// accepted and rejected updates and stream ends.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsStore } from '../stats/stats-store.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE } from '../../xds/type-urls.js';
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
    s.accepted(ENDPOINT_TYPE, 'v1', 5_000); // not counted: per-resource scopes in Envoy
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

  it('hashes versions to stable 32-bit values that differ for different versions', () => {
    assert.equal(versionHash('2026-11-28T14:00:00Z/42'), versionHash('2026-11-28T14:00:00Z/42'));
    assert.notEqual(versionHash('v1'), versionHash('v2'));
    assert.equal(versionHash(''), 0x811c9dc5);
    assert.ok(Number.isInteger(versionHash('x'.repeat(1000))) && versionHash('x'.repeat(1000)) >= 0);
  });
});
