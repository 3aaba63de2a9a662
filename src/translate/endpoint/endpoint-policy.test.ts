// sendsDrainingEndpoints (Istio's Service.SupportsDrainingEndpoints, pilot/pkg/model/service.go): it follows the
// configured persistent-session label names, not PILOT_ENABLE_PERSISTENT_SESSION_FILTER.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../../registry/types.js';
import { DEFAULT_PILOT_FEATURES, type PilotFeatures } from '../../model/pilot-features.js';
import { sendsDrainingEndpoints } from './endpoint-policy.js';

function svc(labels: Record<string, string>): Service {
  return { hostname: 'a.default.svc.cluster.local', namespace: 'default', name: 'a', source: 'Kubernetes', ports: [], addresses: [], resolution: 'STATIC', location: 'MESH_INTERNAL', exportTo: ['*'], labels, creationTimestamp: '' };
}

describe('sendsDrainingEndpoints', () => {
  it('a non-empty cookie or header label, whether or not the filter is enabled', () => {
    for (const f of [DEFAULT_PILOT_FEATURES, { ...DEFAULT_PILOT_FEATURES, enablePersistentSessionFilter: true }]) {
      assert.equal(sendsDrainingEndpoints(f, svc({ 'istio.io/persistent-session': 'sid' })), true);
      assert.equal(sendsDrainingEndpoints(f, svc({ 'istio.io/persistent-session-header': 'x-s' })), true);
      assert.equal(sendsDrainingEndpoints(f, svc({ 'istio.io/persistent-session': '' })), false);
      assert.equal(sendsDrainingEndpoints(f, svc({ app: 'a' })), false);
    }
  });

  it('custom label names replace the defaults; a name set to "" turns that kind off', () => {
    const f: PilotFeatures = { ...DEFAULT_PILOT_FEATURES, persistentSessionLabel: 'example.com/sticky', persistentSessionHeaderLabel: '' };
    assert.equal(sendsDrainingEndpoints(f, svc({ 'example.com/sticky': 'c' })), true);
    assert.equal(sendsDrainingEndpoints(f, svc({ 'istio.io/persistent-session': 'sid' })), false);
    assert.equal(sendsDrainingEndpoints(f, svc({ 'istio.io/persistent-session-header': 'x-s', '': 'x' })), false);
  });
});
