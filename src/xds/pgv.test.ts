// Envoy's protoc-gen-validate constraints read from the descriptors: each case is a rule Envoy's protos
// carry (cited field by field) and the reason PGV's generated C++ gives for breaking it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack, DurationSchema } from '@bufbuild/protobuf/wkt';
import { pgvProblems } from './pgv.js';
import { goDuration } from './pgv-values.js';
import { XDS_REGISTRY } from './codec.js';
import { ClusterSchema, Cluster_LbPolicy } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import { OutlierDetectionSchema } from './gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { HealthCheckSchema } from './gen/envoy/config/core/v3/health_check_pb.js';
import { ListenerSchema } from './gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from './gen/envoy/config/route/v3/route_pb.js';
import { HttpConnectionManagerSchema } from './gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';

const dur = (seconds: number, nanos = 0) => create(DurationSchema, { seconds: BigInt(seconds), nanos });

describe('goDuration (how PGV prints durations)', () => {
  it('prints as Go time.Duration.String does', () => {
    assert.equal(goDuration(dur(0)), '0s');
    assert.equal(goDuration(dur(1, 500_000_000)), '1.5s');
    assert.equal(goDuration(dur(90)), '1m30s');
    assert.equal(goDuration(dur(3600)), '1h0m0s');
    assert.equal(goDuration(dur(0, 100_000_000)), '100ms');
    assert.equal(goDuration(dur(0, 1_500)), '1.5µs');
    assert.equal(goDuration(dur(0, 7)), '7ns');
    assert.equal(goDuration(dur(-2)), '-2s');
  });
});

describe('pgvProblems', () => {
  it('accepts a valid cluster', () => {
    const c = create(ClusterSchema, { name: 'outbound|9080||reviews', connectTimeout: dur(10) });
    assert.deepEqual(pgvProblems(ClusterSchema, c), []);
  });

  it('duration gt: connect_timeout must be above 0s (cluster.proto: duration = {gt {}})', () => {
    const c = create(ClusterSchema, { name: 'c', connectTimeout: dur(0) });
    assert.deepEqual(pgvProblems(ClusterSchema, c), ['connect_timeout: value must be greater than 0s']);
  });

  it('enum defined_only: lb_policy must be a defined LbPolicy', () => {
    const c = create(ClusterSchema, { name: 'c', lbPolicy: 77 as Cluster_LbPolicy });
    assert.deepEqual(pgvProblems(ClusterSchema, c), ['lb_policy: value must be one of the defined enum values']);
    assert.deepEqual(pgvProblems(ClusterSchema, create(ClusterSchema, { name: 'c', lbPolicy: Cluster_LbPolicy.MAGLEV })), []);
  });

  it('wrapper fields: a set UInt32Value is checked against the uint32 rules (max_ejection_percent lte 100), an unset one is not', () => {
    assert.deepEqual(pgvProblems(OutlierDetectionSchema, create(OutlierDetectionSchema, { maxEjectionPercent: 101 })), ['max_ejection_percent: value must be less than or equal to 100']);
    assert.deepEqual(pgvProblems(OutlierDetectionSchema, create(OutlierDetectionSchema, { maxEjectionPercent: 100 })), []);
    assert.deepEqual(pgvProblems(OutlierDetectionSchema, create(OutlierDetectionSchema, {})), []);
  });

  it('message required and oneof required (health_check.proto: timeout, interval, thresholds, health_checker)', () => {
    const problems = pgvProblems(HealthCheckSchema, create(HealthCheckSchema, {}));
    assert.deepEqual(problems, [
      'timeout: value is required',
      'interval: value is required',
      'unhealthy_threshold: value is required',
      'healthy_threshold: value is required',
      'health_checker: is required (set one of http_health_check, tcp_health_check, grpc_health_check, custom_health_check)',
    ]);
  });

  it('repeated min_items, string min_len and header-name patterns, each with its path and the list item name', () => {
    const rc = create(RouteConfigurationSchema, {
      name: '9080',
      virtualHosts: [
        { name: 'a', domains: [] },
        { name: '', domains: ['x'], routes: [{ match: { pathSpecifier: { case: 'prefix', value: '/' }, headers: [{ name: 'bad\nname' }] }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'c' } } } }] },
        { name: 'c', domains: ['y'], routes: [{ match: {}, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'c' } } } }] },
      ],
    });
    assert.deepEqual(pgvProblems(RouteConfigurationSchema, rc), [
      'virtual_hosts[0](a).domains: value must contain at least 1 item(s)',
      'virtual_hosts[1].name: value length must be at least 1 characters',
      'virtual_hosts[1].routes[0].match.headers[0](bad\nname).name: value does not match regex pattern "^[^\\x00\\n\\r]*$"',
      'virtual_hosts[2](c).routes[0].match.path_specifier: is required (set one of prefix, path, safe_regex, connect_matcher, path_separated_prefix, path_match_policy)',
    ]);
  });

  it('opens an Any of a type the registry knows, as Envoy validates a typed_config it builds', () => {
    const hcm = create(HttpConnectionManagerSchema, { statPrefix: '', routeSpecifier: { case: 'rds', value: { routeConfigName: '9080', configSource: { configSourceSpecifier: { case: 'ads', value: {} } } } } });
    const l = create(ListenerSchema, {
      name: 'l',
      address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 80 } } } },
      filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } }] }],
    });
    assert.deepEqual(pgvProblems(ListenerSchema, l, { registry: XDS_REGISTRY }), ['filter_chains[0].filters[0](envoy.filters.network.http_connection_manager).typed_config.stat_prefix: value length must be at least 1 characters']);
    // Without a registry the Any stays closed, as PGV itself leaves it.
    assert.deepEqual(pgvProblems(ListenerSchema, l), []);
  });
});
