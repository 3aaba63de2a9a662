// Istio's TCP metadata exchange between two sidecars over mTLS, end to end through the control plane's xDS: the
// client's cluster offers `istio-peer-exchange`, the server's inbound TCP chain accepts it, each proxy writes its
// workload first thing and reads the other's. Both reporters' istio_tcp_* metrics then name the peer workload,
// app, version and canonical service; the TCP app receives exactly the client's bytes (the frames never reach
// it); and HTTP to a port of undeclared protocol still lands on the server's HTTP chain (istio.alpn replaces the
// ALPN per request), counted in istio_requests_total. Istio: istio/proxy test/envoye2e/tcp_metadata_exchange and
// https://istio.io/latest/docs/reference/config/metrics/

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { freePort, startMesh, startTestProxy, startUpstream, viaSidecar, type TestMesh } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { STRICT_MTLS } from '../support/mesh-yaml.js';
import type { RunningProxy } from '../../src/proxy/proxy.js';

const SERVER_IP = '127.0.13.2';
const CLIENT_IP = '127.0.13.1';

/** The echo workload serves a TCP port and a port whose protocol nobody declared (`web`: sniffed). */
function services(tcpTarget: number, webTarget: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  selector: {app: echo}
  ports:
  - {name: tcp, port: 9000, targetPort: ${tcpTarget}}
  - {name: web, port: 8000, targetPort: ${webTarget}}
---
apiVersion: v1
kind: Service
metadata: {name: sleep, namespace: default}
spec:
  selector: {app: sleep}
  ports: [{name: http, port: 80, targetPort: 80}]
---
`;
}

interface Mesh {
  readonly mesh: TestMesh;
  readonly server: RunningProxy;
  readonly client: RunningProxy;
  /** Every byte the TCP app received, per connection. */
  readonly received: Buffer[][];
}

async function start(t: TestContext): Promise<Mesh> {
  const tcpTarget = await freePort();
  const received: Buffer[][] = [];
  // The TCP app: echoes what it gets, and keeps it.
  const echo = createServer((s) => {
    const mine: Buffer[] = [];
    received.push(mine);
    s.on('data', (d: Buffer) => {
      mine.push(d);
      s.write(d);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => echo.listen(tcpTarget, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => echo.close(() => r())));
  const web = await startUpstream(t, 'echo-web', '127.0.0.1', await freePort());
  const mesh = await startMesh(t, { 'svc.yaml': services(tcpTarget, web.port), 'mtls.yaml': STRICT_MTLS });
  mesh.cp.workloads.register({ name: 'echo-v1', namespace: 'default', address: SERVER_IP, labels: { app: 'echo', version: 'v1' }, serviceAccount: 'echo', ports: { tcp: tcpTarget, web: web.port }, tlsMode: 'istio' });
  mesh.cp.workloads.register({ name: 'sleep', namespace: 'default', address: CLIENT_IP, labels: { app: 'sleep', version: 'v2' }, serviceAccount: 'sleep', tlsMode: 'istio' });
  const identity = (sa: string) => ({ identity: { token: () => mesh.cp.ca.issueToken({ namespace: 'default', serviceAccount: sa }) } });
  const server = await startTestProxy(t, mesh, { node: 'echo-v1', ip: SERVER_IP, labels: { app: 'echo', version: 'v1' }, serviceAccount: 'echo' }, identity('echo'));
  const client = await startTestProxy(t, mesh, { node: 'sleep', ip: CLIENT_IP, labels: { app: 'sleep', version: 'v2' }, serviceAccount: 'sleep' }, identity('sleep'));
  return { mesh, server, client, received };
}

/** A tunnel to echo:9000 through the client's sidecar (CONNECT, as an app with HTTP_PROXY does). */
function tunnel(): Promise<{ socket: Socket; read: () => Buffer } | undefined> {
  return new Promise((ok) => {
    const s = connect(15001, CLIENT_IP);
    let head = '';
    let body: Buffer[] = [];
    let open = false;
    s.on('data', (d: Buffer) => {
      if (open) return void body.push(d);
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      open = head.startsWith('HTTP/1.1 200');
      if (!open) return ok(undefined);
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      if (rest.length > 0) body.push(rest);
      ok({
        socket: s,
        read: () => {
          const all = Buffer.concat(body);
          body = [];
          return all;
        },
      });
    });
    s.on('error', () => ok(undefined));
    s.on('close', () => ok(undefined));
    s.write('CONNECT echo.default.svc.cluster.local:9000 HTTP/1.1\r\nhost: echo.default.svc.cluster.local:9000\r\n\r\n');
  });
}

/** Sends `data` through the tunnel and waits for its echo; undefined when nothing (or something else) comes back. */
async function roundTrip(tn: { socket: Socket; read: () => Buffer }, data: Buffer): Promise<Buffer> {
  tn.socket.write(data);
  let got = Buffer.alloc(0);
  await waitFor(() => {
    got = Buffer.concat([got, tn.read()]);
    return got.length >= data.length ? true : undefined;
  }, `the echo of ${data.length} bytes`, 10_000);
  return got;
}

async function prometheus(p: RunningProxy): Promise<string> {
  return (await fetch(`${p.adminUrl}/stats/prometheus`)).text();
}

/** The labels of the first `metric` sample matching `want`, with its value. */
function sample(text: string, metric: string, want: Record<string, string>): { labels: Record<string, string>; value: number } | undefined {
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${metric}\\{(.*)\\} (\\d+)$`).exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    if (Object.entries(want).every(([k, v]) => labels[k] === v)) return { labels, value: Number(m[2]) };
  }
  return undefined;
}

function pick(o: Record<string, string>, keys: readonly string[]): Record<string, string | undefined> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

const SOURCE_PEER = ['source_workload', 'source_workload_namespace', 'source_app', 'source_version', 'source_canonical_service', 'source_canonical_revision', 'source_cluster', 'source_principal'];
const DESTINATION_PEER = ['destination_workload', 'destination_workload_namespace', 'destination_app', 'destination_version', 'destination_canonical_service', 'destination_canonical_revision', 'destination_cluster', 'destination_principal'];

describe('TCP metadata exchange between sidecars', () => {
  it('both reporters name the peer workload, and the app gets exactly the client’s bytes', async (t) => {
    const m = await start(t);
    const tn = await waitFor(tunnel, 'a CONNECT tunnel to echo:9000 over mTLS', 10_000);
    t.after(() => tn.socket.destroy());
    const hello = Buffer.from('hello');
    assert.deepEqual(await roundTrip(tn, hello), hello);
    // Bytes that look like the exchange's magic are the app's own: relayed untouched both ways.
    const tricky = Buffer.from([0x3d, 0x23, 0x04, 0x67, 0, 0, 0, 3, 1, 2, 3, 0xff]);
    assert.deepEqual(await roundTrip(tn, tricky), tricky);
    tn.socket.end();
    assert.equal(m.received.length, 1, 'one connection reached the app');
    assert.deepEqual(Buffer.concat(m.received[0] ?? []), Buffer.concat([hello, tricky]), 'the app got the client’s bytes and nothing else');

    const dst = await waitFor(async () => sample(await prometheus(m.server), 'istio_tcp_connections_closed_total', { reporter: 'destination', destination_service: 'echo.default.svc.cluster.local' }), 'the server side’s closed connection', 10_000);
    assert.deepEqual(pick(dst.labels, SOURCE_PEER), {
      source_workload: 'sleep', source_workload_namespace: 'default', source_app: 'sleep', source_version: 'v2',
      source_canonical_service: 'sleep', source_canonical_revision: 'v2', source_cluster: 'Kubernetes', source_principal: 'spiffe://cluster.local/ns/default/sa/sleep',
    });
    const serverText = await prometheus(m.server);
    const dstOpened = sample(serverText, 'istio_tcp_connections_opened_total', { reporter: 'destination', destination_service: 'echo.default.svc.cluster.local' });
    assert.deepEqual(pick(dstOpened?.labels ?? {}, ['source_workload', 'source_app', 'destination_workload', 'request_protocol', 'connection_security_policy']), {
      source_workload: 'sleep', source_app: 'sleep', destination_workload: 'echo-v1', request_protocol: 'tcp', connection_security_policy: 'mutual_tls',
    });
    assert.equal(dstOpened?.value, 1);
    // The frames are not the app's bytes: they are not counted as its traffic either (Istio counts tcp_proxy's).
    assert.equal(sample(serverText, 'istio_tcp_received_bytes_total', { reporter: 'destination', source_workload: 'sleep' })?.value, hello.length + tricky.length);
    assert.equal(sample(serverText, 'istio_tcp_sent_bytes_total', { reporter: 'destination', source_workload: 'sleep' })?.value, hello.length + tricky.length);
    assert.ok((sample(serverText, 'envoy_metadata_exchange_alpn_protocol_found', {})?.value ?? 0) >= 1, 'the server counted the exchange');

    const src = await waitFor(async () => sample(await prometheus(m.client), 'istio_tcp_connections_opened_total', { reporter: 'source', destination_service: 'echo.default.svc.cluster.local' }), 'the client side’s opened connection', 10_000);
    assert.deepEqual(pick(src.labels, [...DESTINATION_PEER, 'source_workload', 'source_app', 'request_protocol']), {
      destination_workload: 'echo-v1', destination_workload_namespace: 'default', destination_app: 'echo', destination_version: 'v1',
      destination_canonical_service: 'echo', destination_canonical_revision: 'v1', destination_cluster: 'Kubernetes', destination_principal: 'spiffe://cluster.local/ns/default/sa/echo',
      source_workload: 'sleep', source_app: 'sleep', request_protocol: 'tcp',
    });
    const closed = await waitFor(async () => sample(await prometheus(m.client), 'istio_tcp_connections_closed_total', { reporter: 'source', destination_workload: 'echo-v1' }), 'the client side’s closed connection', 10_000);
    assert.equal(closed.value, 1);
  });

  it('HTTP over mTLS to a port of undeclared protocol lands on the server’s HTTP chain', async (t) => {
    const m = await start(t);
    const r = await waitFor(async () => {
      const x = await viaSidecar(CLIENT_IP, 'http://echo.default.svc.cluster.local:8000/hello').catch(() => undefined);
      return x?.status === 200 ? x : undefined;
    }, 'HTTP through both sidecars', 10_000);
    assert.equal(r.body, 'echo-web');
    const dst = await waitFor(async () => sample(await prometheus(m.server), 'istio_requests_total', { reporter: 'destination', response_code: '200' }), 'the server side’s request', 10_000);
    assert.deepEqual(pick(dst.labels, ['request_protocol', 'source_workload', 'destination_workload', 'destination_service', 'connection_security_policy']), {
      request_protocol: 'http', source_workload: 'sleep', destination_workload: 'echo-v1', destination_service: 'echo.default.svc.cluster.local', connection_security_policy: 'mutual_tls',
    });
    const text = await prometheus(m.server);
    assert.equal(sample(text, 'istio_tcp_connections_opened_total', { reporter: 'destination' }), undefined, 'nothing went through a TCP chain');
    assert.equal(sample(text, 'envoy_metadata_exchange_alpn_protocol_found', {})?.value ?? 0, 0, 'HTTP never negotiates istio-peer-exchange');
  });
});
