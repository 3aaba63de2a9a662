// The HTTP, HTTP/2, gRPC and TCP probes against real local servers.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2Server, constants as h2, type Http2Server, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import { create, fromJson, type JsonObject } from '@bufbuild/protobuf';
import { StringMatcherSchema, type StringMatcher } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { HealthCheckSchema } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { NO_SECRETS } from './connection-pools.js';
import { compileHealthCheck, type CompiledHealthCheck } from './health-checker-config.js';
import { decodeServingStatus, encodeHealthCheckRequest, grpcTimeout, responseStatus } from './health-checker-grpc.js';
import type { Probe, ProbeOutcome, ProbeTarget } from './health-checker-probe.js';
import { createProbe } from './health-checker.js';
import type { TlsSettings } from '../runtime/compile-cluster.js';
import { crlRevoking, selfSigned, signedBy, type TestCert } from '../../../test/translate/secret/certs.js';

const COMMON = { timeout: '1s', interval: '1s', unhealthy_threshold: 1, healthy_threshold: 1 };

function compile(json: JsonObject): CompiledHealthCheck {
  const problems: string[] = [];
  const c = compileHealthCheck(fromJson(HealthCheckSchema, { ...COMMON, ...json }, { registry: XDS_REGISTRY }), 'hc', problems);
  assert.deepEqual(problems, []);
  return c as CompiledHealthCheck;
}

function target(port: number, extra: Partial<ProbeTarget> = {}): ProbeTarget {
  return { address: '127.0.0.1', port, authority: 'backend.example', transport: { kind: 'raw' }, alpn: undefined, localAddress: undefined, secrets: NO_SECRETS, reuseConnection: true, timeoutMs: 1000, ...extra };
}

/** A probe whose outcomes are awaited one by one. */
function probe(config: CompiledHealthCheck, t: ProbeTarget): { p: Probe; next(): Promise<ProbeOutcome> } {
  const queue: ProbeOutcome[] = [];
  const waiters: ((o: ProbeOutcome) => void)[] = [];
  const p = createProbe(config, t, (o) => {
    const w = waiters.shift();
    if (w !== undefined) w(o);
    else queue.push(o);
  });
  return {
    p,
    next: () => {
      const q = queue.shift();
      return q !== undefined ? Promise.resolve(q) : new Promise((r) => waiters.push(r));
    },
  };
}

async function listen<T extends Server | Http2Server | NetServer>(server: T): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => server.close());
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const NETWORK: ProbeOutcome = { ok: false, type: 'network', retriable: false, excludeImmediately: false };

describe('HTTP/1.1 probe', () => {
  let reply: (req: IncomingMessage, res: ServerResponse) => void = (_q, s) => s.end();
  const seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
  let connections = 0;
  const server = createHttpServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    reply(req, res);
  });
  server.on('connection', () => connections++);
  const port = listen(server);

  const cases: { name: string; check: JsonObject; status: number; headers?: Record<string, string>; body?: string; want: ProbeOutcome }[] = [
    { name: '200 passes', check: {}, status: 200, want: { ok: true, degraded: false } },
    { name: '503 fails at once', check: {}, status: 503, want: { ok: false, type: 'active', retriable: false, excludeImmediately: false } },
    { name: '204 fails unless expected', check: {}, status: 204, want: { ok: false, type: 'active', retriable: false, excludeImmediately: false } },
    { name: '204 passes inside expected_statuses', check: { expected_statuses: [{ start: 200, end: 300 }] }, status: 204, want: { ok: true, degraded: false } },
    { name: '503 inside retriable_statuses is retriable', check: { retriable_statuses: [{ start: 503, end: 504 }] }, status: 503, want: { ok: false, type: 'active', retriable: true, excludeImmediately: false } },
    { name: 'x-envoy-immediate-health-check-fail excludes', check: {}, status: 503, headers: { 'x-envoy-immediate-health-check-fail': 'true' }, want: { ok: false, type: 'active', retriable: false, excludeImmediately: true } },
    { name: 'x-envoy-degraded passes degraded', check: {}, status: 200, headers: { 'x-envoy-degraded': '1' }, want: { ok: true, degraded: true } },
    { name: 'the body contains the receive segments in order', check: { receive: [{ text: '6f6b' }, { binary: Buffer.from('!').toString('base64') }] }, status: 200, body: 'all ok!', want: { ok: true, degraded: false } },
    { name: 'a body missing a receive segment fails', check: { receive: [{ text: '6f6b' }] }, status: 200, body: 'nope', want: { ok: false, type: 'active', retriable: false, excludeImmediately: false } },
    { name: 'service_name_matcher matches x-envoy-upstream-healthchecked-cluster', check: { service_name_matcher: { prefix: 'back' } }, status: 200, headers: { 'x-envoy-upstream-healthchecked-cluster': 'backend' }, want: { ok: true, degraded: false, verifiedCluster: true } },
    { name: 'a service name mismatch fails', check: { service_name_matcher: { exact: 'backend' } }, status: 200, headers: { 'x-envoy-upstream-healthchecked-cluster': 'other' }, want: { ok: false, type: 'active', retriable: false, excludeImmediately: false, verifiedCluster: true } },
    // The status is checked first: a failing status is not a cluster verification (Envoy counts verify_cluster after it).
    { name: 'a failing status is not compared with service_name_matcher', check: { service_name_matcher: { exact: 'backend' } }, status: 503, want: { ok: false, type: 'active', retriable: false, excludeImmediately: false } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      reply = (_req, res) => {
        res.writeHead(c.status, c.headers ?? {});
        res.end(c.body ?? '');
      };
      const { p, next } = probe(compile({ http_health_check: { path: '/healthz', ...c.check } }), target(await port));
      p.run();
      assert.deepEqual(await next(), c.want);
      p.close();
    });
  }

  it('sends method, path, Host, user-agent Envoy/HC and request_headers_to_add, without the removed ones', async () => {
    reply = (_req, res) => res.end();
    const config = compile({
      http_health_check: {
        path: '/status?full=1',
        method: 'HEAD',
        request_headers_to_add: [{ header: { key: 'x-hc', value: 'probe %UPSTREAM_REMOTE_ADDRESS%' } }],
        request_headers_to_remove: ['user-agent'],
      },
    });
    const { p, next } = probe(config, target(await port));
    seen.length = 0;
    p.run();
    assert.equal((await next()).ok, true);
    p.close();
    const req = seen[0];
    assert.equal(req?.method, 'HEAD');
    assert.equal(req?.url, '/status?full=1');
    assert.equal(req?.headers.host, 'backend.example');
    assert.equal(req?.headers['x-hc'], `probe 127.0.0.1:${await port}`);
    assert.equal(req?.headers['user-agent'], undefined);
  });

  it('keeps one connection across checks with reuse_connection, and opens one per check without', async () => {
    reply = (_req, res) => res.end();
    for (const [reuse, want] of [[true, 1], [false, 3]] as const) {
      const { p, next } = probe(compile({ http_health_check: { path: '/' } }), target(await port, { reuseConnection: reuse }));
      const before = connections;
      for (let i = 0; i < 3; i++) {
        p.run();
        assert.equal((await next()).ok, true);
      }
      p.close();
      assert.equal(connections - before, want, `reuse_connection ${reuse}`);
    }
  });

  it('a refused connection is a network failure', async () => {
    const { p, next } = probe(compile({ http_health_check: { path: '/' } }), target(await closedPort()));
    p.run();
    assert.deepEqual(await next(), NETWORK);
    p.close();
  });

  it('an aborted check reports nothing', async () => {
    reply = () => undefined;
    const { p, next } = probe(compile({ http_health_check: { path: '/hang' } }), target(await port));
    p.run();
    await new Promise((r) => setTimeout(r, 20));
    p.abort();
    reply = (_req, res) => res.end();
    p.run();
    assert.deepEqual(await next(), { ok: true, degraded: false });
    p.close();
  });
});

describe('HTTP/2 and gRPC probes', () => {
  let grpcAnswer: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer) => void = () => undefined;
  const requests: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server = createH2Server();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(parts);
      requests.push({ headers, body });
      if (headers[':path'] === '/grpc.health.v1.Health/Check') return grpcAnswer(stream, headers, body);
      stream.respond({ ':status': headers[':path'] === '/ok' ? 200 : 500 });
      stream.end();
    });
  });
  const port = listen(server);

  function grpcReply(status: number | undefined, grpcStatus = '0'): (s: ServerHttp2Stream) => void {
    return (s) => {
      s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': grpcStatus }));
      if (status === undefined) return void s.end();
      const msg = status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, status]);
      const frame = Buffer.alloc(5);
      frame.writeUInt32BE(msg.length, 1);
      s.end(Buffer.concat([frame, msg]));
    };
  }

  it('HTTP/2 codec: the status decides', async () => {
    for (const [path, ok] of [['/ok', true], ['/bad', false]] as const) {
      const { p, next } = probe(compile({ http_health_check: { path, codec_client_type: 'HTTP2' } }), target(await port));
      p.run();
      assert.equal((await next()).ok, ok, path);
      p.close();
    }
  });

  const grpcCases: { name: string; answer: (s: ServerHttp2Stream) => void; ok: boolean }[] = [
    { name: 'SERVING passes', answer: grpcReply(1), ok: true },
    { name: 'NOT_SERVING fails', answer: grpcReply(2), ok: false },
    { name: 'an empty response (UNKNOWN) fails', answer: grpcReply(0), ok: false },
    { name: 'a non-zero grpc-status fails', answer: grpcReply(1, '12'), ok: false },
    { name: 'a trailers-only UNIMPLEMENTED fails', answer: (s) => (s.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true }), undefined), ok: false },
    { name: 'a non-200 status fails', answer: (s) => (s.respond({ ':status': 503 }), s.end()), ok: false },
  ];
  for (const c of grpcCases) {
    it(`gRPC: ${c.name}`, async () => {
      grpcAnswer = c.answer;
      const { p, next } = probe(compile({ grpc_health_check: { service_name: 'reviews' } }), target(await port));
      p.run();
      const o = await next();
      assert.equal(o.ok, c.ok);
      if (!o.ok) assert.equal(o.type, 'active');
      p.close();
    });
  }

  it('gRPC: sends Health/Check for the service with :authority, te, grpc-timeout and initial_metadata', async () => {
    grpcAnswer = grpcReply(1);
    requests.length = 0;
    const { p, next } = probe(compile({ grpc_health_check: { service_name: 'reviews', authority: 'grpc.example', initial_metadata: [{ header: { key: 'x-md', value: 'v' } }] } }), target(await port, { authority: 'grpc.example' }));
    p.run();
    assert.equal((await next()).ok, true);
    p.close();
    const r = requests[0];
    assert.equal(r?.headers[':authority'], 'grpc.example');
    assert.equal(r?.headers['content-type'], 'application/grpc');
    assert.equal(r?.headers.te, 'trailers');
    assert.equal(r?.headers['grpc-timeout'], '1000m');
    assert.equal(r?.headers['x-md'], 'v');
    assert.deepEqual(r?.body, encodeHealthCheckRequest('reviews'));
  });

  it('gRPC: a reset stream is a network failure', async () => {
    grpcAnswer = (s) => s.close(h2.NGHTTP2_INTERNAL_ERROR);
    const { p, next } = probe(compile({ grpc_health_check: {} }), target(await port));
    p.run();
    assert.deepEqual(await next(), NETWORK);
    p.close();
  });

  for (const [name, check] of [
    ['HTTP/2', { http_health_check: { path: '/ok', codec_client_type: 'HTTP2' } }],
    ['gRPC', { grpc_health_check: {} }],
  ] as const) {
    it(`${name}: a refused connection is a network failure, and the next check dials again`, async () => {
      const { p, next } = probe(compile(check), target(await closedPort()));
      p.run();
      assert.deepEqual(await next(), NETWORK);
      p.run();
      assert.deepEqual(await next(), NETWORK);
      p.close();
    });
  }

  it('gRPC message codec', () => {
    assert.deepEqual(encodeHealthCheckRequest(''), Buffer.from([0, 0, 0, 0, 0]));
    assert.deepEqual(encodeHealthCheckRequest('ab'), Buffer.from([0, 0, 0, 0, 4, 0x0a, 2, 0x61, 0x62]));
    assert.equal(decodeServingStatus(Buffer.from([0x08, 0x01])), 1);
    assert.equal(decodeServingStatus(Buffer.from([0x12, 0x01, 0x41, 0x08, 0x02])), 2, 'unknown fields are skipped');
    assert.equal(decodeServingStatus(Buffer.from([0x08])), undefined);
    assert.equal(responseStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1);
    assert.equal(responseStatus(Buffer.from([1, 0, 0, 0, 2, 0x08, 1])), 'invalid', 'compressed');
    assert.equal(responseStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 1, 0, 0, 0, 0, 2, 0x08, 1])), 'invalid', 'two messages');
    assert.equal(grpcTimeout(250), '250m');
    assert.equal(grpcTimeout(200_000_000), '200000S');
  });
});

describe('TCP probe', () => {
  const echo = createNetServer((s: Socket) => {
    s.on('data', (d: Buffer) => {
      if (d.toString() === 'PING') s.write('PO');
      if (d.toString() === 'PING') setTimeout(() => s.write('NG'), 5);
      if (d.toString() === 'QUIT') s.end();
    });
  });
  const port = listen(echo);

  it('connect-only: an open port passes, a closed one fails', async () => {
    const open = probe(compile({ tcp_health_check: {} }), target(await port));
    open.p.run();
    assert.deepEqual(await open.next(), { ok: true, degraded: false });
    open.p.close();
    const closed = probe(compile({ tcp_health_check: {} }), target(await closedPort()));
    closed.p.run();
    assert.deepEqual(await closed.next(), NETWORK);
    closed.p.close();
  });

  it('send/receive: a reply split over two reads passes once complete, on a reused connection', async () => {
    const { p, next } = probe(compile({ tcp_health_check: { send: { text: '50494e47' }, receive: [{ text: '504f' }, { text: '4e47' }] } }), target(await port));
    for (let i = 0; i < 2; i++) {
      p.run();
      assert.deepEqual(await next(), { ok: true, degraded: false });
    }
    p.close();
  });

  it('the server closing the connection is a network failure', async () => {
    const { p, next } = probe(compile({ tcp_health_check: { send: { text: '51554954' }, receive: [{ text: '504f4e47' }] } }), target(await port));
    p.run();
    assert.deepEqual(await next(), NETWORK);
    p.close();
  });
});

describe('probes over the cluster\'s TLS', () => {
  const ca = selfSigned('hc-ca.example.com');
  const kept = signedBy('kept.example.com', ca, ['DNS:kept.example.com']);
  const revoked = signedBy('revoked.example.com', ca, ['DNS:revoked.example.com']);
  const https = (cert: TestCert): Promise<number> =>
    listen(
      createHttpsServer({ cert: cert.cert, key: cert.key }, (_req, res) => {
        res.writeHead(200);
        res.end();
      }) as unknown as Server,
    );
  const tls = (extra: Partial<TlsSettings>): TlsSettings => ({
    kind: 'tls',
    sni: '',
    alpn: [],
    sdsCertificate: undefined,
    sdsValidation: undefined,
    inlineCertificate: undefined,
    inlineTrustedCa: ca.cert.toString(),
    subjectAltNames: [],
    crl: undefined,
    verifyHash: [],
    verifySpki: [],
    acceptUntrusted: false,
    minVersion: undefined,
    maxVersion: 'TLSv1.2',
    ciphers: undefined,
    ecdhCurves: undefined,
    ...extra,
  });
  const check = async (port: number, transport: TlsSettings, secrets = NO_SECRETS): Promise<ProbeOutcome> => {
    const { p, next } = probe(compile({ http_health_check: { path: '/healthz' } }), target(port, { transport, secrets }));
    p.run();
    const o = await next();
    p.close();
    return o;
  };
  const PASS: ProbeOutcome = { ok: true, degraded: false };
  const exact = (v: string): StringMatcher => create(StringMatcherSchema, { matchPattern: { case: 'exact', value: v } });

  it('verifies the host against the CA and the SAN matchers, not against the address it dials', async () => {
    const port = await https(kept);
    assert.deepEqual(await check(port, tls({})), PASS);
    assert.deepEqual(await check(port, tls({ subjectAltNames: [exact('kept.example.com')] })), PASS);
    assert.deepEqual(await check(port, tls({ subjectAltNames: [exact('other.example.com')] })), NETWORK);
  });

  it("fails a host whose certificate the cluster's CRL revokes, static or from the SDS validation secret", async () => {
    const good = await https(kept);
    const bad = await https(revoked);
    const crl = crlRevoking(ca, [revoked]).toString();
    assert.deepEqual([await check(good, tls({ crl })), await check(bad, tls({ crl }))], [PASS, NETWORK]);
    const sds = { certificate: () => undefined, validation: () => ({ trustedCa: ca.cert.toString(), crl }) };
    const viaSds = tls({ inlineTrustedCa: undefined, sdsValidation: 'root' });
    assert.deepEqual([await check(good, viaSds, sds), await check(bad, viaSds, sds)], [PASS, NETWORK]);
  });
});
