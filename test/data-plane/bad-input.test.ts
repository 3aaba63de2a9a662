// Malformed HTTP at a gateway is refused as Envoy refuses it, never reaches the upstream, and does not
// disturb other connections: bad request line, invalid header characters, conflicting Content-Length,
// Content-Length with Transfer-Encoding, a transfer coding besides chunked (501), oversized headers (431), too
// many headers (431); HTTP/1.0 unless the proxy's metadata accepts it (426).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { freePort, send, startMesh, startTestProxy, startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

/** Writes raw bytes and returns everything the proxy answers until it closes (or 5 s pass). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((ok) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const t = setTimeout(() => s.destroy(), 5000);
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(t);
      ok(out);
    });
    s.on('error', () => undefined);
    s.write(bytes);
  });
}

/** A gateway on `port` routing everything to an upstream on 127.0.0.1:`upstreamPort`. */
function gatewayYaml(port: number, upstreamPort: number): string {
  return `apiVersion: networking.istio.io/v1
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
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{route: [{destination: {host: up.example.internal, port: {number: 80}}}]}]
`;
}

describe('malformed HTTP at the gateway', () => {
  it('refuses each kind of malformed request as Envoy does, and keeps serving good ones', async (t) => {
    const up = await startUpstream(t, 'up');
    const port = await freePort();
    const mesh = await startMesh(t, { 'gw.yaml': gatewayYaml(port, up.port) });
    const proxy = await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/' }).catch(() => undefined))?.status === 200, 'the gateway to serve', 10_000);
    const before = up.seen.length;

    // A slow, open, good connection that stays usable while bad ones are refused.
    const slow = connect(port, '127.0.0.1');
    slow.write('GET /slow HTTP/1.1\r\nhost: a\r\n');

    const cases: { name: string; bytes: string; status: number }[] = [
      { name: 'bad request line', bytes: 'GARBAGE\r\n\r\n', status: 400 },
      { name: 'invalid header name character', bytes: 'GET / HTTP/1.1\r\nhost: a\r\nbad header: v\r\n\r\n', status: 400 },
      { name: 'invalid header value character', bytes: 'GET / HTTP/1.1\r\nhost: a\r\nx: a\x00b\r\n\r\n', status: 400 },
      { name: 'conflicting Content-Length', bytes: 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd', status: 400 },
      { name: 'Content-Length with Transfer-Encoding', bytes: 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', status: 400 },
      { name: 'a transfer coding besides chunked', bytes: 'POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n', status: 501 },
      { name: 'oversized headers', bytes: `GET / HTTP/1.1\r\nhost: a\r\nx-big: ${'a'.repeat(70 * 1024)}\r\n\r\n`, status: 431 },
      { name: 'too many headers', bytes: `GET / HTTP/1.1\r\nhost: a\r\n${Array.from({ length: 120 }, (_, i) => `x-h${i}: v\r\n`).join('')}\r\n`, status: 431 },
    ];
    for (const c of cases) {
      const out = await raw(port, c.bytes);
      assert.match(out, new RegExp(`^HTTP/1\\.1 ${c.status} `), `${c.name}: ${JSON.stringify(out.slice(0, 80))}`);
      assert.match(out, /\r\nserver: istio-envoy\r\n/i, `${c.name}: answered by the proxy`);
    }
    assert.equal(up.seen.length, before, 'no malformed request reached the upstream');
    // Each one counted as Envoy counts a codec error (http.<prefix>.downstream_cx_protocol_error).
    const stats = await (await fetch(`${proxy.adminUrl}/stats?filter=downstream_cx_protocol_error`)).text();
    assert.match(stats, new RegExp(`^http\\.outbound_0\\.0\\.0\\.0_${port};\\.downstream_cx_protocol_error: ${cases.length}$`, 'm'));

    // The slow connection finishes its request and is served.
    const slowReply = await new Promise<string>((ok) => {
      let out = '';
      slow.on('data', (d) => {
        out += d.toString();
        if (/\r\n\r\n(2\r\n)?up/.test(out)) ok(out);
      });
      slow.write('\r\n');
    });
    slow.destroy();
    assert.match(slowReply, /^HTTP\/1\.1 200 /);
    assert.equal(up.seen.at(-1)?.url, '/slow');

    // A malformed request pipelined behind a good one: the good one is forwarded and answered first, then the
    // 400 (Envoy parses one request at a time), never a 400 ahead of a response the client is owed.
    const piped = await raw(port, 'GET /first HTTP/1.1\r\nhost: a\r\n\r\nGARBAGE\r\n\r\n');
    assert.match(piped, /^HTTP\/1\.1 200 (?:(?!HTTP\/1\.1)[^])*HTTP\/1\.1 400 [^]*$/);
    assert.equal(up.seen.at(-1)?.url, '/first');

    // HTTP/1.0: Envoy, as Istio configures it, answers 426 unless the proxy's metadata HTTP10 asks for it.
    const old = await raw(port, 'GET /old HTTP/1.0\r\nhost: a\r\n\r\n');
    assert.match(old, /^HTTP\/1\.1 426 Upgrade Required\r\n[^]*\r\n\r\nUpgrade Required$/);
    assert.notEqual(up.seen.at(-1)?.url, '/old');

    // Istio's connection managers normalize paths (normalize_path): the upstream gets the normalized one; a
    // path with a fragment or a NUL is refused 400 and goes nowhere.
    const norm = await raw(port, 'GET /a/./b/../%63?q=/../x HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n');
    assert.match(norm, /^HTTP\/1\.1 200 /);
    assert.equal(up.seen.at(-1)?.url, '/a/c?q=/../x');
    for (const bad of ['/a#frag', '/a/%00']) {
      const out = await raw(port, `GET ${bad} HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n`);
      assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/, bad);
    }
    assert.equal(up.seen.at(-1)?.url, '/a/c?q=/../x');
    assert.match(await (await fetch(`${proxy.adminUrl}/stats?filter=path_normalization`)).text(), /downstream_rq_failed_path_normalization: 2$/m);
  });

  it('serves HTTP/1.0 on a proxy whose node metadata says HTTP10=1 (Istio: ISTIO_META_HTTP10)', async (t) => {
    const up = await startUpstream(t, 'up');
    const port = await freePort();
    const mesh = await startMesh(t, { 'gw.yaml': gatewayYaml(port, up.port) });
    await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' }, metadata: { HTTP10: '1' } });
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/' }).catch(() => undefined))?.status === 200, 'the gateway to serve', 10_000);
    const out = await raw(port, 'GET /old HTTP/1.0\r\nhost: a\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 200 /);
    assert.equal(up.seen.at(-1)?.url, '/old');
  });
});
