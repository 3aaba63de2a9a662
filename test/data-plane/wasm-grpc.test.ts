// A Wasm plugin's gRPC call through a real sidecar: the gcore grpc-call plugin (test/wasm-plugins) calls a
// real @grpc/grpc-js server, known to the mesh through a ServiceEntry with protocol GRPC, by its cluster
// name (outbound|<port>||<host>), with the request path as the message, and lets the answer decide the
// request: an OK reply reaches the upstream as a header, a failed call (a status from the server, or a
// server that is down) becomes a 503 with the gRPC status. The gcore grpc-stream plugin does the same over
// a bidirectional stream (two messages, a half-close, every callback), against a real streaming server.

import { testPlugins, type TestPlugins } from '../support/wasm-plugins.js';
import { before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials, status as grpcStatus, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { startGrpcStream } from '../../src/proxy/filters/wasm/grpc-call.js';
import { Http2Upstream } from '../../src/proxy/upstream/http2-upstream.js';
import type { ClusterHandle } from '../../src/proxy/upstream/cluster-handle.js';
import { freePort, send, startMesh, startTestProxy, startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

let plugins: TestPlugins;

before(async () => {
  plugins = await testPlugins();
});

const identity = (b: Buffer): Buffer => b;

interface Call {
  readonly message: string;
  readonly metadata: Record<string, string>;
}

/** A gRPC server with one raw-bytes method, /isthmus.test.Check/Check; `answer` decides each reply. */
async function startGrpcServer(t: TestContext, answer: (message: string) => { ok: string } | { code: grpcStatus }): Promise<{ port: number; calls: Call[] }> {
  const server = new Server();
  const calls: Call[] = [];
  const impl: UntypedServiceImplementation = {
    Check(call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) {
      const message = call.request.toString();
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = String(v);
      calls.push({ message, metadata });
      const a = answer(message);
      if ('ok' in a) cb(null, Buffer.from(a.ok));
      else cb({ code: a.code, details: 'not allowed' });
    },
  };
  server.addService(
    { Check: { path: '/isthmus.test.Check/Check', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
    impl,
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  t.after(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return { port, calls };
}

const SERVICE_ENTRY = (port: number): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: checker, namespace: default}
spec:
  hosts: [checker.default.svc.cluster.local]
  ports: [{number: 50051, name: grpc, protocol: GRPC}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1, ports: {grpc: ${port}}}]
`;

const CLUSTER = 'outbound|50051||checker.default.svc.cluster.local';

interface PluginUnderTest {
  readonly name: string;
  /** The WasmPlugin's pluginConfig, as inline YAML. */
  readonly config: string;
}

const GRPC_CALL: PluginUnderTest = { name: 'grpc-call', config: `{cluster: "${CLUSTER}", service: isthmus.test.Check, method: Check, timeout_ms: 5000}` };
const GRPC_STREAM: PluginUnderTest = { name: 'grpc-stream', config: `{cluster: "${CLUSTER}", service: isthmus.test.Chat, method: Chat, header: x-chat}` };

async function sidecar(t: TestContext, ip: string, grpcPort: number, plugin: PluginUnderTest = GRPC_CALL) {
  const target = await freePort();
  const up = await startUpstream(t, 'reviews', '127.0.0.1', target);
  const mesh = await startMesh(t, {
    'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: ${target}}]
`,
    'checker.yaml': SERVICE_ENTRY(grpcPort),
    'wp.yaml': `apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: ${plugin.name}, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  url: file://${plugins.path('gcore', plugin.name)}
  pluginConfig: ${plugin.config}
`,
  });
  mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: ip, labels: { app: 'reviews' }, ports: { http: target }, tlsMode: 'disabled' });
  await startTestProxy(t, mesh, { node: 'reviews-v1', ip, labels: { app: 'reviews' } });
  return {
    seen: up.seen,
    get: (path: string, headers: Record<string, string> = {}) => send(ip, target, { path, authority: 'reviews:9080', headers }),
  };
}

describe('a Wasm plugin calls a gRPC service of the mesh', () => {
  it('an OK reply reaches the upstream; a status from the server becomes a 503 with it', async (t) => {
    const server = await startGrpcServer(t, (m) => (m.startsWith('/deny') ? { code: grpcStatus.PERMISSION_DENIED } : { ok: `allowed ${m}` }));
    const { get, seen } = await sidecar(t, '127.0.9.21', server.port);
    await waitFor(async () => (await get('/warmup')).status === 200, 'the plugin and the gRPC cluster', 10_000);

    const r = await get('/books/1');
    assert.deepEqual([r.status, r.body], [200, 'reviews']);
    const last = seen[seen.length - 1];
    assert.equal(last?.headers['x-grpc-reply'], 'allowed /books/1', 'the reply message, as the plugin read it');
    assert.equal(last?.headers['x-grpc-status'], '0');
    const call = server.calls[server.calls.length - 1];
    assert.equal(call?.message, '/books/1', 'the message the plugin sent');
    assert.equal(call?.metadata['x-wasm-plugin'], 'grpc-call', 'the initial metadata the plugin sent');

    const denied = await get('/deny/me');
    assert.deepEqual([denied.status, denied.body, denied.headers['x-grpc-status']], [503, 'grpc failed 7\n', '7']);
  });

  it('a gRPC server that is down gives UNAVAILABLE (14)', async (t) => {
    const port = await freePort();
    const { get } = await sidecar(t, '127.0.9.22', port);
    await waitFor(async () => (await get('/x')).status === 503, 'the plugin', 10_000);
    const r = await get('/x');
    assert.deepEqual([r.status, r.body], [503, 'grpc failed 14\n']);
  });
});

interface ChatStream {
  readonly messages: string[];
  readonly metadata: Record<string, string>;
  halfClosed: boolean;
}

/**
 * A gRPC server with one raw-bytes bidi-streaming method, /isthmus.test.Chat/Chat: it answers each message
 * with the message upper-cased, and ends when the client half-closes; a stream whose first message starts
 * with /deny gets that one answer and then PERMISSION_DENIED.
 */
async function startChatServer(t: TestContext): Promise<{ port: number; streams: ChatStream[] }> {
  const server = new Server();
  const streams: ChatStream[] = [];
  server.addService(
    { Chat: { path: '/isthmus.test.Chat/Chat', requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
    {
      Chat(call: ServerDuplexStream<Buffer, Buffer>) {
        const metadata: Record<string, string> = {};
        for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = String(v);
        const stream: ChatStream = { messages: [], metadata, halfClosed: false };
        streams.push(stream);
        let denied = false;
        call.on('data', (m: Buffer) => {
          const text = m.toString();
          stream.messages.push(text);
          // Both messages may arrive in one chunk; writing to the call after its status left it open for good.
          if (denied) return;
          call.write(Buffer.from(text.toUpperCase()));
          if (stream.messages.length === 1 && text.startsWith('/deny')) {
            denied = true;
            call.emit('error', { code: grpcStatus.PERMISSION_DENIED, details: 'not allowed' });
          }
        });
        call.on('end', () => {
          stream.halfClosed = true;
          if (!denied) call.end();
        });
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  t.after(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return { port, streams };
}

describe('a Wasm plugin streams to a gRPC service of the mesh', () => {
  it('both replies reach the upstream in order; a status from the server becomes a 503 with it', async (t) => {
    const server = await startChatServer(t);
    const { get, seen } = await sidecar(t, '127.0.9.23', server.port, GRPC_STREAM);
    await waitFor(async () => (await get('/warmup')).status === 200, 'the plugin and the gRPC cluster', 10_000);

    const r = await get('/books/1', { 'x-chat': 'hello' });
    assert.deepEqual([r.status, r.body], [200, 'reviews']);
    const last = seen[seen.length - 1];
    assert.equal(last?.headers['x-grpc-replies'], '/BOOKS/1, HELLO', 'both replies, in the order they were sent');
    assert.equal(
      last?.headers['x-grpc-stream-events'], 'metadata:200 message message trailers:0 close:0',
      'every stream callback, in order, with the metadata readable in its callback',
    );
    const stream = server.streams[server.streams.length - 1];
    assert.deepEqual(stream?.messages, ['/books/1', 'hello'], 'the messages the plugin sent');
    assert.equal(stream?.metadata['x-wasm-plugin'], 'grpc-stream', 'the initial metadata the plugin sent');
    assert.equal(stream?.halfClosed, true, 'proxy_grpc_close half-closed the stream');

    const denied = await get('/deny/me', { 'x-chat': 'please' });
    assert.deepEqual([denied.status, denied.body, denied.headers['x-grpc-status']], [503, 'grpc stream failed 7\n', '7']);
    assert.equal(denied.headers['x-grpc-stream-events'], 'metadata:200 message trailers:7 close:7', 'the reply before the status was seen');
  });
});

describe('a Wasm plugin gRPC stream (the proxy side, without a VM)', () => {
  it('sends messages, half-closes, and sees metadata, each reply and the close in order', async (t) => {
    const server = new Server();
    server.addService(
      { Chat: { path: '/isthmus.test.Chat/Chat', requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
      {
        Chat(call: ServerDuplexStream<Buffer, Buffer>) {
          call.on('data', (m: Buffer) => call.write(Buffer.from(`echo ${m.toString()}`)));
          call.on('end', () => call.end());
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    t.after(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    const pool = new Http2Upstream({ host: '127.0.0.1', port, connectTimeoutMs: 1000 });
    t.after(() => pool.close());
    const host = { address: '127.0.0.1', port, key: `127.0.0.1:${port}` };
    const cluster = {
      config: { protocol: 'http1', transport: { kind: 'raw' } },
      pick: () => host,
      pool: () => ({ ok: true, dispatcher: pool }),
      tryAcquire: () => true,
      release: () => undefined,
      acquireConnection: () => 'ready',
      releaseConnection: () => undefined,
      report: () => undefined,
      reportResponse: () => undefined,
      requestStarted: () => undefined,
      requestEnded: () => undefined,
    } as unknown as ClusterHandle;
    const events: string[] = [];
    const closed = new Promise<void>((resolve) => {
      const s = startGrpcStream(
        { ok: true, cluster, clusterName: 'chat', authority: 'chat', metadata: [] },
        { upstream: new Uint8Array(), service: 'isthmus.test.Chat', method: 'Chat', initialMetadata: [], timeoutMs: 0 },
        {
          onInitialMetadata: (md) => void events.push(`metadata ${md.find(([k]) => k === ':status')?.[1].toString()}`),
          onMessage: (m) => void events.push(`message ${Buffer.from(m).toString()}`),
          onTrailingMetadata: (md) => void events.push(`trailers ${md.find(([k]) => k === 'grpc-status')?.[1].toString()}`),
          onClose: (code) => {
            events.push(`close ${code}`);
            resolve();
          },
        },
      );
      assert.ok(s.ok);
      assert.equal(s.send(Buffer.from('one'), false), 0);
      assert.equal(s.send(Buffer.from('two'), true), 0);
      assert.notEqual(s.send(Buffer.from('three'), false), 0, 'nothing can be sent after the half-close');
    });
    await closed;
    assert.deepEqual(events, ['metadata 200', 'message echo one', 'message echo two', 'trailers 0', 'close 0']);
  });
});
