// The proxy's resource checks: every problem of a resource is reported with its name and field path.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { RouteConfigurationSchema } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import { decodeResource } from './validate.js';

describe('proxy resource validation', () => {
  it('lists every problem of a route configuration with its path', () => {
    const rc = create(RouteConfigurationSchema, {
      name: '9080',
      virtualHosts: [
        { name: 'a', domains: [] },
        {
          name: 'b',
          domains: ['b'],
          routes: [{ match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'weightedClusters', value: { clusters: [{ name: 'x', weight: 0 }, { name: 'y', weight: 0 }] } } } } }],
        },
      ],
    });
    const d = decodeResource(ROUTE_TYPE, anyPack(RouteConfigurationSchema, rc), 0);
    assert.deepEqual(d.ok ? [] : d.problems, [
      '9080: virtual_hosts[0](a).domains: must list at least one domain',
      '9080: virtual_hosts[1](b).routes[0].route.weighted_clusters: sum of weights is 0',
    ]);
  });

  it('refuses a listener with neither address nor api_listener, and accepts a valid one', () => {
    const bad = decodeResource(LISTENER_TYPE, anyPack(ListenerSchema, create(ListenerSchema, { name: 'l' })), 3);
    assert.deepEqual(bad.ok ? [] : bad.problems, ['l: address: must be set', 'l: filter_chains: a listener needs at least one filter chain or a default_filter_chain']);
    const good = decodeResource(
      LISTENER_TYPE,
      anyPack(ListenerSchema, create(ListenerSchema, { name: 'l', address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 80 } } } }, filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy' }] }] })),
      0,
    );
    assert.equal(good.ok, true);
  });
});
