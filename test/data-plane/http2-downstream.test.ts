// The gateway's HTTP/2 downstream (node's core stream API, src/proxy/http/http2-response.ts), driven through
// the control plane's xDS with a real h2c client: complete and streamed responses, HEAD and 204 without a
// body, a header node's http2 allows once but the upstream repeated, request bodies and 100-continue (forwarded,
// as Istio's proxy_100_continue asks, and the upstream's 100 relayed), a body larger than HTTP/2's flow-control windows, CONNECT refused,
// gRPC server streaming with its trailers (a status after messages, OK or an error), and a client that
// resets its stream: the upstream request is abandoned and the access log says DC.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { Server, ServerCredentials, credentials, makeGenericClientConstructor, status, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import { freePort, send, startMesh, startTestProxy, startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { adminStats, gatewayToUpstream } from '../support/gateway-mesh.js';

/** The test gateway to the web upstream (gateway-mesh.ts), plus a gRPC service for the /test.Stream methods. */
const files = (port: number, webPort: number, grpcPort: number): Record<string, string> => ({
  ...gatewayToUpstream(port, webPort),
  'grpc.yaml': `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: grpc, namespace: istio-system}
spec:
  hosts: [grpc.example.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: grpc, protocol: GRPC}]
  endpoints: [{address: 127.0.0.1, ports: {grpc: ${grpcPort}}}]
`,
  'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /test.Stream}}]
    route: [{destination: {host: grpc.example.internal, port: {number: 80}}}]
  - route: [{destination: {host: a.example.internal, port: {number: 80}}}]
`,
});

interface H2Reply {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: IncomingHttpHeaders | undefined;
  /** When each DATA chunk arrived (ms since the request). */
  readonly at: number[];
}

function h2request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string): Promise<H2Reply> {
  return new Promise((ok, fail) => {
    const t0 = Date.now();
    const req = session.request(headers, { endStream: body === undefined });
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    const at: number[] = [];
    req.on('response', (h) => (head = h));
    req.on('trailers', (h) => (trailers = h));
    req.on('data', (d: Buffer) => {
      chunks.push(d);
      at.push(Date.now() - t0);
    });
    req.on('end', () => ok({ headers: head, body: Buffer.concat(chunks), trailers, at }));
    req.on('error', fail);
    if (body !== undefined) req.end(body);
  });
}

const identity = (b: Buffer): Buffer => b;
const STREAM_METHOD = { path: '/test.Stream/Count', requestStream: false, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
const StreamClient = makeGenericClientConstructor({ Count: STREAM_METHOD }, 'Stream');

describe('HTTP/2 downstream', () => {
  it('answers h2c streams from the core API: bodies, HEAD, 204, 100-continue, flow control, CONNECT, gRPC trailers, resets', async (t) => {
    let hangingClosed: (() => void) | undefined;
    const upstreamAbandoned = new Promise<void>((r) => (hangingClosed = r));
    const web = await startUpstream(t, 'web', '127.0.0.1', 0, (req, res, body) => {
      const url = req.url ?? '';
      if (url === '/small') return void res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5', 'x-kind': 'small' }).end(req.method === 'HEAD' ? undefined : 'hello');
      if (url === '/nocontent') return void res.writeHead(204, { 'x-kind': 'none' }).end();
      if (url === '/repeated') return void res.writeHead(200, { 'content-type': ['text/plain', 'text/html'], 'x-many': ['a', 'b'] }).end('twice');
      if (url === '/big') return void res.writeHead(200, { 'content-length': String(1 << 20) }).end(Buffer.alloc(1 << 20, 0x61));
      if (url === '/echo') return void res.writeHead(200, { 'x-length': String(body.length) }).end(body.toUpperCase());
      if (url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first;');
        setTimeout(() => res.end('second'), 150);
        return;
      }
      if (url === '/hang') {
        res.on('close', () => hangingClosed?.());
        return;
      }
      res.writeHead(404).end();
    });
    // gRPC server streaming: three messages, then OK, or two and then an error status.
    const grpcServer = new Server();
    grpcServer.addService(
      { Count: STREAM_METHOD },
      {
        Count: (call: ServerWritableStream<Buffer, Buffer>) => {
          const fail = call.request.toString() === 'fail';
          let n = 0;
          const tick = (): void => {
            n++;
            if (fail && n === 3) return void call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: 'enough' });
            call.write(Buffer.from(`m${n}`));
            if (n === 3) return void call.end();
            setTimeout(tick, 20);
          };
          tick();
        },
      },
    );
    const grpcPort = await new Promise<number>((ok, fail) => grpcServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))));
    t.after(() => new Promise<void>((r) => grpcServer.tryShutdown(() => r())));

    const port = await freePort();
    const logDir = await mkdtemp(join(tmpdir(), 'isthmus-h2-log-'));
    t.after(() => rm(logDir, { recursive: true, force: true }));
    const log = join(logDir, 'access.json');
    const mesh = await startMesh(t, files(port, web.port, grpcPort), { accessLogFile: log, accessLogEncoding: 'JSON' });
    const proxy = await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/small' }).catch(() => undefined))?.status === 200, 'the gateway to serve', 10_000);

    const session = h2connect(`http://127.0.0.1:${port}`);
    t.after(() => session.destroy());
    const get = (path: string, extra: OutgoingHttpHeaders = {}): Promise<H2Reply> => h2request(session, { ':path': path, ':authority': 'shop.example.com', ...extra });

    // A complete response: head, body, no trailers; the HCM's own headers are there.
    const small = await get('/small');
    assert.equal(small.headers[':status'], 200);
    assert.equal(small.headers['x-kind'], 'small');
    assert.equal(small.headers['content-type'], 'text/plain');
    assert.match(String(small.headers['x-envoy-upstream-service-time']), /^\d+$/);
    assert.equal(typeof small.headers['date'], 'string');
    assert.equal(small.headers['connection'], undefined, 'no connection-specific header over HTTP/2');
    assert.equal(small.body.toString(), 'hello');
    assert.equal(small.trailers, undefined);

    // HEAD: the upstream's content-length, no body; 204: no body.
    const head = await get('/small', { ':method': 'HEAD' });
    assert.deepEqual([head.headers[':status'], head.headers['content-length'], head.body.length], [200, '5', 0]);
    const none = await get('/nocontent');
    assert.deepEqual([none.headers[':status'], none.headers['x-kind'], none.body.length], [204, 'none', 0]);

    // A header node's HTTP/2 allows once, repeated by the upstream: the first value, as node:http reads it,
    // where node's http2 alone would refuse the whole head; another repeated header as one list value.
    const repeated = await get('/repeated');
    assert.deepEqual([repeated.headers[':status'], repeated.headers['content-type'], repeated.headers['x-many'], repeated.body.toString()], [200, 'text/plain', 'a, b', 'twice']);

    // A response still streaming: its head and first bytes arrive before the upstream ends it.
    const streamed = await get('/stream');
    assert.equal(streamed.body.toString(), 'first;second');
    assert.ok(streamed.at.length >= 2, `two DATA arrivals, got ${streamed.at.length}`);
    assert.ok((streamed.at.at(-1) as number) - (streamed.at[0] as number) >= 100, `the first bytes came before the end: ${streamed.at.join(', ')} ms`);

    // A request body, and one sent only after 100-continue.
    const echoed = await get('/echo', { ':method': 'POST' }).catch(() => undefined);
    assert.equal(echoed?.headers['x-length'], '0');
    const posted = await h2request(session, { ':path': '/echo', ':method': 'POST', ':authority': 'shop.example.com' }, 'some body');
    assert.deepEqual([posted.headers['x-length'], posted.body.toString()], ['9', 'SOME BODY']);
    const continued = await new Promise<{ sawContinue: boolean; reply: string }>((ok, fail) => {
      const req = session.request({ ':path': '/echo', ':method': 'POST', ':authority': 'shop.example.com', expect: '100-continue' });
      let sawContinue = false;
      const chunks: Buffer[] = [];
      req.on('continue', () => {
        sawContinue = true;
        req.end('after continue');
      });
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => ok({ sawContinue, reply: Buffer.concat(chunks).toString() }));
      req.on('error', fail);
    });
    assert.deepEqual(continued, { sawContinue: true, reply: 'AFTER CONTINUE' });
    // Istio's connection managers proxy 100-continue: the expectation went upstream, node's server answered it.
    assert.equal(web.seen.at(-1)?.headers['expect'], '100-continue', 'the expectation is forwarded');

    // 1 MiB: sixteen times HTTP/2's initial stream window, so it moves only as the client reads.
    const big = await get('/big');
    assert.equal(big.body.length, 1 << 20);
    assert.ok(big.body.every((b) => b === 0x61));

    // CONNECT is refused with 405, as node's server refuses it; the session stays usable.
    const connectReply = await new Promise<number>((ok, fail) => {
      const req = session.request({ ':method': 'CONNECT', ':authority': 'elsewhere.example.com:443' });
      req.on('response', (h) => ok(Number(h[':status'])));
      req.on('error', fail);
    });
    assert.equal(connectReply, 405);
    assert.equal((await get('/small')).body.toString(), 'hello');

    // gRPC server streaming through the gateway: the messages as they come, then the status trailers.
    const client = new StreamClient(`127.0.0.1:${port}`, credentials.createInsecure());
    t.after(() => client.close());
    const count = (text: string): Promise<{ messages: string[]; code: number; details: string }> =>
      new Promise((ok) => {
        const messages: string[] = [];
        const call = (client as unknown as { Count(b: Buffer): NodeJS.EventEmitter }).Count(Buffer.from(text));
        call.on('data', (m: Buffer) => messages.push(m.toString()));
        call.on('error', (e: ServiceError) => ok({ messages, code: e.code, details: e.details }));
        call.on('status', (s: { code: number; details: string }) => {
          if (s.code === status.OK) ok({ messages, code: s.code, details: s.details });
        });
      });
    assert.deepEqual(await count('ok'), { messages: ['m1', 'm2', 'm3'], code: status.OK, details: 'OK' });
    assert.deepEqual(await count('fail'), { messages: ['m1', 'm2'], code: status.RESOURCE_EXHAUSTED, details: 'enough' });

    // A client that resets its stream while the upstream has not answered: the upstream request is
    // abandoned, the session goes on, and the access log marks the request DC.
    await new Promise<void>((ok) => {
      const req = session.request({ ':path': '/hang', ':authority': 'shop.example.com' });
      req.on('error', () => {});
      req.on('close', () => ok());
      const seen = web.seen.length;
      void waitFor(() => web.seen.length > seen, 'the hanging request to reach the upstream').then(() => req.close());
    });
    await Promise.race([upstreamAbandoned, new Promise((_, fail) => setTimeout(() => fail(new Error('the upstream request was not abandoned after the client reset its stream')), 5_000).unref())]);
    assert.equal((await get('/small')).body.toString(), 'hello');

    const entries = await waitFor(async () => {
      const lines = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
      const all = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      return all.some((e) => e['path'] === '/hang') && all.filter((e) => e['protocol'] === 'HTTP/2').length >= 12 ? all : undefined;
    }, 'the access log lines', 10_000);
    const hang = entries.find((e) => e['path'] === '/hang');
    assert.equal(hang?.['response_flags'], 'DC');
    assert.equal(hang?.['protocol'], 'HTTP/2');
    const bigEntry = entries.find((e) => e['path'] === '/big');
    assert.deepEqual([bigEntry?.['response_code'], bigEntry?.['response_flags'], bigEntry?.['bytes_sent']], [200, '-', 1 << 20]);
    const grpcEntries = entries.filter((e) => e['path'] === '/test.Stream/Count');
    assert.deepEqual(
      grpcEntries.map((e) => e['response_flags']),
      ['-', '-'],
    );
    // Envoy's connection manager stats: the streams split by protocol (the readiness wait used HTTP/1.1), the
    // HTTP/2 ones at least the access log's, and none in flight any more.
    const stats = await adminStats(proxy.adminUrl);
    const hcm = (name: string): number => [...stats].filter(([k]) => k.startsWith('http.') && k.endsWith(`.${name}`)).reduce((n, [, v]) => n + v, 0);
    assert.equal(hcm('downstream_rq_http1_total') + hcm('downstream_rq_http2_total'), hcm('downstream_rq_total'));
    assert.ok(hcm('downstream_rq_http2_total') >= entries.filter((e) => e['protocol'] === 'HTTP/2').length, `${hcm('downstream_rq_http2_total')} HTTP/2 streams counted`);
    assert.equal(hcm('downstream_rq_active'), 0);
    // The client's RST_STREAM is a reset the proxy received, not one it sent.
    assert.deepEqual([hcm('downstream_rq_rx_reset'), hcm('downstream_rq_tx_reset')], [1, 0]);
    // The relayed 100 Continue is a response of its own (Envoy's chargeStats), as is the upstream's.
    assert.equal(hcm('downstream_rq_1xx'), 1);
    assert.equal([...stats].filter(([k]) => k.startsWith('cluster.') && k.endsWith('.upstream_rq_100')).reduce((n, [, v]) => n + v, 0), 1);
  });
});
