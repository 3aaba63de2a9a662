// Istio's standard metrics between two sidecars with mutual TLS, end to end through the control plane's
// xDS: productpage's sidecar reports as the source, reviews' as the destination; each learns the other's
// workload through the metadata exchange headers (which the apps never see), principals come from the mTLS
// certificates, failed requests carry their response flags, and a Telemetry override removing a tag removes
// it from the proxies' /stats/prometheus. Istio: https://istio.io/latest/docs/reference/config/metrics/ and
// https://istio.io/latest/docs/tasks/observability/metrics/customize-metrics/

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { freePort, startMesh, startTestProxy, startUpstream, viaSidecar, type TestMesh } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { serviceYaml, STRICT_MTLS } from '../support/mesh-yaml.js';



interface Pair {
  readonly mesh: TestMesh;
  readonly seen: { headers: Record<string, unknown> }[];
  readonly client: RunningProxy;
  readonly server: RunningProxy;
}

async function pair(t: TestContext, files: Record<string, string> = {}): Promise<Pair> {
  const target = await freePort();
  const app = await startUpstream(t, 'reviews', '127.0.0.1', target);
  const mesh = await startMesh(t, { 'svc.yaml': serviceYaml('reviews', 9080, target) + serviceYaml('productpage', 9080, 9080) + serviceYaml('ratings', 9080, 9080), 'mtls.yaml': STRICT_MTLS, ...files });
  mesh.cp.workloads.register({ name: 'reviews-v2', namespace: 'default', address: '127.0.1.22', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews', ports: { http: target }, tlsMode: 'istio' });
  mesh.cp.workloads.register({ name: 'productpage-v1', namespace: 'default', address: '127.0.1.21', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage', tlsMode: 'istio' });
  const identity = (sa: string) => ({ identity: { token: () => mesh.cp.ca.issueToken({ namespace: 'default', serviceAccount: sa }) } });
  const server = await startTestProxy(t, mesh, { node: 'reviews-v2', ip: '127.0.1.22', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews' }, identity('bookinfo-reviews'));
  const client = await startTestProxy(t, mesh, { node: 'productpage-v1', ip: '127.0.1.21', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage' }, identity('bookinfo-productpage'));
  return { mesh, seen: app.seen as { headers: Record<string, unknown> }[], client, server };
}

async function prometheus(p: RunningProxy): Promise<string> {
  return (await fetch(`${p.adminUrl}/stats/prometheus`)).text();
}

/** The istio_requests_total samples of a proxy as label maps with their values. */
async function requests(p: RunningProxy): Promise<{ labels: Record<string, string>; value: number }[]> {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of (await prometheus(p)).split('\n')) {
    const m = /^istio_requests_total\{(.*)\} (\d+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

function find(samples: { labels: Record<string, string>; value: number }[], want: Record<string, string>) {
  return samples.find((s) => Object.entries(want).every(([k, v]) => s.labels[k] === v));
}

async function get(path: string) {
  return viaSidecar('127.0.1.21', `http://reviews:9080${path}`);
}

describe('Istio standard metrics between sidecars', () => {
  it('labels both sides of an mTLS request with the peer workloads, principals and service', async (t) => {
    const p = await pair(t);
    await waitFor(async () => ((await get('/reviews/0').catch(() => undefined))?.status === 200 ? true : undefined), 'reviews through mTLS', 10_000);
    for (let i = 1; i <= 3; i++) assert.equal((await get(`/reviews/${i}`)).status, 200);
    // The exchange headers are the proxies' business: the app never sees them.
    for (const s of p.seen) {
      assert.equal(s.headers['x-envoy-peer-metadata'], undefined);
      assert.equal(s.headers['x-envoy-peer-metadata-id'], undefined);
    }
    const src = await waitFor(async () => find(await requests(p.client), { reporter: 'source', response_code: '200' }), 'source-reported requests', 5_000);
    assert.deepEqual(
      pick(src.labels, ['source_workload', 'source_app', 'source_version', 'source_workload_namespace', 'destination_workload', 'destination_app', 'destination_version', 'destination_service', 'destination_service_name', 'destination_service_namespace', 'destination_principal', 'request_protocol', 'response_flags', 'connection_security_policy']),
      {
        source_workload: 'productpage-v1', source_app: 'productpage', source_version: 'v1', source_workload_namespace: 'default',
        destination_workload: 'reviews-v2', destination_app: 'reviews', destination_version: 'v2',
        destination_service: 'reviews.default.svc.cluster.local', destination_service_name: 'reviews', destination_service_namespace: 'default',
        destination_principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
        request_protocol: 'http', response_flags: '-', connection_security_policy: 'unknown',
      },
    );
    assert.ok(src.value >= 4, `count ${src.value}`);
    const dst = await waitFor(async () => find(await requests(p.server), { reporter: 'destination', response_code: '200' }), 'destination-reported requests', 5_000);
    assert.deepEqual(
      pick(dst.labels, ['source_workload', 'source_app', 'source_principal', 'destination_workload', 'destination_canonical_service', 'destination_canonical_revision', 'destination_principal', 'destination_service', 'connection_security_policy']),
      {
        source_workload: 'productpage-v1', source_app: 'productpage', source_principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage',
        destination_workload: 'reviews-v2', destination_canonical_service: 'reviews', destination_canonical_revision: 'v2',
        destination_principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews', destination_service: 'reviews.default.svc.cluster.local',
        connection_security_policy: 'mutual_tls',
      },
    );
    assert.equal(dst.value, src.value, 'each request counted once on each side');
    assert.match(await prometheus(p.server), /istio_request_duration_milliseconds_bucket\{[^}]*reporter="destination"[^}]*le="\+Inf"\} \d+/);
  });

  it('carries response flags for failed requests', async (t) => {
    // ratings has no endpoints: productpage's sidecar answers 503 no healthy upstream (UH) itself.
    const p = await pair(t);
    await waitFor(async () => ((await viaSidecar('127.0.1.21', 'http://ratings:9080/').catch(() => undefined))?.status === 503 ? true : undefined), 'ratings to answer 503', 10_000);
    const s = await waitFor(async () => find(await requests(p.client), { reporter: 'source', destination_service: 'ratings.default.svc.cluster.local' }), 'the failed request', 5_000);
    assert.equal(s.labels['response_code'], '503');
    assert.equal(s.labels['response_flags'], 'UH');
    assert.equal(s.labels['destination_workload'], 'unknown');
  });

  it('a Telemetry override removing a tag removes it from every proxy, live', async (t) => {
    const p = await pair(t);
    await waitFor(async () => ((await get('/reviews/0').catch(() => undefined))?.status === 200 ? true : undefined), 'reviews through mTLS', 10_000);
    const before = await waitFor(async () => find(await requests(p.client), { reporter: 'source' }), 'a first sample', 5_000);
    assert.equal(before.labels['request_protocol'], 'http');
    await p.mesh.write(
      'telemetry.yaml',
      `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  metrics:
  - providers: [{name: prometheus}]
    overrides:
    - match: {metric: REQUEST_COUNT}
      tagOverrides:
        request_protocol: {operation: REMOVE}
`,
    );
    const after = await waitFor(async () => {
      await get('/reviews/9').catch(() => undefined);
      const samples = await requests(p.server);
      return samples.find((s) => s.labels['reporter'] === 'destination' && s.labels['request_protocol'] === undefined);
    }, 'a destination sample without request_protocol', 10_000);
    assert.equal(after.labels['source_workload'], 'productpage-v1');
    // Only the overridden metric lost the tag.
    assert.match(await prometheus(p.server), /istio_request_duration_milliseconds_count\{[^}]*request_protocol="http"/);
  });
});

describe('Istio TCP metrics between sidecars', () => {
  it('counts a TCP connection opened, closed and its bytes on both sides, with the mTLS principals', async (t) => {
    const target = await freePort();
    const accepted = new Set<Socket>();
    const echo = createServer((s) => {
      accepted.add(s);
      s.on('close', () => accepted.delete(s));
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(target, '127.0.0.1', () => r()));
    // A failed step leaves the tunnel open: end its echo side too, or close() would wait for it forever.
    t.after(async () => {
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => echo.close(() => r()));
    });
    // Reports every second (Telemetry reportingInterval -> tcp_reporting_duration), so an open connection's
    // bytes show. Part of the config the proxies start with: written later, it raced the tunnel, which then
    // kept Istio's default 15 s reporting and was reported just at the deadline below (or just after it).
    const mesh = await startMesh(t, {
      'svc.yaml': serviceYaml('echo', 9000, target, 'tcp') + serviceYaml('client', 80, 80),
      'mtls.yaml': STRICT_MTLS,
      'telemetry.yaml': `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  metrics:
  - providers: [{name: prometheus}]
    reportingInterval: 1s
`,
    });
    mesh.cp.workloads.register({ name: 'echo-v1', namespace: 'default', address: '127.0.1.32', labels: { app: 'echo' }, serviceAccount: 'echo', ports: { tcp: target }, tlsMode: 'istio' });
    mesh.cp.workloads.register({ name: 'client', namespace: 'default', address: '127.0.1.31', labels: { app: 'client' }, serviceAccount: 'client', tlsMode: 'istio' });
    const identity = (sa: string) => ({ identity: { token: () => mesh.cp.ca.issueToken({ namespace: 'default', serviceAccount: sa }) } });
    const server = await startTestProxy(t, mesh, { node: 'echo-v1', ip: '127.0.1.32', labels: { app: 'echo' }, serviceAccount: 'echo' }, identity('echo'));
    const client = await startTestProxy(t, mesh, { node: 'client', ip: '127.0.1.31', labels: { app: 'client' }, serviceAccount: 'client' }, identity('client'));
    const tunnel = await waitFor(
      () =>
        new Promise<Socket | undefined>((ok) => {
          const s = connect(15001, '127.0.1.31');
          let buf = '';
          s.on('data', (d) => {
            buf += d.toString();
            if (buf.includes('\r\n\r\n') && !buf.includes('hello')) s.write('hello');
            if (buf.endsWith('hello')) ok(s);
          });
          s.on('error', () => ok(undefined));
          s.on('close', () => ok(undefined));
          s.write('CONNECT echo.default.svc.cluster.local:9000 HTTP/1.1\r\nhost: echo.default.svc.cluster.local:9000\r\n\r\n');
        }),
      'an echo through a CONNECT tunnel over mTLS',
      10_000,
    );
    const sample = (text: string, name: string, reporter: string): string | undefined =>
      text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`reporter="${reporter}"`) && l.includes('destination_service="echo.default.svc.cluster.local"'));
    // While the connection is open: counted opened, its bytes reported, not closed.
    const open = await waitFor(async () => {
      const text = await prometheus(server);
      return / 5$/.test(sample(text, 'istio_tcp_received_bytes_total', 'destination') ?? '') ? text : undefined;
    }, 'the open connection reported by the server side', 15_000);
    assert.match(sample(open, 'istio_tcp_connections_opened_total', 'destination') ?? '', / 1$/);
    assert.equal(sample(open, 'istio_tcp_connections_closed_total', 'destination'), undefined);
    tunnel.end();
    const dst = await waitFor(async () => sample(await prometheus(server), 'istio_tcp_connections_closed_total', 'destination'), 'the server side closed connection', 10_000);
    assert.ok(dst.includes('source_principal="spiffe://cluster.local/ns/default/sa/client"'), dst);
    assert.ok(dst.includes('destination_workload="echo-v1"') && dst.includes('connection_security_policy="mutual_tls"') && dst.includes('request_protocol="tcp"'), dst);
    const serverText = await prometheus(server);
    assert.match(sample(serverText, 'istio_tcp_received_bytes_total', 'destination') ?? '', / 5$/);
    assert.match(sample(serverText, 'istio_tcp_sent_bytes_total', 'destination') ?? '', / 5$/);
    assert.match(sample(serverText, 'istio_tcp_connections_opened_total', 'destination') ?? '', / 1$/);
    const src = await waitFor(async () => sample(await prometheus(client), 'istio_tcp_connections_closed_total', 'source'), 'the client side closed connection', 10_000);
    assert.ok(src.includes('source_workload="client"') && src.includes('destination_principal="spiffe://cluster.local/ns/default/sa/echo"'), src);
  });
});

function pick(o: Record<string, string>, keys: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of keys) out[k] = o[k];
  return out;
}
