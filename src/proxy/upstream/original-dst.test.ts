// ORIGINAL_DST clusters as Envoy's OriginalDstCluster: where a request goes (the connection's destination; the
// x-envoy-original-dst-host header only with use_http_header), upstream_port_override (Istio sets it on the
// passthrough clusters of headless services whose targetPort differs), and the config Envoy refuses.
// Through a real listener to real upstreams on 127.0.0.1.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ClusterSchema, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { StatsStore } from '../stats/stats-store.js';
import { compileCluster } from '../runtime/compile-cluster.js';
import { clusterManagerOf, prefix, route, routeConfig, vhost, toCluster } from '../../../test/support/xds-fixtures.js';
import { startHcmListener } from '../../../test/support/hcm-listener.js';
import { ask } from '../../../test/support/http-ask.js';
import type { ClusterManager } from './cluster-manager.js';
import type { ListenerManager } from '../network/listener-manager.js';
import { isAddressAndPort } from './original-dst.js';

const originalDst = (name: string, extra: JsonObject = {}): Cluster =>
  fromJson(ClusterSchema, { name, type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout: '1s', ...extra }, { registry: XDS_REGISTRY });

const stats = new StatsStore();
const servers: Server[] = [];
const ports = { a: 0, b: 0, listener: 0 };
let clusters: ClusterManager;
let manager: ListenerManager;

async function upstream(name: string): Promise<number> {
  const s = createServer((_req, res) => res.writeHead(200, { 'content-length': String(name.length) }).end(name));
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  servers.push(s);
  return (s.address() as AddressInfo).port;
}

before(async () => {
  ports.a = await upstream('a');
  ports.b = await upstream('b');
  clusters = clusterManagerOf(
    [
      originalDst('plain'),
      originalDst('by-header', { originalDstLbConfig: { useHttpHeader: true } }),
      originalDst('own-header', { originalDstLbConfig: { useHttpHeader: true, httpHeaderName: 'X-Dest' } }),
      originalDst('port-override', { originalDstLbConfig: { upstreamPortOverride: ports.b } }),
    ],
    stats,
  );
  const routes = routeConfig('inline', [
    vhost('all', ['*'], [route('plain', prefix('/plain'), toCluster('plain')), route('header', prefix('/header'), toCluster('by-header')), route('own', prefix('/own'), toCluster('own-header')), route('port', prefix('/port'), toCluster('port-override'))]),
  ]);
  const l = await startHcmListener('passthrough', { routes, clusters, stats });
  manager = l.manager;
  ports.listener = l.port;
});

after(async () => {
  manager.close();
  clusters.close();
  for (const s of servers) await new Promise((ok) => s.close(ok));
});

/** A request for `authority` (the destination the application asked for) with `headers`: the status and the upstream's name. */
async function get(path: string, authority: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const r = await ask(ports.listener, { path, authority, headers, timeoutMs: 5000 });
  return { status: r.status, body: r.body };
}

describe('where an ORIGINAL_DST cluster connects', () => {
  it("the request's own destination; x-envoy-original-dst-host is not looked at without use_http_header", async () => {
    assert.deepEqual(await get('/plain', `127.0.0.1:${ports.a}`, { 'x-envoy-original-dst-host': `127.0.0.1:${ports.b}` }), { status: 200, body: 'a' });
  });

  it('with use_http_header the header wins; one that is not an address and port is counted and passed over', async () => {
    assert.deepEqual(await get('/header', `127.0.0.1:${ports.a}`, { 'x-envoy-original-dst-host': `127.0.0.1:${ports.b}` }), { status: 200, body: 'b' });
    const before = stats.counter('cluster.by-header.original_dst_host_invalid').value;
    assert.deepEqual(await get('/header', `127.0.0.1:${ports.a}`, { 'x-envoy-original-dst-host': 'b.example:80' }), { status: 200, body: 'a' });
    assert.equal(stats.counter('cluster.by-header.original_dst_host_invalid').value, before + 1);
  });

  it('http_header_name names another header', async () => {
    assert.deepEqual(await get('/own', `127.0.0.1:${ports.a}`, { 'x-dest': `127.0.0.1:${ports.b}`, 'x-envoy-original-dst-host': `127.0.0.1:${ports.a}` }), { status: 200, body: 'b' });
  });

  it("upstream_port_override replaces the destination's port", async () => {
    assert.deepEqual(await get('/port', `127.0.0.1:${ports.a}`), { status: 200, body: 'b' });
  });
});

describe('the config Envoy refuses', () => {
  const problemsOf = (c: Cluster): readonly string[] => {
    const r = compileCluster(c);
    return r.ok ? [] : r.problems;
  };

  it('an lb_policy other than CLUSTER_PROVIDED, endpoints, and http_header_name without use_http_header', () => {
    assert.deepEqual(problemsOf(originalDst('x', { lbPolicy: 'ROUND_ROBIN' })), [
      "lb_policy: cluster: LB policy ROUND_ROBIN is not valid for Cluster type ORIGINAL_DST. Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'",
    ]);
    assert.deepEqual(problemsOf(originalDst('x', { loadAssignment: { clusterName: 'x', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 1 } } } }] }] } })), [
      'load_assignment: ORIGINAL_DST clusters must have no load assignment configured',
    ]);
    assert.deepEqual(problemsOf(originalDst('x', { originalDstLbConfig: { httpHeaderName: 'x-dest' } })), [
      'original_dst_lb_config.http_header_name: ORIGINAL_DST cluster: invalid config http_header_name=x-dest and use_http_header is false. Set use_http_header to true if http_header_name is desired.',
    ]);
    assert.deepEqual(problemsOf(originalDst('x', { originalDstLbConfig: { upstreamPortOverride: 70000 } })), ['original_dst_lb_config.upstream_port_override: value must be less than or equal to 65535']);
    assert.deepEqual(problemsOf(originalDst('x', { originalDstLbConfig: { useHttpHeader: true, upstreamPortOverride: 8080 } })), []);
  });

  it('addresses the header may name: an IP address and a port, IPv6 in brackets', () => {
    const good = ['10.0.0.1:80', '[::1]:8080', '[2001:db8::1]:65535'];
    const bad = ['example.com:80', '10.0.0.1', '10.0.0.1:', '10.0.0.1:99999', '::1:80', '[::1]', '10.0.0.1:8o'];
    assert.deepEqual(good.filter((v) => !isAddressAndPort(v)), []);
    assert.deepEqual(bad.filter((v) => isAddressAndPort(v)), []);
  });
});
