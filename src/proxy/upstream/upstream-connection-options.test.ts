// The cluster's connection settings that Istio writes from a DestinationRule's connectionPool, applied to real
// upstream connections (they were read into the cluster and then ignored):
// - tcp.tcpKeepalive -> upstream_connection_options.tcp_keepalive: SO_KEEPALIVE with keepalive_time
//   (seen with `ss`, the kernel's own view of the socket's timer);
// - tcp.maxConnectionDuration -> common_http_protocol_options.max_connection_duration: an older connection
//   takes no new request and closes (Envoy's upstream_cx_max_duration_reached), HTTP/1.1 and HTTP/2;
// - http.maxConcurrentStreams -> http2_protocol_options.max_concurrent_streams: more streams open another
//   connection;
// - http.http2KeepAlive -> http2_protocol_options.connection_keepalive: PINGs every interval, and a
//   connection whose PING goes unanswered (its server stopped with SIGSTOP) is closed after the timeout;
// - http.maxRequestsPerConnection and http.idleTimeout, which HTTP/2 upstream connections ignored (the
//   HTTP/1.1 pool already kept them).
// https://istio.io/latest/docs/reference/config/networking/destination-rule/#ConnectionPoolSettings
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/protocol.proto

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createH2Server, createSecureServer as createSecureH2Server, type ServerHttp2Session } from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSigned } from '../../../test/translate/secret/certs.js';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { compileCluster } from '../runtime/compile-cluster.js';
import { Http1Pool } from './http1-pool.js';
import { Http2Upstream } from './http2-upstream.js';
import type { UpstreamDispatcher } from './cluster-handle.js';
import type { ConnectionEvents } from './cluster-stats.js';
import { waitFor } from '../../../test/support/wait.js';

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function compile(extra: JsonObject) {
  return compileCluster(fromJson(ClusterSchema, { name: 'outbound|80||svc', type: 'STATIC', ...extra }, { registry: XDS_REGISTRY }));
}

/** Counts what a pool reports of its connections. */
function events(): ConnectionEvents & { opened_: number; closed_: number; maxDuration: number } {
  const e = {
    opened_: 0,
    closed_: 0,
    maxDuration: 0,
    opened: () => void e.opened_++,
    closed: () => void e.closed_++,
    maxDurationReached: () => void e.maxDuration++,
  };
  return e;
}

/** One GET through a pool; resolves with the status (0 and the error code on failure). */
function get(p: UpstreamDispatcher, path: string): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    let status = 0;
    let body = '';
    p.dispatch(
      { method: 'GET', path, headers: { host: 'svc' }, body: null },
      {
        onRequestStart: () => undefined,
        onResponseStart: (_c, s) => void (status = s),
        onResponseData: (_c, chunk) => void (body += chunk.toString()),
        onResponseEnd: () => resolve({ status, body }),
        onResponseError: (_c, e) => resolve({ status: 0, body, error: (e as { code?: string }).code ?? e.message }),
      },
    );
  });
}

async function http1Server(t: TestContext, delayMs = 0) {
  const peers: string[] = [];
  const server = createHttpServer((req, res) => {
    peers.push(`${req.socket.remotePort}`);
    setTimeout(() => res.end(`ok ${req.url}`), delayMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, peers };
}

async function h2Server(t: TestContext, delayMs = 0) {
  const sessions: ServerHttp2Session[] = [];
  let pings = 0;
  const server = createH2Server();
  server.on('session', (s: ServerHttp2Session) => {
    sessions.push(s);
    s.on('ping', () => void pings++);
  });
  server.on('stream', (stream, headers) => {
    setTimeout(() => {
      if (stream.destroyed) return;
      stream.respond({ ':status': 200 });
      stream.end(`ok ${String(headers[':path'])}`);
    }, delayMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, sessions, pings: () => pings };
}

describe('upstream connection options from a DestinationRule', () => {
  it('compiles the fields Istio writes, and refuses the keepalive PING before idle streams it cannot send', () => {
    const c = compile({
      upstreamConnectionOptions: { tcpKeepalive: { keepaliveTime: 7, keepaliveInterval: 3 } },
      typedExtensionProtocolOptions: {
        [HTTP_OPTIONS]: {
          '@type': `type.googleapis.com/${HTTP_OPTIONS}`,
          commonHttpProtocolOptions: { maxConnectionDuration: '2s' },
          explicitHttpConfig: { http2ProtocolOptions: { maxConcurrentStreams: 5, connectionKeepalive: { interval: '1s', timeout: '0.5s' } } },
        },
      },
    });
    assert.ok(c.ok);
    assert.deepEqual([c.value.tcpKeepaliveMs, c.value.maxConnectionDurationMs, c.value.http2], [7000, 2000, { maxConcurrentStreams: 5, keepalive: { intervalMs: 1000, timeoutMs: 500, jitterPercent: 15 } }]);
    const none = compile({});
    assert.ok(none.ok);
    assert.deepEqual([none.value.tcpKeepaliveMs, none.value.maxConnectionDurationMs, none.value.http2], [undefined, undefined, { maxConcurrentStreams: 2147483647, keepalive: undefined }]);
    const idle = compile({ http2ProtocolOptions: { connectionKeepalive: { interval: '1s', timeout: '1s', connectionIdleInterval: '5s' } } });
    assert.ok(!idle.ok);
    assert.deepEqual(idle.problems, ['http2_protocol_options.connection_keepalive.connection_idle_interval: PINGs before new streams on an idle connection are not supported']);
  });

  it('tcp_keepalive: the upstream socket keeps alive with keepalive_time as its idle time (ss shows the kernel timer)', async (t) => {
    const up = await http1Server(t);
    const p = new Http1Pool({ host: '127.0.0.1', port: up.port, connectTimeoutMs: 2000, maxHeaderSize: 65536, maxConnections: 4, maxRequestsPerConnection: undefined, idleTimeoutMs: 60_000, tcpKeepaliveMs: 7000 });
    t.after(() => p.close());
    assert.equal((await get(p, '/ka')).status, 200);
    const { stdout } = await promisify(execFile)('ss', ['-tnoH', 'state', 'established', `( dport = :${up.port} )`]);
    const m = /timer:\(keepalive,(\d+(?:\.\d+)?)(ms|sec|min)/.exec(stdout);
    assert.ok(m !== null, `no keepalive timer on the upstream socket: ${stdout}`);
    // Seconds left before the first probe (iproute2 6.1 prints them as `6.896ms`, older ones as `6sec`).
    const sec = Number(m[1]) * (m[2] === 'min' ? 60 : 1);
    assert.ok(sec > 5 && sec <= 7, `keepalive timer ${m[1]}${m[2]}`);
  });

  it('HTTP/1.1 max_connection_duration: a connection past it is not reused, an idle one closes, a busy one after its response', async (t) => {
    const up = await http1Server(t, 150);
    const ev = events();
    const p = new Http1Pool({ host: '127.0.0.1', port: up.port, connectTimeoutMs: 2000, maxHeaderSize: 65536, maxConnections: 4, maxRequestsPerConnection: undefined, idleTimeoutMs: 60_000, maxConnectionDurationMs: 250, events: ev });
    t.after(() => p.close());
    assert.equal((await get(p, '/1')).status, 200);
    assert.equal((await get(p, '/2')).status, 200, 'the second request ends past 250 ms: it was the connection’s last');
    assert.equal(up.peers[0], up.peers[1], 'reused while younger than the limit');
    await waitFor(() => ev.closed_ === 1, 'the old connection to close');
    assert.equal((await get(p, '/3')).status, 200);
    assert.notEqual(up.peers[2], up.peers[1], 'a new connection');
    assert.equal(ev.maxDuration, 1);
    // Left idle past its duration, the connection closes by itself.
    await waitFor(() => ev.closed_ === 2, 'the idle connection to close', 3000);
    assert.equal(ev.maxDuration, 2);
  });

  it('HTTP/2 max_concurrent_streams: a third concurrent stream opens a second connection', async (t) => {
    const up = await h2Server(t, 200);
    const p = new Http2Upstream({ host: '127.0.0.1', port: up.port, connectTimeoutMs: 2000, maxConcurrentStreams: 2 });
    t.after(() => p.close());
    const replies = await Promise.all([1, 2, 3].map((i) => get(p, `/${i}`)));
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200]);
    assert.equal(up.sessions.length, 2);
    assert.equal((await get(p, '/4')).status, 200);
    assert.equal(up.sessions.length, 2, 'no new connection when one has room');
  });

  it('HTTP/2 without max_concurrent_streams multiplexes everything on one connection', async (t) => {
    const up = await h2Server(t, 100);
    const p = new Http2Upstream({ host: '127.0.0.1', port: up.port, connectTimeoutMs: 2000 });
    t.after(() => p.close());
    await Promise.all([1, 2, 3, 4].map((i) => get(p, `/${i}`)));
    assert.equal(up.sessions.length, 1);
  });

  it('HTTP/2 max_connection_duration: the connection drains (its stream completes) and the next request opens a new one', async (t) => {
    const up = await h2Server(t, 300);
    const ev = events();
    const p = new Http2Upstream({ host: '127.0.0.1', port: up.port, connectTimeoutMs: 2000, maxConnectionDurationMs: 150, events: ev });
    t.after(() => p.close());
    const slow = get(p, '/in-flight');
    await waitFor(() => ev.maxDuration === 1, 'the duration to pass');
    assert.equal((await get(p, '/after')).status, 200);
    assert.deepEqual(await slow, { status: 200, body: 'ok /in-flight' }, 'the draining connection finished its stream');
    assert.equal(up.sessions.length, 2);
    await waitFor(() => ev.closed_ >= 1, 'the old connection to close once its stream ended');
  });

  it('HTTP/2 max_requests_per_connection: the stream that reaches it is the connection’s last', async (t) => {
    const up = await h2Server(t);
    const p = new Http2Upstream({ host: '127.0.0.1', port: up.port, connectTimeoutMs: 2000, maxRequestsPerConnection: 2 });
    t.after(() => p.close());
    for (let i = 0; i < 5; i++) assert.equal((await get(p, `/${i}`)).status, 200);
    assert.equal(up.sessions.length, 3);
  });

  it('HTTP/2 idle_timeout: a connection without streams that long is closed; the next request opens another', async (t) => {
    const up = await h2Server(t);
    const ev = events();
    const p = new Http2Upstream({ host: '127.0.0.1', port: up.port, connectTimeoutMs: 2000, idleTimeoutMs: 200, events: ev });
    t.after(() => p.close());
    assert.equal((await get(p, '/a')).status, 200);
    assert.equal((await get(p, '/b')).status, 200);
    await waitFor(() => ev.closed_ === 1, 'the idle connection to close', 3000);
    assert.equal((await get(p, '/c')).status, 200);
    assert.equal(up.sessions.length, 2);
  });

  it('HTTP/2 to a Unix domain socket endpoint (pipe address), cleartext and over TLS', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-h2-uds-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cert = selfSigned('uds.example.com');
    const plain = createH2Server((_req, res) => res.end('plain'));
    const secure = createSecureH2Server({ cert: cert.cert, key: cert.key }, (_req, res) => res.end('tls'));
    await Promise.all([
      new Promise<void>((r) => plain.listen(join(dir, 'plain.sock'), () => r())),
      new Promise<void>((r) => secure.listen(join(dir, 'tls.sock'), () => r())),
    ]);
    t.after(() => {
      plain.close();
      secure.close();
    });
    const p1 = new Http2Upstream({ host: 'localhost', port: 0, path: join(dir, 'plain.sock'), connectTimeoutMs: 2000 });
    const p2 = new Http2Upstream({ host: 'localhost', port: 0, path: join(dir, 'tls.sock'), connectTimeoutMs: 2000, tls: { rejectUnauthorized: false, ALPNProtocols: ['h2'] } });
    t.after(() => Promise.all([p1.close(), p2.close()]));
    assert.deepEqual([(await get(p1, '/')).body, (await get(p2, '/')).body], ['plain', 'tls']);
  });

  it('HTTP/2 connection_keepalive: PINGs every interval; an unanswered PING closes the connection after the timeout', async (t) => {
    // The server is a child process, so it can be stopped (SIGSTOP) without stopping this test.
    const child = spawn(process.execPath, [
      '-e',
      `const h2 = require('node:http2'); const s = h2.createServer(); let pings = 0;
       s.on('session', (x) => x.on('ping', () => process.stdout.write('ping\\n')));
       s.on('stream', (st) => { st.respond({ ':status': 200 }); st.end('ok'); });
       s.listen(0, '127.0.0.1', () => process.stdout.write('port ' + s.address().port + '\\n'));`,
    ]);
    t.after(() => {
      if (child.exitCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const port = Number((await waitFor(() => /port (\d+)/.exec(out)?.[1], 'the server to listen')) ?? 0);
    const ev = events();
    const p = new Http2Upstream({ host: '127.0.0.1', port, connectTimeoutMs: 2000, keepalive: { intervalMs: 100, timeoutMs: 300, jitterPercent: 0 }, events: ev });
    t.after(() => p.close());
    assert.equal((await get(p, '/')).status, 200);
    await waitFor(() => (out.match(/ping/g) ?? []).length >= 3, 'three PINGs answered', 5000);
    assert.equal(ev.closed_, 0);
    child.kill('SIGSTOP');
    // A stopped server can neither answer nor close: only the keepalive timeout closes the connection.
    await waitFor(() => ev.closed_ === 1, 'the connection to close on the unanswered PING', 5000);
    assert.equal(p.size, 0);
  });
});

