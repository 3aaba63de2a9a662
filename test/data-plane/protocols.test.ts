// HTTP/2, gRPC and WebSocket through an ingress gateway: an h2c client reaches an HTTP/1.1 upstream, a
// gRPC client (grpc-js) reaches a gRPC server with its status and trailers intact, and a WebSocket
// upgrade is proxied both ways.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as h2connect, createServer as createH2Server, type IncomingHttpHeaders, type ServerHttp2Session } from 'node:http2';
import { createServer, type IncomingMessage } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { Server, ServerCredentials, credentials, makeGenericClientConstructor, status, type ServiceError, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { WebSocket } from 'undici';
import { freePort, send, startMesh, startTestProxy, startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

// Config strings with characters above U+00FF: they go out as UTF-8 over HTTP/2 as over HTTP/1.1 (node's http2
// alone would send each character's low byte: U+010A as LF, which the receiving HTTP/2 stack drops).
const UNICODE_HEADERS = '    headers: {request: {set: {x-unicode: "\\u010a\\u20ac"}}, response: {add: {x-resp-unicode: "\\u20ac \\u010d"}}}';
const utf8Bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

function gatewayFor(port: number, upstreams: { name: string; port: number; protocol: string }[]): Record<string, string> {
  return {
    'gw.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: ${port}, name: http, protocol: HTTP}, hosts: ["*"]}]
`,
    'up.yaml': upstreams
      .map(
        (u) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${u.name}, namespace: istio-system}
spec:
  hosts: [${u.name}.example.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: ${u.protocol.toLowerCase()}, protocol: ${u.protocol}}]
  endpoints: [{address: 127.0.0.1, ports: {${u.protocol.toLowerCase()}: ${u.port}}}]
---
`,
      )
      .join(''),
    'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
${upstreams.map((u) => `  - match: [{uri: {prefix: /${u.name === 'grpc' ? 'test.Echo' : u.name}}}]\n    route: [{destination: {host: ${u.name}.example.internal, port: {number: 80}}}]${u.name === 'grpc' ? '' : `\n${UNICODE_HEADERS}`}`).join('\n')}
`,
  };
}

const identity = (b: Buffer): Buffer => b;
const EchoClient = makeGenericClientConstructor(
  { Say: { path: '/test.Echo/Say', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
  'Echo',
);

describe('protocols through the gateway', () => {
  it('serves HTTP/2 cleartext clients, gRPC with status and trailers, and WebSocket upgrades', async (t) => {
    const http1 = await startUpstream(t, 'web');
    // gRPC server: echoes, or fails with NOT_FOUND and a trailer when asked.
    // An HTTP/2 (h2c) upstream that records the headers it gets.
    const h2Seen: IncomingHttpHeaders[] = [];
    const h2up = createH2Server((req, res) => {
      h2Seen.push(req.headers);
      res.end('h2up');
    });
    const h2upPort = await new Promise<number>((r) => h2up.listen(0, '127.0.0.1', () => r((h2up.address() as AddressInfo).port)));
    const h2upSessions = new Set<ServerHttp2Session>();
    h2up.on('session', (x: ServerHttp2Session) => h2upSessions.add(x));
    t.after(() => {
      // The proxy keeps its HTTP/2 session to the upstream open: close() alone would wait for it.
      for (const x of h2upSessions) x.destroy();
      return new Promise<void>((r) => h2up.close(() => r()));
    });
    const grpcServer = new Server();
    grpcServer.addService(
      { Say: { path: '/test.Echo/Say', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
      {
        Say: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
          const text = call.request.toString();
          if (text === 'missing') return cb({ code: status.NOT_FOUND, details: 'no such thing' } as ServiceError);
          cb(null, Buffer.from(`echo:${text}`));
        },
      },
    );
    const grpcPort = await new Promise<number>((ok, fail) => grpcServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))));
    t.after(() => new Promise<void>((r) => grpcServer.tryShutdown(() => r())));
    // A WebSocket echo server written against RFC 6455 (text frames, client frames masked).
    const wsServer = createServer();
    wsServer.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`);
      socket.on('data', (d: Buffer) => {
        const len = (d[1] as number) & 0x7f;
        const mask = d.subarray(2, 6);
        const payload = Buffer.from(d.subarray(6, 6 + len).map((b, i) => b ^ (mask[i % 4] as number)));
        const reply = Buffer.from(`echo:${payload.toString()}`);
        socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
      });
    });
    await new Promise<void>((r) => wsServer.listen(0, '127.0.0.1', () => r()));
    const upgraded = new Set<Socket>();
    wsServer.on('upgrade', (_req: IncomingMessage, socket: Socket) => upgraded.add(socket));
    t.after(() => {
      for (const s of upgraded) s.destroy();
      return new Promise<void>((r) => wsServer.close(() => r()));
    });

    const port = await freePort();
    const mesh = await startMesh(
      t,
      gatewayFor(port, [
        { name: 'web', port: http1.port, protocol: 'HTTP' },
        { name: 'grpc', port: grpcPort, protocol: 'GRPC' },
        { name: 'ws', port: (wsServer.address() as AddressInfo).port, protocol: 'HTTP' },
        { name: 'h2up', port: h2upPort, protocol: 'HTTP2' },
      ]),
    );
    await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/web' }).catch(() => undefined))?.status === 200, 'the gateway to serve', 10_000);

    // HTTP/2 cleartext (prior knowledge) downstream, HTTP/1.1 upstream.
    const session = h2connect(`http://127.0.0.1:${port}`);
    t.after(() => session.close());
    const h2 = await new Promise<{ status: number; body: string; unicode: unknown }>((ok, fail) => {
      const req = session.request({ ':path': '/web/h2', ':authority': 'shop.example.com' });
      let body = '';
      let st = 0;
      let unicode: unknown;
      req.on('response', (h) => {
        st = Number(h[':status']);
        unicode = h['x-resp-unicode'];
      });
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => ok({ status: st, body, unicode }));
      req.on('error', fail);
      req.end();
    });
    assert.deepEqual(h2, { status: 200, body: 'web', unicode: utf8Bytes('\u20ac \u010d') });
    assert.equal(http1.seen.at(-1)?.headers['host'], 'shop.example.com');
    assert.equal(http1.seen.at(-1)?.headers['x-unicode'], utf8Bytes('\u010a\u20ac'));

    // An HTTP/2 upstream gets config strings as UTF-8 too (grpc-js refuses non-ASCII metadata, so a plain h2c server).
    const toH2 = await send('127.0.0.1', port, { path: '/h2up/x' });
    assert.equal(toH2.body, 'h2up');
    assert.equal(h2Seen.at(-1)?.['x-unicode'], utf8Bytes('\u010a\u20ac'));

    // gRPC: an answer, and an error status with its message, end to end.
    const client = new EchoClient(`127.0.0.1:${port}`, credentials.createInsecure());
    t.after(() => client.close());
    const call = (text: string): Promise<{ err: ServiceError | null; out?: string }> =>
      new Promise((ok) => (client as unknown as { Say(b: Buffer, cb: (e: ServiceError | null, r?: Buffer) => void): void }).Say(Buffer.from(text), (e, r) => ok({ err: e, ...(r !== undefined ? { out: r.toString() } : {}) })));
    const good = await call('hello');
    assert.equal(good.err, null);
    assert.equal(good.out, 'echo:hello');
    const bad = await call('missing');
    assert.equal(bad.err?.code, status.NOT_FOUND);
    assert.equal(bad.err?.details, 'no such thing');

    // WebSocket upgrade, proxied both ways.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/chat`);
    t.after(() => ws.close());
    const echoed = await new Promise<string>((ok, fail) => {
      ws.addEventListener('open', () => ws.send('ping'));
      ws.addEventListener('message', (e) => ok(String(e.data)));
      ws.addEventListener('error', () => fail(new Error('websocket error')));
    });
    assert.equal(echoed, 'echo:ping');

    // An upgrade request's header bytes reach the upstream as sent: obs-text (0xE9) stays one byte.
    const seenUpgrade = new Promise<IncomingMessage>((ok) => wsServer.once('upgrade', (req: IncomingMessage) => ok(req)));
    const raw = netConnect(port, '127.0.0.1');
    t.after(() => raw.destroy());
    raw.write(Buffer.from('GET /ws/raw HTTP/1.1\r\nhost: shop.example.com\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\nx-latin: caf\u00e9\r\n\r\n', 'latin1'));
    const up = await seenUpgrade;
    assert.equal(up.headers['x-latin'], 'caf\u00e9', 'node reads header bytes as latin1: one 0xE9 byte');
    assert.equal(up.headers['host'], 'shop.example.com');
    assert.equal(up.url, '/ws/raw');
  });
});
