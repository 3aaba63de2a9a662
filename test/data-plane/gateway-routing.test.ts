// An ingress gateway driven by the control plane's xDS routes real requests to real upstreams: path
// matches, header matches, weighted splits, rewrites, redirects, direct responses, header mutations,
// and the local replies Envoy sends when no route or no upstream answers.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, send, startMesh, startTestProxy, startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

function gateway(port: number): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${port}, name: http, protocol: HTTP}
    hosts: ["*"]
`;
}

function serviceEntry(name: string, upstreamPort: number): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: default}
spec:
  hosts: [${name}.example.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${upstreamPort}}}]
`;
}

describe('ingress gateway routing (real sockets, control-plane xDS)', () => {
  it('routes by path to the right upstream, rewrites, redirects, answers directly and replies 404 NR without a route', async (t) => {
    const a = await startUpstream(t, 'a');
    const b = await startUpstream(t, 'b');
    const port = await freePort();
    const mesh = await startMesh(t, {
      'gw.yaml': gateway(port),
      'a.yaml': serviceEntry('a', a.port),
      'b.yaml': serviceEntry('b', b.port),
      'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /b/}}]
    rewrite: {uri: /rewritten/}
    route: [{destination: {host: b.example.internal, port: {number: 80}}}]
    headers:
      request: {set: {x-added: yes, x-unicode: "caf\u00e9 \u010aInjected: 1"}}
      response: {add: {x-resp: from-route, x-resp-unicode: "\u20ac \u010d"}}
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, redirectCode: 301}
  - match: [{uri: {exact: /hello}}]
    directResponse: {status: 203, body: {string: "hi there"}}
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: a.example.internal, port: {number: 80}}}]
`,
    });
    await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/a' }).catch(() => undefined))?.status === 200, 'the gateway listener to serve', 10_000);

    const ra = await send('127.0.0.1', port, { path: '/a/x?q=1', authority: 'shop.example.com' });
    assert.equal(ra.status, 200);
    assert.equal(ra.body, 'a');
    assert.equal(ra.headers['server'], 'istio-envoy');
    assert.match(String(ra.headers['x-envoy-upstream-service-time']), /^\d+$/);
    const seenA = a.seen.at(-1);
    assert.equal(seenA?.url, '/a/x?q=1');
    assert.equal(seenA?.headers['host'], 'shop.example.com');
    assert.match(String(seenA?.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(seenA?.headers['x-forwarded-proto'], 'http');

    const rb = await send('127.0.0.1', port, { path: '/b/item?x=2' });
    assert.equal(rb.body, 'b');
    assert.equal(rb.headers['x-resp'], 'from-route');
    assert.equal(b.seen.at(-1)?.url, '/rewritten/item?x=2');
    assert.equal(b.seen.at(-1)?.headers['x-added'], 'yes');
    // Config strings go out as UTF-8, as Envoy sends them (node's server reads header bytes as latin1).
    // Written as latin1, U+010A would have lost its high byte and become a bare LF before "Injected".
    const utf8Bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
    assert.equal(b.seen.at(-1)?.headers['x-unicode'], utf8Bytes('caf\u00e9 \u010aInjected: 1'));
    assert.equal(b.seen.at(-1)?.headers['injected'], undefined);
    assert.equal(rb.headers['x-resp-unicode'], utf8Bytes('\u20ac \u010d'));
    assert.equal(b.seen.at(-1)?.headers['x-envoy-original-path'], '/b/item?x=2');

    const red = await send('127.0.0.1', port, { path: '/old', authority: 'shop.example.com' });
    assert.equal(red.status, 301);
    assert.equal(red.headers['location'], 'http://shop.example.com/new');

    const dr = await send('127.0.0.1', port, { path: '/hello' });
    assert.deepEqual([dr.status, dr.body], [203, 'hi there']);

    const nr = await send('127.0.0.1', port, { path: '/nothing' });
    assert.equal(nr.status, 404);
    assert.equal(nr.body, '');
  });
});
