// The admin's /config_dump and /clusters as istioctl-style tools read them, from a real gateway proxy fed by
// a real control plane: Envoy's section order with `@type`, the bootstrap with the node, proto field names,
// the gateway's SDS certificate with its private key redacted, and /clusters?format=json with the endpoint.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startMesh, startTestProxy, startUpstream } from '../../../test/support/data-plane.js';
import { waitFor } from '../../../test/support/wait.js';
import { secretYaml, selfSigned } from '../../../test/translate/secret/certs.js';

const web = selfSigned('admin-dump.example.com');
const ADMIN = 'type.googleapis.com/envoy.admin.v3.';
const CLUSTER = 'outbound|80||upstream.example.internal';

type Json = { readonly [k: string]: unknown };
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');

function gateway(name: string, port: number, credential: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${port}, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: ${credential}}
`;
}

function mesh(port: number, upstream: number): Record<string, string> {
  return {
    'gw.yaml': `${gateway('gw', port, 'web-cred')}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{route: [{destination: {host: upstream.example.internal, port: {number: 80}}}]}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: upstream, namespace: istio-system}
spec:
  hosts: [upstream.example.internal]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${upstream}}}]
`,
    'secrets.yaml': secretYaml('istio-system', 'web-cred', { 'tls.crt': web.cert, 'tls.key': web.key }),
  };
}

/** Every object key of a JSON value, except inside maps and Structs whose keys are data (metadata, labels). */
function keysOf(v: unknown, out: Set<string>, parent = ''): Set<string> {
  if (Array.isArray(v)) for (const x of v) keysOf(x, out, parent);
  else if (typeof v === 'object' && v !== null) {
    const data = ['metadata', 'filter_metadata', 'typed_filter_metadata', 'typed_per_filter_config', 'fields', 'labels'].includes(parent);
    for (const [k, x] of Object.entries(v)) {
      if (!data) out.add(k);
      keysOf(x, out, data ? '' : k);
    }
  }
  return out;
}

describe('admin /config_dump and /clusters (a gateway with an SDS certificate)', () => {
  it('prints Envoy\'s dump and cluster statuses', async (t) => {
    const up = await startUpstream(t, 'up');
    const port = await freePort();
    const m = await startMesh(t, mesh(port, up.port));
    const proxy = await startTestProxy(t, m, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
    const get = async (path: string): Promise<{ type: string; body: string }> => {
      const r = await fetch(`${proxy.adminUrl}${path}`);
      assert.equal(r.status, 200, path);
      return { type: r.headers.get('content-type') ?? '', body: await r.text() };
    };
    const nodeId = obj(obj(JSON.parse((await get('/server_info')).body))['node'])['id'];
    const text = (await get('/config_dump')).body;
    const dump = obj(JSON.parse(text));
    const configs = arr(dump['configs']);
    const section = (name: string): Json => obj(configs.find((c) => c['@type'] === `${ADMIN}${name}`));

    await t.test('sections come in Envoy\'s order, each with its @type; endpoints only with ?include_eds', async () => {
      const order = ['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump'];
      assert.deepEqual(configs.map((c) => c['@type']), order.map((n) => `${ADMIN}${n}`));
      const withEds = arr(obj(JSON.parse((await get('/config_dump?include_eds')).body))['configs']);
      assert.deepEqual(withEds.map((c) => c['@type']), [order[0], order[1], 'EndpointsConfigDump', ...order.slice(2)].map((n) => `${ADMIN}${n}`));
      const eds = arr(obj(withEds[2])['dynamic_endpoint_configs']).map((e) => obj(e['endpoint_config']));
      assert.ok(eds.some((e) => e['cluster_name'] === CLUSTER && e['@type'] === 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'));
    });

    await t.test("/memory answers Envoy's fields as decimal strings, the resident size among them", async () => {
      const m = obj(JSON.parse((await get('/memory')).body));
      for (const k of ['allocated', 'heap_size', 'pageheap_unmapped', 'pageheap_free', 'total_thread_cache', 'total_physical_bytes']) assert.match(String(m[k]), /^\d+$/, k);
      assert.ok(Number(m['total_physical_bytes']) > Number(m['allocated']), 'resident memory includes the heap');
    });

    await t.test('the bootstrap section holds the bootstrap as loaded, with the node', () => {
      assert.match(String(nodeId), /^router~/);
      const b = section('BootstrapConfigDump');
      const boot = obj(b['bootstrap']);
      assert.equal(obj(boot['node'])['id'], nodeId);
      assert.equal(obj(obj(boot['node'])['metadata'])['ISTHMUS_ADMIN_ADDRESS'], new URL(proxy.adminUrl).host);
      assert.ok(obj(obj(boot['dynamic_resources'])['ads_config'])['grpc_services'] !== undefined);
      assert.match(String(b['last_updated']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      // The static ADS cluster is listed as Envoy lists static clusters.
      assert.deepEqual(arr(section('ClustersConfigDump')['static_clusters']).map((c) => obj(c['cluster'])['name']), ['xds-grpc']);
    });

    await t.test('keys are proto field names (snake_case), in the wrappers and inside resources', () => {
      const clusters = section('ClustersConfigDump');
      assert.equal(typeof clusters['version_info'], 'string');
      const c = arr(clusters['dynamic_active_clusters']).find((e) => obj(e['cluster'])['name'] === CLUSTER);
      assert.ok(c !== undefined, 'the upstream cluster is dumped');
      assert.equal(typeof c['last_updated'], 'string');
      assert.equal(obj(c['cluster'])['@type'], 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
      assert.ok('connect_timeout' in obj(c['cluster']));
      const listener = obj(obj(arr(section('ListenersConfigDump')['dynamic_listeners'])[0])['active_state'])['listener'];
      assert.ok(Array.isArray(obj(listener)['filter_chains']));
      assert.ok(arr(section('RoutesConfigDump')['dynamic_route_configs']).every((r) => obj(r['route_config'])['@type'] === 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration'));
      const camel = [...keysOf(dump, new Set())].filter((k) => /^[a-z][a-z0-9]*[A-Z]/.test(k));
      assert.deepEqual(camel, []);
    });

    await t.test('the SDS certificate is an active secret: chain present, private key [redacted]', () => {
      const secrets = section('SecretsConfigDump');
      const s = arr(secrets['dynamic_active_secrets']).find((x) => x['name'] === 'kubernetes://web-cred');
      assert.ok(s !== undefined, JSON.stringify(secrets));
      assert.notEqual(s['version_info'], '');
      assert.equal(typeof s['last_updated'], 'string');
      const secret = obj(s['secret']);
      assert.equal(secret['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret');
      const tls = obj(secret['tls_certificate']);
      assert.equal(obj(tls['certificate_chain'])['inline_bytes'], b64(web.cert));
      assert.equal(Buffer.from(String(obj(tls['private_key'])['inline_bytes']), 'base64').toString(), '[redacted]');
      assert.ok(!text.includes(b64(web.key)) && !text.includes('PRIVATE KEY'), 'the key is nowhere in the dump');
      assert.deepEqual(arr(secrets['dynamic_warming_secrets']), []);
    });

    await t.test('/clusters?format=json is envoy.admin.v3.Clusters with the endpoint HEALTHY; text stays the default', async () => {
      const r = await get('/clusters?format=json');
      assert.match(r.type, /^application\/json/);
      const statuses = arr(obj(JSON.parse(r.body))['cluster_statuses']);
      const c = statuses.find((x) => x['name'] === CLUSTER);
      assert.ok(c !== undefined, r.body);
      assert.equal(c['added_via_api'], true);
      assert.equal(c['observability_name'], `${CLUSTER};`, "the cluster's alt_stat_name (Istio ends it with ';')");
      assert.equal(arr(obj(c['circuit_breakers'])['thresholds']).length, 2);
      const hosts = arr(c['host_statuses']);
      assert.equal(hosts.length, 1);
      const h = obj(hosts[0]);
      assert.deepEqual(obj(h['address'])['socket_address'], { address: '127.0.0.1', port_value: up.port });
      assert.deepEqual(h['health_status'], { eds_health_status: 'HEALTHY' });
      assert.equal(h['weight'], 1);
      assert.ok(arr(h['stats']).some((s) => s['name'] === 'rq_active' && s['type'] === 'GAUGE'));
      const xds = statuses.find((x) => x['name'] === 'xds-grpc');
      assert.ok(xds !== undefined && xds['added_via_api'] === undefined, 'the static ADS cluster is not added via API');

      const plain = await get('/clusters');
      assert.match(plain.type, /^text\/plain/);
      assert.match(plain.body, new RegExp(`^${CLUSTER.replaceAll('|', '\\|')}::127\\.0\\.0\\.1:${up.port}::health_flags::healthy$`, 'm'));
      assert.match(plain.body, /^xds-grpc::added_via_api::false$/m);
    });

    await t.test('a proxy still syncing reports the secrets it waits for as warming', async () => {
      await m.write('gw2.yaml', gateway('gw2', await freePort(), 'missing-cred'));
      const warming = await waitFor(async () => {
        const s = arr(obj(JSON.parse((await get('/config_dump')).body))['configs']).find((c) => c['@type'] === `${ADMIN}SecretsConfigDump`);
        const w = arr(obj(s)['dynamic_warming_secrets']);
        return w.length > 0 ? w : undefined;
      }, 'a warming secret', 10_000);
      assert.deepEqual(
        warming.map((w) => [w['name'], obj(w['secret'])['name']]),
        [['kubernetes://missing-cred', 'kubernetes://missing-cred']],
      );
    });
  });
});
