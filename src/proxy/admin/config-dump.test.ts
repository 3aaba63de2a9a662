import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create, createFileRegistry, createRegistry, fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { BootstrapSchema } from '../../xds/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';
import { SCHEMAS, type ProxyTypeUrl } from '../xds-client/validate.js';
import type { ResourceEntry, TypeState } from '../xds-client/ads-client.js';
import { configDump } from './config-dump.js';
import type { DumpSource } from './dump-source.js';

const T = 'type.googleapis.com/';
const AT = '2025-01-02T03:04:05.000Z';
const HCM = `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;

/** A control plane's filter type this build does not know (`acme.Custom { string note = 1; }`): known to the test only. */
const ACME = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'acme.proto',
    package: 'acme',
    syntax: 'proto3',
    messageType: [{ name: 'Custom', field: [{ name: 'note', jsonName: 'note', number: 1, type: FieldDescriptorProto_Type.STRING, label: FieldDescriptorProto_Label.OPTIONAL }] }],
  }),
  () => undefined,
);
const PARSE = createRegistry(XDS_REGISTRY, ACME);

function inlineRouteListener(name: string, route: string, extraFilter?: JsonObject): JsonObject {
  return {
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: 9000 } },
    filter_chains: [
      {
        filters: [
          ...(extraFilter !== undefined ? [extraFilter] : []),
          { name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM, stat_prefix: 's', route_config: { name: route, virtual_hosts: [{ name: 'vh', domains: ['*'] }] } } },
        ],
      },
    ],
  };
}

const BOOTSTRAP = fromJson(
  BootstrapSchema,
  {
    node: { id: 'sidecar~10.0.0.1~a.ns~ns.svc.cluster.local' },
    static_resources: {
      clusters: [{ name: 'xds-grpc', type: 'STATIC', load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 15010 } } } }] }] } }],
      listeners: [inlineRouteListener('stats', 'stats-route')],
      secrets: [{ name: 'static-cert', tls_certificate: { certificate_chain: { inline_string: 'CERT' }, private_key: { inline_string: 'KEY' } } }],
    },
  },
  { registry: XDS_REGISTRY },
);

type Rows = Partial<Record<ProxyTypeUrl, Record<string, JsonValue>>>;

function source(rows: Rows, names: readonly string[] = [], withBootstrap = true): DumpSource {
  const tables = new Map<ProxyTypeUrl, Map<string, ResourceEntry<unknown>>>();
  for (const [type, byName] of Object.entries(rows) as [ProxyTypeUrl, Record<string, JsonValue>][]) {
    tables.set(type, new Map(Object.entries(byName).map(([n, json]) => [n, { message: fromJson(SCHEMAS[type], json, { registry: PARSE }), compiled: undefined, version: `v-${n}`, lastUpdated: AT }])));
  }
  return {
    table: ((type: ProxyTypeUrl) => tables.get(type) ?? new Map()) as DumpSource['table'],
    typeState: (type: ProxyTypeUrl): TypeState => ({ version: type === CLUSTER_TYPE ? 'cds-1' : '', received: true, names: type === SECRET_TYPE ? [...names] : [] }),
    ...(withBootstrap ? { bootstrap: { config: BOOTSTRAP, node: create(NodeSchema, { id: 'running-node', metadata: { ISTHMUS_ADMIN_ADDRESS: '127.0.0.1:1' } }), loadedAt: AT } } : {}),
  };
}

const ROWS: Rows = {
  [CLUSTER_TYPE]: {
    eds: { name: 'eds', type: 'EDS', eds_cluster_config: { service_name: 'eds-svc', eds_config: { ads: {} } } },
    local: { name: 'local', type: 'STATIC', load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } } }] }] } },
  },
  [ENDPOINT_TYPE]: { 'eds-svc': { cluster_name: 'eds-svc', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.9', port_value: 80 } } } }] }] } },
  [LISTENER_TYPE]: { in: inlineRouteListener('in', 'inbound|8080||', { name: 'acme.filter', typed_config: { '@type': `${T}acme.Custom`, note: 'opaque' } }) },
  [ROUTE_TYPE]: { '80': { name: '80' } },
  [SECRET_TYPE]: { 'kubernetes://cred': { name: 'kubernetes://cred', tls_certificate: { certificate_chain: { inline_string: 'CHAIN' }, private_key: { inline_string: 'SECRET KEY' } } } },
};

type Json = { readonly [k: string]: unknown };
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);

function sectionOf(dump: JsonObject, name: string): Json {
  return obj(arr(dump['configs']).find((c) => c['@type'] === `${T}envoy.admin.v3.${name}`));
}

describe('configDump', () => {
  const dump = configDump(source(ROWS, ['kubernetes://cred', 'kubernetes://late']), { includeEds: true });

  const cases: { name: string; section: string; check: (s: Json) => void }[] = [
    {
      name: 'the bootstrap shows the running node and when it was loaded',
      section: 'BootstrapConfigDump',
      check: (s) => {
        assert.deepEqual(obj(obj(s['bootstrap'])['node']), { id: 'running-node', metadata: { ISTHMUS_ADMIN_ADDRESS: '127.0.0.1:1' } });
        assert.equal(s['last_updated'], '2025-01-02T03:04:05Z');
        const staticSecret = obj(arr(obj(obj(s['bootstrap'])['static_resources'])['secrets'])[0]);
        assert.deepEqual(obj(staticSecret['tls_certificate'])['private_key'], { inline_string: '[redacted]' });
      },
    },
    {
      name: 'static clusters come from the bootstrap, dynamic ones with version and time',
      section: 'ClustersConfigDump',
      check: (s) => {
        assert.equal(s['version_info'], 'cds-1');
        assert.deepEqual(arr(s['static_clusters']).map((c) => [obj(c['cluster'])['@type'], obj(c['cluster'])['name'], c['last_updated']]), [[`${T}envoy.config.cluster.v3.Cluster`, 'xds-grpc', '2025-01-02T03:04:05Z']]);
        assert.deepEqual(arr(s['dynamic_active_clusters']).map((c) => [c['version_info'], obj(c['cluster'])['name']]), [['v-eds', 'eds'], ['v-local', 'local']]);
      },
    },
    {
      name: 'endpoints: the EDS assignment and the load_assignment of a cluster that carries its own',
      section: 'EndpointsConfigDump',
      check: (s) => {
        assert.deepEqual(arr(s['static_endpoint_configs']).map((e) => obj(e['endpoint_config'])['cluster_name']), ['xds-grpc']);
        assert.deepEqual(arr(s['dynamic_endpoint_configs']).map((e) => [obj(e['endpoint_config'])['cluster_name'], e['version_info']]), [['eds-svc', 'v-eds-svc'], ['local', undefined]]);
      },
    },
    {
      name: 'listeners: a filter of a type this build does not know prints its @type only',
      section: 'ListenersConfigDump',
      check: (s) => {
        assert.deepEqual(arr(s['static_listeners']).map((l) => obj(l['listener'])['name']), ['stats']);
        const l = obj(obj(arr(s['dynamic_listeners'])[0])['active_state']);
        assert.equal(l['version_info'], 'v-in');
        const filters = arr(obj(arr(obj(l['listener'])['filter_chains'])[0])['filters']);
        assert.deepEqual(filters[0], { name: 'acme.filter', typed_config: { '@type': `${T}acme.Custom` } });
      },
    },
    {
      name: 'routes: every inline route_config is static, RDS ones are dynamic',
      section: 'RoutesConfigDump',
      check: (s) => {
        assert.deepEqual(arr(s['static_route_configs']).map((r) => obj(r['route_config'])['name']), ['stats-route', 'inbound|8080||']);
        assert.deepEqual(arr(s['dynamic_route_configs']).map((r) => [r['version_info'], obj(r['route_config'])['name']]), [['v-80', '80']]);
      },
    },
    {
      name: 'secrets: static, active (key redacted) and warming (subscribed, not delivered)',
      section: 'SecretsConfigDump',
      check: (s) => {
        assert.deepEqual(arr(s['static_secrets']).map((x) => x['name']), ['static-cert']);
        const active = obj(arr(s['dynamic_active_secrets'])[0]);
        assert.deepEqual([active['name'], active['version_info'], active['last_updated']], ['kubernetes://cred', 'v-kubernetes://cred', '2025-01-02T03:04:05Z']);
        assert.deepEqual(obj(obj(active['secret'])['tls_certificate']), { certificate_chain: { inline_string: 'CHAIN' }, private_key: { inline_string: '[redacted]' } });
        assert.deepEqual(arr(s['dynamic_warming_secrets']), [{ name: 'kubernetes://late', secret: { '@type': `${T}envoy.extensions.transport_sockets.tls.v3.Secret`, name: 'kubernetes://late' } }]);
      },
    },
  ];
  for (const c of cases) it(c.name, () => c.check(sectionOf(dump, c.section)));

  it('never prints a private key', () => {
    assert.doesNotMatch(JSON.stringify(dump), /SECRET KEY|"KEY"/);
  });

  it('orders sections as Envoy; without a bootstrap or ?include_eds they are left out', () => {
    const names = (d: JsonObject): string[] => arr(d['configs']).map((c) => String(c['@type']).replace(`${T}envoy.admin.v3.`, ''));
    assert.deepEqual(names(dump), ['BootstrapConfigDump', 'ClustersConfigDump', 'EndpointsConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump']);
    assert.deepEqual(names(configDump(source(ROWS, [], false))), ['ClustersConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump']);
  });
});
