import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { LocalitySchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { LbEndpointSchema, LocalityLbEndpointsSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import type { Endpoint, Labels } from '../../registry/types.js';
import type { EndpointGroup } from './locality-endpoints.js';
import { applyLocalityLoadBalancer, effectiveLocalityLbSetting, localityMatch, needsLocalityWeightedLbConfig } from './locality-lb.js';
import { LABEL_NETWORK } from './topology-labels.js';

function group(region: string, endpointLabels: Labels[]): EndpointGroup {
  const endpoints = endpointLabels.map((labels) => ({ labels }) as unknown as Endpoint);
  return {
    endpoints,
    lb: create(LocalityLbEndpointsSchema, {
      locality: create(LocalitySchema, { region }),
      lbEndpoints: endpointLabels.map(() => create(LbEndpointSchema, { loadBalancingWeight: 1 })),
      loadBalancingWeight: endpointLabels.length,
    }),
  };
}

describe('localityMatch', () => {
  it('matches region, zone and subzone parts exactly or by *, a missing part matching anything', () => {
    const l = { region: 'us', zone: 'a', subZone: 's1' };
    assert.equal(localityMatch(l, 'us'), true);
    assert.equal(localityMatch(l, 'us/a'), true);
    assert.equal(localityMatch(l, 'us/*/s1'), true);
    assert.equal(localityMatch(l, '*'), true);
    assert.equal(localityMatch(l, 'us/b'), false);
    assert.equal(localityMatch(l, 'eu/*'), false);
    assert.equal(localityMatch(undefined, 'us'), false);
  });
});

describe('effectiveLocalityLbSetting', () => {
  it('is the mesh default (enabled) unless the rule sets one; a disabled rule turns it off', () => {
    assert.deepEqual(effectiveLocalityLbSetting(undefined), { enabled: true });
    assert.deepEqual(effectiveLocalityLbSetting({ localityLbSetting: { failover: [{ from: 'a', to: 'b' }] } }), { failover: [{ from: 'a', to: 'b' }] });
    assert.equal(effectiveLocalityLbSetting({ localityLbSetting: { enabled: false } }), undefined);
  });

  it('needs locality_weighted_lb_config for distribute, or for failover lists once failover is enabled', () => {
    assert.equal(needsLocalityWeightedLbConfig({ enabled: true }, true), false);
    assert.equal(needsLocalityWeightedLbConfig({ failover: [{ from: 'a', to: 'b' }] }, false), false);
    assert.equal(needsLocalityWeightedLbConfig({ failover: [{ from: 'a', to: 'b' }] }, true), true);
    assert.equal(needsLocalityWeightedLbConfig({ distribute: [{ from: '*', to: { '*': 100 } }] }, false), true);
  });
});

describe('failoverPriority with the network label first', () => {
  it('ranks another network below every same-network endpoint but still compares the other labels', () => {
    const groups = [
      group('r', [
        { [LABEL_NETWORK]: 'n1', zone: 'z1' },
        { [LABEL_NETWORK]: 'n1', zone: 'z2' },
        { [LABEL_NETWORK]: 'n2', zone: 'z1' },
        { [LABEL_NETWORK]: 'n2', zone: 'z2' },
      ]),
    ];
    const out = applyLocalityLoadBalancer(
      groups.map((g) => g.lb),
      groups,
      { locality: { region: 'r', zone: '', subZone: '' }, labels: { [LABEL_NETWORK]: 'n1', zone: 'z1' } },
      { failoverPriority: [LABEL_NETWORK, 'zone'] },
      true,
      (g, i) => g.endpoints[i]?.labels ?? {},
    );
    // Raw priorities: n1/z1 0, n1/z2 1, n2/z1 2, n2/z2 3; one LocalityLbEndpoints per priority, each weighted.
    assert.deepEqual(
      out.map((l) => [l.priority, l.lbEndpoints.length, l.loadBalancingWeight]),
      [
        [0, 1, 1],
        [1, 1, 1],
        [2, 1, 1],
        [3, 1, 1],
      ],
    );
  });

  it('leaves the assignment alone when failover is not enabled', () => {
    const groups = [group('r', [{ zone: 'z1' }, { zone: 'z2' }])];
    const eps = groups.map((g) => g.lb);
    const out = applyLocalityLoadBalancer(eps, groups, { locality: { region: 'x', zone: '', subZone: '' }, labels: { zone: 'z1' } }, { failoverPriority: ['zone'] }, false, () => ({}));
    assert.equal(out, eps);
    assert.deepEqual(
      out.map((l) => l.priority),
      [0],
    );
  });
});
