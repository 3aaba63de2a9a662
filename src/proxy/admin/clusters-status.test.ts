import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../xds/type-urls.js';
import { SCHEMAS, type ProxyTypeUrl } from '../xds-client/validate.js';
import type { ResourceEntry } from '../xds-client/ads-client.js';
import type { Host } from '../upstream/host.js';
import { clustersJson, clustersText } from './clusters-status.js';
import type { DumpSource, LiveCluster } from './dump-source.js';

type Json = { readonly [k: string]: unknown };
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);

const HEALTHS = ['HEALTHY', 'UNKNOWN', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'] as const;

/** One EDS cluster `svc` whose endpoint 10.0.0.<i+1>:80 has health HEALTHS[i]. */
function source(live?: LiveCluster): DumpSource {
  const rows: [ProxyTypeUrl, string, JsonValue][] = [
    [
      CLUSTER_TYPE,
      'svc',
      {
        name: 'svc',
        alt_stat_name: 'svc;',
        type: 'EDS',
        eds_cluster_config: { service_name: 'svc-eds', eds_config: { ads: {} } },
        circuit_breakers: { thresholds: [{ max_connections: 7, max_retries: 2 }] },
      },
    ],
    [
      ENDPOINT_TYPE,
      'svc-eds',
      {
        cluster_name: 'svc-eds',
        endpoints: [
          {
            locality: { region: 'r', zone: 'z', sub_zone: 's' },
            priority: 1,
            lb_endpoints: HEALTHS.map((h, i) => ({ endpoint: { address: { socket_address: { address: `10.0.0.${i + 1}`, port_value: 80 } }, hostname: `h${i}` }, health_status: h, load_balancing_weight: i + 1 })),
          },
        ],
      },
    ],
  ];
  const tables = new Map<ProxyTypeUrl, Map<string, ResourceEntry<unknown>>>();
  for (const [type, name, json] of rows) {
    const t = tables.get(type) ?? new Map<string, ResourceEntry<unknown>>();
    t.set(name, { message: fromJson(SCHEMAS[type], json, { registry: XDS_REGISTRY }), compiled: undefined, version: '1', lastUpdated: '' });
    tables.set(type, t);
  }
  return {
    table: ((type: ProxyTypeUrl) => tables.get(type) ?? new Map()) as DumpSource['table'],
    typeState: () => ({ version: '1', received: true, names: [] }),
    ...(live !== undefined ? { liveCluster: (name: string) => (name === 'svc' ? live : undefined) } : {}),
  };
}

const svc = (src: DumpSource): Json => obj(arr(obj(clustersJson(src))['cluster_statuses']).find((c) => c['name'] === 'svc'));

describe('/clusters?format=json from the xDS tables', () => {
  const c = svc(source());

  it('names the cluster, its observability and EDS service names, added via API', () => {
    assert.deepEqual([c['name'], c['observability_name'], c['eds_service_name'], c['added_via_api']], ['svc', 'svc;', 'svc-eds', true]);
  });

  it('lists the DEFAULT and HIGH thresholds with Envoy defaults where unset', () => {
    assert.deepEqual(obj(c['circuit_breakers'])['thresholds'], [
      { max_connections: 7, max_pending_requests: 1024, max_requests: 1024, max_retries: 2 },
      { priority: 'HIGH', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 },
    ]);
  });

  const want: Record<(typeof HEALTHS)[number], { json: string; text: string }> = {
    HEALTHY: { json: 'HEALTHY', text: 'healthy' },
    UNKNOWN: { json: 'HEALTHY', text: 'healthy' },
    UNHEALTHY: { json: 'UNHEALTHY', text: '/failed_eds_health' },
    DRAINING: { json: 'DRAINING', text: '/failed_eds_health' },
    TIMEOUT: { json: 'UNHEALTHY', text: '/failed_eds_health' },
    DEGRADED: { json: 'DEGRADED', text: '/degraded_eds_health' },
  };
  const text = clustersText(source());
  HEALTHS.forEach((h, i) => {
    it(`an endpoint with EDS health ${h}: eds_health_status ${want[h].json}, health_flags ${want[h].text}`, () => {
      const host = obj(arr(c['host_statuses'])[i]);
      assert.deepEqual(host, {
        address: { socket_address: { address: `10.0.0.${i + 1}`, port_value: 80 } },
        health_status: { eds_health_status: want[h].json },
        weight: i + 1,
        hostname: `h${i}`,
        priority: 1,
        locality: { region: 'r', zone: 'z', sub_zone: 's' },
      });
      assert.ok(text.includes(`svc::10.0.0.${i + 1}:80::health_flags::${want[h].text}\n`), text);
    });
  });

  it('text: circuit breakers, added_via_api and eds_service_name lines as Envoy prints them', () => {
    for (const line of ['svc::observability_name::svc;', 'svc::default_priority::max_connections::7', 'svc::high_priority::max_retries::3', 'svc::added_via_api::true', 'svc::eds_service_name::svc-eds', 'svc::10.0.0.1:80::weight::1', 'svc::10.0.0.1:80::zone::z']) {
      assert.ok(text.includes(`${line}\n`), line);
    }
  });
});

describe('/clusters?format=json from a live cluster', () => {
  const host = (address: string, health: Host['health']): Host => ({ address, port: 80, key: `${address}:80`, hostname: '', weight: 1, locality: { region: '', zone: '', subZone: '' }, priority: 0, health });
  const flags: Record<string, string> = { '10.1.0.1:80': '/failed_active_hc/failed_outlier_check', '10.1.0.2:80': '/pending_dynamic_removal' };
  const live: LiveCluster = {
    hosts: { hosts: [host('10.1.0.1', 'HEALTHY'), host('10.1.0.2', 'DEGRADED')] },
    healthFlags: (key) => flags[key],
    activeRequests: (key) => (key === '10.1.0.1:80' ? 3 : 0),
  };
  const hosts = arr(svc(source(live))['host_statuses']);

  it('lists the live hosts, not the EDS table', () => {
    assert.deepEqual(hosts.map((h) => obj(obj(h['address'])['socket_address'])['address']), ['10.1.0.1', '10.1.0.2']);
  });

  it('sets the health flags the live host has', () => {
    assert.deepEqual(hosts.map((h) => h['health_status']), [
      { failed_active_health_check: true, failed_outlier_check: true, eds_health_status: 'HEALTHY' },
      { pending_dynamic_removal: true, eds_health_status: 'DEGRADED' },
    ]);
  });

  it('reports rq_active as a gauge (a zero value is left out, as in protobuf JSON)', () => {
    assert.deepEqual(hosts.map((h) => h['stats']), [[{ type: 'GAUGE', value: '3', name: 'rq_active' }], [{ type: 'GAUGE', name: 'rq_active' }]]);
    const text = clustersText(source(live));
    assert.ok(text.includes('svc::10.1.0.1:80::rq_active::3\nsvc::10.1.0.1:80::hostname::\nsvc::10.1.0.1:80::health_flags::/failed_active_hc/failed_outlier_check\n'), text);
  });
});
