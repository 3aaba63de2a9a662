// Operating a gateway: access logs in Istio's format with response flags, Envoy's /stats and Prometheus
// output, the admin endpoints, config changes that never drop an in-flight request, and a graceful drain.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort, send, startMesh, startTestProxy, startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

const files = (port: number, upstreamPort: number, prefix = '/'): Record<string, string> => ({
  'gw.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: ${port}, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: up, namespace: istio-system}
spec:
  hosts: [up.example.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${upstreamPort}}}]
`,
  'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{match: [{uri: {prefix: ${prefix}}}], route: [{destination: {host: up.example.internal, port: {number: 80}}}]}]
`,
});

describe('operating a gateway', () => {
  it('writes Istio access log lines and Envoy stats, and serves the admin endpoints', async (t) => {
    const up = await startUpstream(t, 'up');
    const port = await freePort();
    const logDir = await mkdtemp(join(tmpdir(), 'isthmus-log-'));
    t.after(() => rm(logDir, { recursive: true, force: true }));
    const log = join(logDir, 'access.log');
    // Access logging is a mesh setting (MeshConfig accessLogFile): the control plane configures it on every listener.
    const mesh = await startMesh(t, files(port, up.port, '/a'), { accessLogFile: log });
    const proxy = await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/a' }).catch(() => undefined))?.status === 200, 'the gateway to serve', 10_000);
    await send('127.0.0.1', port, { path: '/a/logged', headers: { 'user-agent': 'probe/1' } });
    await send('127.0.0.1', port, { path: '/nope' });
    const lines = await waitFor(async () => {
      const text = await readFile(log, 'utf8').catch(() => '');
      return text.includes('/nope') ? text.split('\n') : undefined;
    }, 'access log lines', 10_000);
    // A gateway (use_remote_address) appends the client to x-forwarded-for and gives external requests a new x-request-id.
    const ok = lines.find((l) => l.includes('/a/logged')) ?? '';
    assert.match(ok, /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "GET \/a\/logged HTTP\/1\.1" 200 - via_upstream - "-" 0 2 \d+ \d+ "127\.0\.0\.1" "probe\/1" "[0-9a-f-]{36}" "127\.0\.0\.1:\d+" "127\.0\.0\.1:\d+" outbound\|80\|\|up\.example\.internal /);
    const nr = lines.find((l) => l.includes('/nope')) ?? '';
    assert.match(nr, /"GET \/nope HTTP\/1\.1" 404 NR route_not_found - "-" 0 0 /);

    const stats = await (await fetch(`${proxy.adminUrl}/stats`)).text();
    // Istio's stat prefixes end in ';' so its tag extractors can find the listener and cluster names.
    assert.match(stats, /^http\.outbound_0\.0\.0\.0_\d+;\.downstream_rq_total: 3$/m);
    assert.match(stats, /^http\.outbound_0\.0\.0\.0_\d+;\.downstream_rq_4xx: 1$/m);
    assert.match(stats, /^http\.outbound_0\.0\.0\.0_\d+;\.downstream_rq_http1_total: 3$/m);
    assert.match(stats, /^http\.outbound_0\.0\.0\.0_\d+;\.downstream_rq_active: 0$/m);
    assert.match(stats, /^cluster\.outbound\|80\|\|up\.example\.internal;\.upstream_rq_200: 2$/m);
    const prom = await (await fetch(proxy.prometheusUrl)).text();
    assert.match(prom, /# TYPE envoy_http_downstream_rq_total counter/);
    const json = (await (await fetch(`${proxy.adminUrl}/stats?format=json`)).json()) as { stats: { name: string; value: number }[] };
    assert.ok(json.stats.some((s) => s.name.endsWith('.downstream_rq_4xx') && s.value === 1));

    // Connections: the three requests came on connections of their own, now closed; one more, kept alive,
    // is open (http.<prefix>.downstream_cx_* and Envoy's server.total_connections).
    const held = connect(port, '127.0.0.1');
    t.after(() => held.destroy());
    held.on('error', () => undefined);
    held.write('GET /a/held HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((r) => held.once('data', r));
    const cx = (text: string, n: string): number => Number(new RegExp(`^http\\.outbound_0\\.0\\.0\\.0_\\d+;\\.downstream_cx_${n}: (\\d+)$`, 'm').exec(text)?.[1]);
    const open = await waitFor(async () => {
      const text = await (await fetch(`${proxy.adminUrl}/stats`)).text();
      return cx(text, 'destroy') === 3 ? text : undefined;
    }, 'the closed connections to be counted');
    assert.deepEqual([cx(open, 'total'), cx(open, 'http1_total'), cx(open, 'http2_total'), cx(open, 'active')], [4, 4, 0, 1]);
    assert.match(open, /^server\.total_connections: 1$/m);
    held.destroy();
    await waitFor(async () => /^server\.total_connections: 0$/m.test(await (await fetch(`${proxy.adminUrl}/stats`)).text()), 'the held connection to close');

    const dump = (await (await fetch(`${proxy.adminUrl}/config_dump`)).json()) as { configs: { '@type': string }[] };
    assert.ok(dump.configs.some((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump'));
    const level = await fetch(`${proxy.adminUrl}/logging?level=nonsense`, { method: 'POST' });
    assert.equal(level.status, 400);
  });

  it('writes JSON access logs with Istio\'s keys when the mesh asks for JSON', async (t) => {
    const up = await startUpstream(t, 'up');
    const port = await freePort();
    const logDir = await mkdtemp(join(tmpdir(), 'isthmus-log-'));
    t.after(() => rm(logDir, { recursive: true, force: true }));
    const log = join(logDir, 'access.json');
    const mesh = await startMesh(t, files(port, up.port), { accessLogFile: log, accessLogEncoding: 'JSON' });
    await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/json-probe' }).catch(() => undefined))?.status === 200, 'the gateway to serve', 10_000);
    const entry = await waitFor(async () => {
      const text = await readFile(log, 'utf8').catch(() => '');
      const line = text.split('\n').find((l) => l.includes('/json-probe'));
      return line !== undefined ? (JSON.parse(line) as Record<string, unknown>) : undefined;
    }, 'a JSON access log line', 10_000);
    assert.equal(entry['method'], 'GET');
    assert.equal(entry['path'], '/json-probe');
    assert.equal(entry['response_code'], 200);
    assert.equal(entry['response_flags'], '-');
    assert.equal(entry['upstream_cluster'], 'outbound|80||up.example.internal');
    assert.equal(entry['protocol'], 'HTTP/1.1');
  });

  it('keeps in-flight requests through config changes and drains gracefully', async (t) => {
    let release: (() => void) | undefined;
    const up = await startUpstream(t, 'slow', '127.0.0.1', 0, (req, res) => {
      if (req.url?.startsWith('/slow')) {
        release = () => res.end('slow-done');
        return;
      }
      res.end('fast');
    });
    const port = await freePort();
    const mesh = await startMesh(t, files(port, up.port));
    const proxy = await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/x' }).catch(() => undefined))?.status === 200, 'the gateway to serve', 10_000);

    // A request in flight while the route config changes: it completes.
    const inflight = send('127.0.0.1', port, { path: '/slow/1' });
    await waitFor(() => release !== undefined, 'the slow request to reach the upstream');
    await mesh.write('vs.yaml', files(port, up.port, '/x')['vs.yaml'] as string);
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/y' })).status === 404, 'the new route config to apply', 10_000);
    (release as unknown as () => void)();
    assert.deepEqual(await inflight.then((r) => [r.status, r.body]), [200, 'slow-done']);

    // Drain with a request in flight: it completes, readiness says DRAINING, new connections are refused.
    release = undefined;
    await mesh.write('vs.yaml', files(port, up.port, '/')['vs.yaml'] as string);
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/y' })).status === 200, 'the catch-all route again', 10_000);
    const during = send('127.0.0.1', port, { path: '/slow/2' });
    await waitFor(() => release !== undefined, 'the second slow request to reach the upstream');
    const drained = proxy.drain(5000);
    assert.equal((await fetch(proxy.readinessUrl)).status, 503);
    await assert.rejects(send('127.0.0.1', port, { path: '/x' }));
    (release as unknown as () => void)();
    assert.deepEqual(await during.then((r) => [r.status, r.body]), [200, 'slow-done']);
    await drained;
  });
});
