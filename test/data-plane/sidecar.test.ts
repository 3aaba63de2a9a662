// Sidecars without iptables: an app reaches other services by name through its sidecar's HTTP proxy
// (HTTP_PROXY, and CONNECT for TCP), the destination's sidecar takes the connection on the workload's
// address and hands it to the app on localhost, and Istio's routing applies on the way.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startMesh, startTestProxy, startUpstream, viaSidecar } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { serviceYaml } from '../support/mesh-yaml.js';


describe('sidecar capture (HTTP proxy outbound, workload-address inbound)', () => {
  it('productpage -> reviews through both sidecars, with the VirtualService applied', async (t) => {
    const target = await freePort();
    const app = await startUpstream(t, 'reviews-v1', '127.0.0.1', target);
    const mesh = await startMesh(t, {
      'svc.yaml': serviceYaml('reviews', 9080, target) + serviceYaml('productpage', 9080, 9080),
      'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
    route: [{destination: {host: reviews}}]
  - route: [{destination: {host: reviews}}]
    headers: {request: {set: {x-via: vs}}}
`,
    });
    mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: '127.0.0.12', labels: { app: 'reviews', version: 'v1' }, ports: { http: target }, tlsMode: 'disabled' });
    mesh.cp.workloads.register({ name: 'productpage-v1', namespace: 'default', address: '127.0.0.11', labels: { app: 'productpage', version: 'v1' }, tlsMode: 'disabled' });
    await startTestProxy(t, mesh, { node: 'reviews-v1', ip: '127.0.0.12', labels: { app: 'reviews', version: 'v1' } });
    await startTestProxy(t, mesh, { node: 'productpage-v1', ip: '127.0.0.11', labels: { app: 'productpage', version: 'v1' } });

    const r = await waitFor(async () => {
      const x = await viaSidecar('127.0.0.11', 'http://reviews:9080/reviews/0').catch(() => undefined);
      return x?.status === 200 ? x : undefined;
    }, 'reviews through the sidecars', 10_000);
    assert.equal(r.body, 'reviews-v1');
    const seen = app.seen.at(-1);
    assert.equal(seen?.url, '/reviews/0');
    assert.equal(seen?.headers['x-via'], 'vs');
    assert.equal(seen?.headers['host'], 'reviews:9080');
    assert.equal(r.headers['server'], 'envoy', 'the outbound sidecar answers as Envoy does (istio-envoy only on gateways and inbound)');

    const aborted = await viaSidecar('127.0.0.11', 'http://reviews:9080/reviews/0', { headers: { 'end-user': 'jason' } });
    assert.deepEqual([aborted.status, aborted.body], [418, 'fault filter abort']);

    // Expect: 100-continue through both sidecars (Istio sets proxy_100_continue): the app's 100 Continue comes
    // back through the inbound sidecar and the outbound HTTP proxy, and only then does the client send its body.
    const continued = await new Promise<{ status: number; continuedFirst: boolean }>((ok, fail) => {
      let continuedFirst = false;
      const req = httpRequest(
        { host: '127.0.0.11', port: 15001, path: 'http://reviews:9080/upload', method: 'POST', headers: { host: 'reviews:9080', expect: '100-continue', 'content-length': '7' }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => ok({ status: res.statusCode ?? 0, continuedFirst }));
        },
      );
      req.on('continue', () => {
        continuedFirst = true;
        req.end('payload');
      });
      req.on('error', fail);
    });
    assert.deepEqual(continued, { status: 200, continuedFirst: true });
    assert.deepEqual([app.seen.at(-1)?.url, app.seen.at(-1)?.headers['expect'], app.seen.at(-1)?.body], ['/upload', '100-continue', 'payload']);

    // The app is reachable only through its sidecar's inbound listener on the workload address.
    const direct = await fetch(`http://127.0.0.12:${target}/direct`);
    assert.equal(await direct.text(), 'reviews-v1');
    assert.equal(app.seen.at(-1)?.url, '/direct');

    // A service the mesh does not know, on a port with no HTTP listener: the HTTP proxy says so.
    const unknown = await viaSidecar('127.0.0.11', 'http://unknown.example:7777/');
    assert.equal(unknown.status, 502);
  });

  it('tunnels TCP with CONNECT to a TCP service, through the destination sidecar', async (t) => {
    const target = await freePort();
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(target, '127.0.0.1', () => r()));
    t.after(() => new Promise<void>((r) => echo.close(() => r())));
    const logDir = await mkdtemp(join(tmpdir(), 'isthmus-tcp-log-'));
    t.after(() => rm(logDir, { recursive: true, force: true }));
    const log = join(logDir, 'access.log');
    const mesh = await startMesh(t, { 'svc.yaml': serviceYaml('echo', 9000, target, 'tcp') + serviceYaml('client', 80, 80) }, { accessLogFile: log });
    mesh.cp.workloads.register({ name: 'echo-v1', namespace: 'default', address: '127.0.0.22', labels: { app: 'echo' }, ports: { tcp: target }, tlsMode: 'disabled' });
    mesh.cp.workloads.register({ name: 'client', namespace: 'default', address: '127.0.0.21', labels: { app: 'client' }, tlsMode: 'disabled' });
    await startTestProxy(t, mesh, { node: 'echo-v1', ip: '127.0.0.22', labels: { app: 'echo' } });
    await startTestProxy(t, mesh, { node: 'client', ip: '127.0.0.21', labels: { app: 'client' } });

    const reply = await waitFor(
      () =>
        new Promise<string | undefined>((ok) => {
          const s = connect(15001, '127.0.0.21');
          let buf = '';
          s.on('data', (d) => {
            buf += d.toString();
            if (buf.includes('\r\n\r\n') && !buf.includes('ping')) s.write('ping');
            if (buf.endsWith('ping')) {
              s.end();
              ok(buf);
            }
          });
          s.on('error', () => ok(undefined));
          s.on('close', () => ok(undefined));
          s.write('CONNECT echo.default.svc.cluster.local:9000 HTTP/1.1\r\nhost: echo.default.svc.cluster.local:9000\r\n\r\n');
        }),
      'a CONNECT tunnel to echo',
      10_000,
    );
    assert.match(reply, /^HTTP\/1.1 200 Connection Established\r\n\r\nping$/);
    assert.ok((echo.address() as AddressInfo).port > 0);
    // Both sidecars log the TCP connection in Istio's format, with the cluster and the bytes.
    const lines = await waitFor(async () => {
      const text = await readFile(log, 'utf8').catch(() => '');
      const ls = text.split('\n').filter((l) => l.includes('outbound|9000||echo.default.svc.cluster.local') || l.includes('inbound|'));
      return ls.length >= 2 ? ls : undefined;
    }, 'TCP access log lines from both sidecars', 10_000);
    assert.ok(lines.some((l) => /"- - -" 0 - - - "-" 4 4 \d+ - "-" "-" "-" "-" "127\.0\.0\.22:\d+" outbound\|9000\|\|echo\.default\.svc\.cluster\.local /.test(l)), lines.join('\n'));
  });
});
