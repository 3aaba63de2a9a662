// The proxy's resource checks: every problem of a resource is reported with its name and field path.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { RouteConfigurationSchema } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema, Cluster_LbPolicy } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
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
      '9080: virtual_hosts[0](a).domains: value must contain at least 1 item(s)',
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

  it("refuses what breaks Envoy's protoc-gen-validate constraints, with PGV's reasons, and never compiles it", () => {
    let compiled = 0;
    const compile = () => {
      compiled++;
      return { ok: true as const, value: {} };
    };
    const cluster = create(ClusterSchema, {
      name: 'outbound|9080||reviews',
      connectTimeout: { seconds: 0n, nanos: 0 },
      lbPolicy: 77 as Cluster_LbPolicy,
      outlierDetection: { maxEjectionPercent: 150 },
      healthChecks: [{ timeout: { seconds: 1n, nanos: 0 } }],
    });
    const bad = decodeResource(CLUSTER_TYPE, anyPack(ClusterSchema, cluster), 0, undefined, compile);
    assert.deepEqual(bad.ok ? [] : bad.problems, [
      'outbound|9080||reviews: connect_timeout: value must be greater than 0s',
      'outbound|9080||reviews: lb_policy: value must be one of the defined enum values',
      'outbound|9080||reviews: health_checks[0].interval: value is required',
      'outbound|9080||reviews: health_checks[0].unhealthy_threshold: value is required',
      'outbound|9080||reviews: health_checks[0].healthy_threshold: value is required',
      'outbound|9080||reviews: health_checks[0].health_checker: is required (set one of http_health_check, tcp_health_check, grpc_health_check, custom_health_check)',
      'outbound|9080||reviews: outlier_detection.max_ejection_percent: value must be less than or equal to 100',
    ]);
    assert.equal(compiled, 0);
    const good = decodeResource(CLUSTER_TYPE, anyPack(ClusterSchema, create(ClusterSchema, { name: 'c', connectTimeout: { seconds: 1n, nanos: 0 } })), 0, undefined, compile);
    assert.equal(good.ok, true);
    assert.equal(compiled, 1);
  });

  it('reports a place once when PGV and the proxy\'s own checks both find it (PGV\'s reason wins)', () => {
    const rc = create(RouteConfigurationSchema, { name: 'r', virtualHosts: [{ name: '', domains: ['a'] }] });
    const d = decodeResource(ROUTE_TYPE, anyPack(RouteConfigurationSchema, rc), 0);
    assert.deepEqual(d.ok ? [] : d.problems, ['r: virtual_hosts[0].name: value length must be at least 1 characters']);
  });

  it('refuses endpoints no connection could reach: a named port (as Envoy\'s IP resolver does) or an internal listener address', () => {
    const cla = create(ClusterLoadAssignmentSchema, {
      clusterName: 'outbound|80||a',
      endpoints: [
        {
          lbEndpoints: [
            { hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'socketAddress', value: { address: '10.0.0.1', portSpecifier: { case: 'namedPort', value: 'http' } } } } } } },
            { hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'envoyInternalAddress', value: { addressNameSpecifier: { case: 'serverListenerName', value: 'connect_originate' } } } } } } },
            { hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'socketAddress', value: { address: '10.0.0.2', portSpecifier: { case: 'portValue', value: 80 } } } } } } },
          ],
        },
      ],
    });
    const d = decodeResource(ENDPOINT_TYPE, anyPack(ClusterLoadAssignmentSchema, cla), 0);
    assert.deepEqual(d.ok ? [] : d.problems, [
      "outbound|80||a: endpoints[0].lb_endpoints[0].endpoint.address.socket_address.named_port: IP resolver can't handle port specifier type named_port",
      'outbound|80||a: endpoints[0].lb_endpoints[1].endpoint.address.envoy_internal_address: internal listeners are not supported',
    ]);
  });
});
