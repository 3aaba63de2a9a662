// The connection manager's own Envoy stats through a real listener on 127.0.0.1 (an HCM compiled from LDS,
// its routes inline, request_headers_timeout and idle_timeout 1 s): a client that never finishes its request
// head is answered 408 and counted in http.<stat_prefix>.downstream_rq_header_timeout, a malformed request in
// downstream_cx_protocol_error, a keep-alive connection left idle in downstream_cx_idle_timeout, and every
// connection in downstream_cx_total/active/destroy
// (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/stats).
// request_timeout (a second listener, 1 s, to an upstream that answers only once it has the whole body): a body
// that stops arriving is answered 408 `request timeout` and counted in downstream_rq_timeout; once a response
// has started the timer is disarmed, as the HttpConnectionManager.request_timeout field says ("disarmed when the
// last byte of the request is sent upstream ... OR when the response is initiated"), so no second answer follows.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:net';
import { createServer, type Server } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../lib/logger.js';
import { seededRandom } from '../lib/random.js';
import { compileListener, type CompiledListener } from '../runtime/compile-listener.js';
import { ListenerManager } from '../network/listener-manager.js';
import { NO_SECRETS } from '../upstream/connection-pools.js';
import { StatsStore } from '../stats/stats-store.js';
import { directResponse, filterChain, hcmFilter, listener, prefix, route, routeConfig, staticClusterManager, toCluster, vhost } from '../../../test/support/xds-fixtures.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { CompletedStream } from './hcm-env.js';
import { waitFor } from '../../../test/support/wait.js';
import { rawExchange } from '../../../test/support/raw-http.js';

const stats = new StatsStore();
let manager: ListenerManager;
let port = 0;

before(async () => {
  manager = new ListenerManager({
    env: { routeTable: () => undefined, cluster: () => undefined, random: seededRandom(3), secrets: NO_SECRETS, onStreamComplete: () => undefined, stats },
    secrets: NO_SECRETS,
    logger: createLogger('error', () => undefined),
  });
  const routes = routeConfig('inline', [vhost('all', ['*'], [route('ok', prefix('/'), directResponse(200, 'ok'))])]);
  const hcm = hcmFilter({ routeConfig: routes }, { statPrefix: 'edge', requestHeadersTimeout: { seconds: 1n }, commonHttpProtocolOptions: { idleTimeout: { seconds: 1n } } });
  const r = compileListener(listener({ name: 'edge', address: '127.0.0.1', port: 0, chains: [filterChain({ name: 'edge', filters: [hcm] })] }));
  if (!r.ok) throw new Error(r.problems.join('; '));
  assert.deepEqual(await manager.apply(new Map<string, CompiledListener>([['edge', r.value]])), []);
  port = manager.bound().find((b) => b.name === 'edge')?.port ?? 0;
});

after(() => manager.close());

/** Raw bytes to `to` (the first listener by default): everything the proxy sent before it closed. */
const exchange = (bytes: string, to = port): Promise<string> => rawExchange(to, bytes);

const counter = (n: string): number => stats.counter(`http.edge.${n}`).value;

describe("the connection manager's stats", () => {
  it('counts a request head that never completes as a header timeout (408), a malformed one as a protocol error, an idle connection closed, and every connection', async () => {
    const ok = await exchange('GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n');
    assert.match(ok, /^HTTP\/1\.1 200 /);
    const bad = await exchange('GET / HTTP/1.1\r\nhost: a\r\nbad header: v\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400 /);
    const slow = await exchange('GET / HTTP/1.1\r\nhost: a\r\n');
    assert.match(slow, /^HTTP\/1\.1 408 /);
    assert.ok(slow.endsWith('\r\n\r\nrequest header timeout'), slow); // Envoy's onRequestHeaderTimeout body
    assert.deepEqual(
      [counter('downstream_cx_protocol_error'), counter('downstream_rq_header_timeout'), counter('downstream_rq_timeout'), counter('downstream_rq_rx_reset'), counter('downstream_rq_tx_reset')],
      [1, 1, 0, 0, 0],
    );
    // A keep-alive connection answered and then left alone: the proxy closes it after the idle timeout.
    const idle = await exchange('GET / HTTP/1.1\r\nhost: a\r\n\r\n');
    assert.match(idle, /^HTTP\/1\.1 200 /);
    assert.equal(counter('downstream_cx_idle_timeout'), 1);
    // The proxy's side of the last connection closes just after the client sees it close.
    const deadline = Date.now() + 5000;
    while (counter('downstream_cx_destroy') < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual([counter('downstream_cx_total'), counter('downstream_cx_http1_total'), counter('downstream_cx_destroy'), stats.gauge('http.edge.downstream_cx_active').value], [4, 4, 4, 0]);
  });
});

describe('request_timeout', () => {
  const rqStats = new StatsStore();
  const completed: CompletedStream[] = [];
  let upstream: Server;
  let clusters: ClusterManager;
  let slow: ListenerManager;
  let slowPort = 0;
  let upstreamAborted = 0;

  before(async () => {
    // Answers once the whole request body has arrived; counts the requests it saw cut off.
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('got it'));
      req.on('close', () => {
        if (!req.complete) upstreamAborted++;
      });
    });
    await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
    clusters = staticClusterManager('upstream', (upstream.address() as AddressInfo).port);
    slow = new ListenerManager({
      env: { routeTable: () => undefined, cluster: (n) => clusters.get(n), random: seededRandom(4), secrets: NO_SECRETS, onStreamComplete: (s) => completed.push(s), stats: rqStats },
      secrets: NO_SECRETS,
      logger: createLogger('error', () => undefined),
    });
    const routes = routeConfig('inline', [vhost('all', ['*'], [route('early', prefix('/early'), directResponse(200, 'ok')), route('up', prefix('/'), toCluster('upstream'))])]);
    const hcm = hcmFilter({ routeConfig: routes }, { statPrefix: 'slow', requestTimeout: { seconds: 1n } });
    const r = compileListener(listener({ name: 'slow', address: '127.0.0.1', port: 0, chains: [filterChain({ name: 'slow', filters: [hcm] })] }));
    if (!r.ok) throw new Error(r.problems.join('; '));
    assert.deepEqual(await slow.apply(new Map<string, CompiledListener>([['slow', r.value]])), []);
    slowPort = slow.bound().find((b) => b.name === 'slow')?.port ?? 0;
  });

  after(async () => {
    slow.close();
    clusters.close();
    await new Promise((ok) => upstream.close(ok));
  });

  /** Sends `bytes` (a head and part of its body) and resolves with everything the proxy sent before it closed. */
  const sendPart = (bytes: string): Promise<string> => exchange(bytes, slowPort);

  it('answers a body that stops arriving with 408 "request timeout", counted in downstream_rq_timeout', async () => {
    const out = await sendPart('POST /upload HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc');
    assert.match(out, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.ok(out.endsWith('\r\n\r\nrequest timeout'), out);
    assert.equal(rqStats.counter('http.slow.downstream_rq_timeout').value, 1);
    assert.ok(completed.some((s) => s.info.responseCode === 408 && s.info.details === 'request_overall_timeout' && s.info.flags === 0));
  });

  it('sends no second answer once a response has gone out: the connection closes after the response instead', async () => {
    const before = rqStats.counter('http.slow.downstream_rq_timeout').value;
    const out = await sendPart('POST /early HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc');
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(out.endsWith('\r\n\r\nok'), `one response only, got: ${JSON.stringify(out)}`);
    assert.equal(rqStats.counter('http.slow.downstream_rq_timeout').value, before);
  });

  // Envoy (ActiveStream::encodeHeaders) closes an HTTP/1.1 connection whose response started before its request
  // was all in, and reads no more of it: a malformed rest is never parsed, so there is no second answer.
  it('closes after an answer that came before the request was all in, without reading the rest (no second answer)', async () => {
    const errors = rqStats.counter('http.slow.downstream_cx_protocol_error').value;
    const early = rqStats.counter('http.slow.downstream_rq_response_before_rq_complete').value;
    const s = connect(slowPort, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      // The early answer is in: now a chunk size that is not hex.
      if (out.endsWith('\r\n\r\nok')) s.write('zz\r\n');
    });
    s.on('error', () => undefined);
    await new Promise<void>((ok) => {
      s.on('close', () => ok());
      s.write('POST /early HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n');
    });
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n/);
    assert.ok(out.endsWith('\r\n\r\nok'), `one response only, got: ${JSON.stringify(out)}`);
    assert.deepEqual(
      [rqStats.counter('http.slow.downstream_cx_protocol_error').value, rqStats.counter('http.slow.downstream_rq_response_before_rq_complete').value],
      [errors, early + 1],
    );
  });
  /** An HTTP/2 POST (prior knowledge) that sends `part` of its body and never ends it. */
  function h2Part(path: string, part: string): Promise<{ status: number; body: string }> {
    return new Promise((ok, fail) => {
      const session = connectHttp2(`http://127.0.0.1:${slowPort}`);
      session.on('error', fail);
      const req = session.request({ ':method': 'POST', ':path': path, 'content-length': '10' });
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('error', () => undefined);
      req.on('close', () => {
        session.close();
        ok({ status, body });
      });
      req.write(part);
      // Bounded: a proxy that never answers shows as status 0, not as a test that hangs.
      setTimeout(() => req.close(), 5000).unref();
    });
  }

  it('does the same over HTTP/2: 408 "request timeout", the upstream request cancelled, the stream then closed', async () => {
    const before = rqStats.counter('http.slow.downstream_rq_timeout').value;
    const abortedBefore = upstreamAborted;
    const r = await h2Part('/h2-upload', 'abc');
    assert.deepEqual([r.status, r.body], [408, 'request timeout']);
    assert.equal(rqStats.counter('http.slow.downstream_rq_timeout').value, before + 1);
    await waitFor(() => (upstreamAborted > abortedBefore ? true : undefined), 'the upstream request to be cancelled');
    assert.ok(completed.some((s) => s.request.path === '/h2-upload' && s.info.responseCode === 408 && s.info.details === 'request_overall_timeout'));
  });

  it('over HTTP/2 too, a response that has gone out disarms it', async () => {
    const before = rqStats.counter('http.slow.downstream_rq_timeout').value;
    const session = connectHttp2(`http://127.0.0.1:${slowPort}`);
    const req = session.request({ ':method': 'POST', ':path': '/early', 'content-length': '10' });
    const status = await new Promise<number>((ok) => req.on('response', (h) => ok(Number(h[':status']))));
    req.write('abc');
    // Past the 1 s timeout (checked by the counter, not by what the client sees).
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(status, 200);
    assert.equal(rqStats.counter('http.slow.downstream_rq_timeout').value, before);
    req.close();
    session.close();
  });

  it('over HTTP/2 a response before the request is all in is counted too (downstream_rq_response_before_rq_complete); a GET is complete with its headers', async () => {
    const stat = (): number => rqStats.counter('http.slow.downstream_rq_response_before_rq_complete').value;
    const session = connectHttp2(`http://127.0.0.1:${slowPort}`);
    const atStart = stat();
    const get = session.request({ ':method': 'GET', ':path': '/early' });
    get.end();
    assert.equal(await new Promise<number>((ok) => get.on('response', (h) => ok(Number(h[':status'])))), 200);
    assert.equal(stat(), atStart, 'a GET with END_STREAM on its headers counted');
    const before = stat();
    const post = session.request({ ':method': 'POST', ':path': '/early', 'content-length': '10' });
    post.write('abc');
    assert.equal(await new Promise<number>((ok) => post.on('response', (h) => ok(Number(h[':status'])))), 200);
    assert.equal(stat(), before + 1);
    post.close();
    session.close();
  });
});
