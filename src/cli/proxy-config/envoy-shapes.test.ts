// The formatters on dumps shaped as Envoy writes them (proto field names in snake_case, static sections,
// inline route configs, TLS filter chains, the /clusters JSON), which an Isthmus proxy does not produce.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigDump, type ConfigDump } from './config-dump.js';
import { clusterTable } from './clusters.js';
import { describeChainMatch, describeDestination, listenerTable } from './listeners.js';
import { describeRouteDomains, routeTable } from './routes.js';
import { endpointTable, parseClusterStatuses } from './endpoints.js';
import { bootstrapSummary, renderBootstrapSummary } from './bootstrap.js';
import { describeManagement, parseClusterKey } from './istio-names.js';

function dumpOf(configs: unknown[]): ConfigDump {
  const d = parseConfigDump({ configs });
  assert.ok(d !== undefined);
  return d;
}

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const hcm = (config: object) => ({ name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM_TYPE, stat_prefix: 'x', ...config } });
const tcp = (cluster: string) => ({ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_TYPE, stat_prefix: cluster, cluster } });

describe('Envoy-shaped dumps', () => {
  it('reads static and dynamic clusters in snake_case, with the default STATIC type omitted', () => {
    const d = dumpOf([
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
        static_clusters: [{ cluster: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'prometheus_stats' } }],
        dynamic_active_clusters: [
          {
            cluster: {
              '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
              name: 'outbound|80|canary|web.shop.svc.cluster.local',
              type: 'EDS',
              metadata: { filter_metadata: { istio: { config: '/apis/networking.istio.io/v1alpha3/namespaces/shop/destination-rule/web' } } },
            },
          },
        ],
      },
    ]);
    assert.deepEqual(clusterTable(d).rows, [
      ['prometheus_stats', '-', '-', '-', 'STATIC', ''],
      ['web.shop.svc.cluster.local', '80', 'canary', 'outbound', 'EDS', 'web.shop'],
    ]);
  });

  it('reads static listeners without a name, inline routes and internal listeners without an address', () => {
    const d = dumpOf([
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
        static_listeners: [
          {
            listener: {
              address: { socket_address: { address: '0.0.0.0', port_value: 15021 } },
              filter_chains: [{ filters: [hcm({ route_config: { virtual_hosts: [{ name: 'backend', domains: ['*'], routes: [{ match: { prefix: '/healthz/ready' }, route: { cluster: 'agent' } }] }] } })] }],
            },
          },
        ],
        dynamic_listeners: [{ name: 'main_internal', active_state: { listener: { name: 'main_internal', internal_listener: {}, filter_chains: [{ filters: [tcp('encap')] }] } } }],
      },
    ]);
    assert.deepEqual(listenerTable(d, {}, { withName: true }).rows, [
      ['listener/main_internal', '', '0', 'ALL', 'Cluster: encap'],
      ['listener/', '0.0.0.0', '15021', 'ALL', 'Inline Route: /healthz/ready*'],
    ]);
  });

  const matches: { name: string; match: object | undefined; want: string }[] = [
    { name: 'no match at all', match: undefined, want: 'ALL' },
    { name: 'SNI and TLS', match: { server_names: ['a.example', 'b.example'], transport_protocol: 'tls' }, want: 'SNI: a.example,b.example; Trans: tls' },
    { name: "istioctl's named ALPN set", match: { transport_protocol: 'tls', application_protocols: ['istio-peer-exchange', 'istio'] }, want: 'Trans: tls; App: TCP TLS' },
    { name: 'the plaintext HTTP set', match: { application_protocols: ['http/1.0', 'http/1.1', 'h2c'] }, want: 'App: HTTP' },
    { name: 'CIDRs and port', match: { prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: 8 }], destination_port: 443 }, want: 'Addr: 10.0.0.0/8:443' },
    { name: 'a port alone', match: { destination_port: 9080 }, want: 'Addr: *:9080' },
  ];
  for (const c of matches) {
    it(`describes a filter chain match: ${c.name}`, () => assert.equal(describeChainMatch(c.match as never), c.want));
  }

  const destinations: { name: string; filters: object[]; want: string }[] = [
    { name: 'RDS', filters: [hcm({ rds: { route_config_name: '8080' } })], want: 'Route: 8080' },
    { name: 'an HCM without routes', filters: [hcm({})], want: 'HTTP' },
    { name: 'a catch-all inline route to one cluster', filters: [hcm({ route_config: { virtual_hosts: [{ domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'inbound|80||' } }] }] } })], want: 'Cluster: inbound|80||' },
    { name: 'inline virtual hosts with domains', filters: [hcm({ route_config: { virtual_hosts: [{ domains: ['a', 'a:80'], routes: [{ match: { path: '/x' } }, { match: { safe_regex: { regex: '/y.*' } } }] }] } })], want: 'Inline Route: a/a:80 /x, regex /y.*' },
    { name: 'a TCP proxy', filters: [tcp('outbound|3306||db.default.svc.cluster.local')], want: 'Cluster: outbound|3306||db.default.svc.cluster.local' },
    { name: 'a well-known cluster name', filters: [tcp('PassthroughCluster')], want: 'PassthroughCluster' },
    { name: 'the blackhole', filters: [tcp('BlackHoleCluster')], want: 'Non-HTTP/Non-TCP' },
  ];
  for (const c of destinations) {
    it(`names a chain's destination: ${c.name}`, () => assert.equal(describeDestination(c.filters as never), c.want));
  }

  const domains: { name: string; in: string[]; want: string }[] = [
    { name: 'one domain', in: ['*'], want: '*' },
    { name: 'service spellings', in: ['reviews.default.svc.cluster.local', 'reviews.default.svc.cluster.local:9080', 'reviews', 'reviews:9080', 'reviews.default.svc', 'reviews.default', '10.96.0.7'], want: 'reviews, reviews.default + 1 more...' },
    { name: 'IPv6 with and without a port', in: ['[fd00:10:96::7fc7]', '[fd00:10:96::7fc7]:8090', 'web'], want: '[fd00:10:96::7fc7], web' },
  ];
  for (const c of domains) {
    it(`abbreviates DOMAINS: ${c.name}`, () => assert.equal(describeRouteDomains(c.in), c.want));
  }

  it('orders route configs by port number first, skips passthrough routes, and shows 404 for a vhost without routes', () => {
    const d = dumpOf([
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
        dynamic_route_configs: [
          { route_config: { name: 'InboundPassthroughCluster', virtual_hosts: [{ name: 'inbound|http|0', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'InboundPassthroughCluster' } }] }] } },
          { route_config: { name: '9080', virtual_hosts: [{ name: 'allow_any', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }] }] } },
          { route_config: { name: '80', virtual_hosts: [{ name: 'blackhole:80', domains: ['*'], routes: [] }] } },
        ],
      },
    ]);
    assert.deepEqual(routeTable(d).rows, [
      ['80', 'blackhole:80', '*', '/*', '404'],
      ['InboundPassthroughCluster', 'inbound|http|0', '*', '/*', ''],
    ]);
    assert.deepEqual(routeTable(d, {}, { verbose: false }).rows, [
      ['80', '1'],
      ['9080', '1'],
      ['InboundPassthroughCluster', '1'],
    ]);
  });

  it("reads Envoy's /clusters?format=json: EDS health, outlier ejection, pipes", () => {
    const statuses = parseClusterStatuses(
      JSON.stringify({
        cluster_statuses: [
          {
            name: 'outbound|9080||reviews.default.svc.cluster.local',
            host_statuses: [
              { address: { socket_address: { address: '10.1.0.7', port_value: 9080 } }, health_status: { eds_health_status: 'HEALTHY', failed_outlier_check: true } },
              { address: { socket_address: { address: '10.1.0.6', port_value: 9080 } }, health_status: { eds_health_status: 'DRAINING' } },
            ],
          },
          { name: 'sds-grpc', host_statuses: [{ address: { pipe: { path: './var/run/secrets/workload-spiffe-uds/socket' } }, health_status: { eds_health_status: 'HEALTHY' } }] },
        ],
      }),
    );
    assert.ok(statuses !== undefined);
    assert.deepEqual(endpointTable(statuses).rows, [
      ['10.1.0.6:9080', 'DRAINING', 'OK', 'outbound|9080||reviews.default.svc.cluster.local'],
      ['10.1.0.7:9080', 'HEALTHY', 'FAILED', 'outbound|9080||reviews.default.svc.cluster.local'],
      ['unix://./var/run/secrets/workload-spiffe-uds/socket', 'HEALTHY', 'OK', 'sds-grpc'],
    ]);
    assert.deepEqual(endpointTable(statuses, { status: 'draining' }).rows.length, 1);
  });

  it("reads Envoy's text /clusters, where health flags give the EDS status", () => {
    const text = [
      'web::default_priority::max_connections::1024',
      'web::observability_name::web',
      'web::10.0.0.1:80::cx_total::3',
      'web::10.0.0.1:80::health_flags::/failed_outlier_check/failed_eds_health',
      'web::10.0.0.2:80::health_flags::healthy',
      'web::[::1]:80::health_flags::/eds_status_draining',
    ].join('\n');
    const statuses = parseClusterStatuses(text);
    assert.ok(statuses !== undefined);
    assert.deepEqual(endpointTable(statuses).rows, [
      ['10.0.0.1:80', 'UNHEALTHY', 'FAILED', 'web'],
      ['10.0.0.2:80', 'HEALTHY', 'OK', 'web'],
      ['::1:80', 'DRAINING', 'OK', 'web'],
    ]);
    assert.equal(parseClusterStatuses('<html>nope</html>'), undefined);
  });

  it('summarises the bootstrap versions as istioctl does', () => {
    const d = dumpOf([
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
        bootstrap: {
          node: {
            metadata: { ISTIO_VERSION: '1.24.0', ISTIO_PROXY_SHA: 'istio-proxy:abc123' },
            user_agent_build_version: { version: { major_number: 1, minor_number: 32, patch: 2 }, metadata: { 'build.label': 'dev', 'revision.status': 'Clean', 'build.type': 'RELEASE', 'ssl.version': 'BoringSSL' } },
          },
        },
      },
    ]);
    assert.equal(renderBootstrapSummary(bootstrapSummary(d) ?? []), 'Istio Version:       1.24.0\nIstio Proxy Version: abc123\nEnvoy Version:       1.32.2-dev/Clean/RELEASE/BoringSSL\n');
    assert.equal(bootstrapSummary(dumpOf([])), undefined);
  });

  const keys: { name: string; in: string; want: ReturnType<typeof parseClusterKey> }[] = [
    { name: 'a subset key', in: 'outbound|9080|v1|reviews.default.svc.cluster.local', want: { direction: 'outbound', port: 9080, subset: 'v1', host: 'reviews.default.svc.cluster.local' } },
    { name: 'any direction', in: 'inbound-vip|8000|http|httpbin.default.svc.cluster.local', want: { direction: 'inbound-vip', port: 8000, subset: 'http', host: 'httpbin.default.svc.cluster.local' } },
    { name: 'an inbound key without host', in: 'inbound|9080||', want: { direction: 'inbound', port: 9080, subset: '', host: '' } },
    { name: 'a plain name', in: 'BlackHoleCluster', want: undefined },
  ];
  for (const c of keys) {
    it(`parses cluster names: ${c.name}`, () => assert.deepEqual(parseClusterKey(c.in), c.want));
  }

  it('names the config behind a resource only for networking.istio.io paths', () => {
    const md = (config: string) => ({ filter_metadata: { istio: { config } } });
    assert.equal(describeManagement(md('/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews')), 'reviews.default');
    assert.equal(describeManagement(md('/apis/security.istio.io/v1/namespaces/default/authorization-policy/x')), '<unknown>');
    assert.equal(describeManagement({ filterMetadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/a/destination-rule/b' } } }), 'b.a', 'camelCase JSON too');
    assert.equal(describeManagement(undefined), '');
  });
});
