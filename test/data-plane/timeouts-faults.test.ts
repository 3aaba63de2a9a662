// VirtualService timeouts and fault injection through an ingress gateway, and the local replies Envoy sends
// when no upstream can answer: what the client receives (status, body), what reaches the upstream, and the
// response flags in the access log (UT, FI, DI, UF, URX, UH).
// https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPFaultInjection
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/fault_filter

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { seededRandom } from '../../src/proxy/lib/random.js';
import { freePort, startUpstream } from '../support/data-plane.js';
import { load, serviceEntryYaml, startGateway, virtualServiceYaml } from './resilience-mesh.js';
import { waitFor } from '../support/wait.js';

function route(prefix: string, svc: string, extra = ''): string {
  return `  - match: [{uri: {prefix: ${prefix}}}]
    route: [{destination: {host: ${svc}.example.internal, port: {number: 80}}}]
${extra}`;
}

const CONNECT_REFUSED = 'remote connection failure, transport failure reason: delayed connect error: Connection refused';

it('timeouts and faults (VirtualService timeout / fault through an ingress gateway)', async (t) => {
  const hangs = await startUpstream(t, 'hangs', '127.0.0.1', 0, () => undefined);
  const deadline = await startUpstream(t, 'deadline', '127.0.0.1', 0, () => undefined);
  const app = await startUpstream(t, 'app');
  // Sends its response head and part of the body, then drops the connection.
  const cuts = await startUpstream(t, 'cuts', '127.0.0.1', 0, (req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('part');
    setTimeout(() => req.socket.destroy(), 20);
  });
  // Answers anything with bytes that are not HTTP.
  const garbage = createServer((s: Socket) => {
    s.on('error', () => undefined);
    s.once('data', () => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
  });
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => garbage.close(() => r())));
  const closedA = await freePort();
  const closedB = await freePort();

  const gw = await startGateway(
    t,
    () => ({
      'hangs.yaml': serviceEntryYaml('hangs', [{ port: hangs.port }]),
      'deadline.yaml': serviceEntryYaml('deadline', [{ port: deadline.port }]),
      'app.yaml': serviceEntryYaml('app', [{ port: app.port }]),
      'cuts.yaml': serviceEntryYaml('cuts', [{ port: cuts.port }]),
      'garbage.yaml': serviceEntryYaml('garbage', [{ port: (garbage.address() as AddressInfo).port }]),
      'down.yaml': serviceEntryYaml('down', [{ port: closedA }, { port: closedB }]),
      'empty.yaml': serviceEntryYaml('empty', []),
      'vs.yaml': virtualServiceYaml(
        route('/timeout', 'hangs', '    timeout: 0.5s\n') +
          route('/grpc-deadline', 'deadline', '    timeout: 5s\n') +
          route('/cut', 'cuts') +
          route('/garbage', 'garbage') +
          route('/abort-all', 'app', '    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}\n') +
          route('/abort-some', 'app', '    fault: {abort: {httpStatus: 503, percentage: {value: 30}}}\n') +
          route('/delay', 'app', '    fault: {delay: {fixedDelay: 0.3s, percentage: {value: 100}}}\n') +
          route('/down-no-retry', 'down', '    retries: {attempts: 0}\n') +
          route('/down', 'down') +
          route('/empty', 'empty'),
      ),
    }),
    { random: seededRandom(1) },
  );

  await t.test('gRPC deadline: under the route timeout Istio sets as max_grpc_timeout, a gRPC request times out at its grpc-timeout (UNAVAILABLE, UT) and the upstream is told it', async () => {
    // Envoy's finalTimeout with max_grpc_timeout (Istio: the VirtualService timeout): the client's deadline,
    // capped at the maximum; the grpc-timeout sent upstream is the one enforced.
    const start = performance.now();
    const r = await gw.get('/grpc-deadline', { method: 'POST', headers: { 'content-type': 'application/grpc', 'grpc-timeout': '300m' }, body: '' });
    const took = performance.now() - start;
    assert.deepEqual([r.status, r.headers['grpc-status'], r.headers['grpc-message']], [200, '14', 'upstream request timeout']);
    assert.ok(took >= 290 && took < 4000, `answered after ${took} ms`);
    assert.equal(deadline.seen[0]?.headers['grpc-timeout'], '300m');
    const log = await gw.logFor('/grpc-deadline');
    assert.equal(log.flags, 'UT');
    // A deadline past the route timeout is capped at it, and the upstream hears the cap.
    void gw.get('/grpc-deadline', { method: 'POST', headers: { 'content-type': 'application/grpc', 'grpc-timeout': '1M' }, body: '' }).catch(() => undefined);
    await waitFor(() => deadline.seen.length > 1, 'the second gRPC request upstream');
    assert.equal(deadline.seen[1]?.headers['grpc-timeout'], '5000m');
  });

  await t.test('route timeout: 504 upstream request timeout after at least the timeout, UT', async () => {
    const start = performance.now();
    const r = await gw.get('/timeout');
    const elapsed = performance.now() - start;
    assert.deepEqual([r.status, r.body], [504, 'upstream request timeout']);
    assert.ok(elapsed >= 500, `answered after ${elapsed} ms`);
    assert.equal(hangs.seen.length, 1);
    assert.equal(hangs.seen[0]?.headers['x-envoy-expected-rq-timeout-ms'], '500');
    const log = await gw.logFor('/timeout');
    assert.deepEqual([log.status, log.flags, log.details], [504, 'UT', 'response_timeout']);
    const st = await gw.clusterStats('hangs');
    assert.deepEqual([st['upstream_rq_timeout'], st['upstream_rq_tx_reset'], st['upstream_rq_per_try_timeout'], st['upstream_rq_active']], [1, 1, 0, 0]);
    // Per host in /clusters: one connection, closed with the reset request; one request, timed out.
    const host = await waitFor(async () => {
      const h = await gw.hostStats('hangs');
      return h['cx_active'] === 0 ? h : undefined;
    }, 'the reset connection to close');
    assert.deepEqual([host['cx_total'], host['cx_connect_fail'], host['rq_total'], host['rq_timeout'], host['rq_error']], [1, 0, 1, 1, 1]);
  });

  await t.test('abort at 100%: the configured status and `fault filter abort`, FI, the upstream never sees it', async () => {
    const r = await gw.get('/abort-all');
    assert.deepEqual([r.status, r.body], [418, 'fault filter abort']);
    assert.equal(app.seen.filter((s) => s.url === '/abort-all').length, 0);
    const log = await gw.logFor('/abort-all');
    assert.deepEqual([log.status, log.flags, log.details], [418, 'FI', 'fault_filter_abort']);
  });

  await t.test('abort at 30% over 300 requests: about 30% aborted, the rest reach the upstream', async () => {
    const replies = await load(300, 1, () => gw.get('/abort-some'));
    const aborted = replies.filter((r) => r.status === 503 && r.body === 'fault filter abort').length;
    const passed = replies.filter((r) => r.status === 200 && r.body === 'app').length;
    assert.equal(aborted + passed, 300);
    assert.ok(Math.abs((aborted / 300) * 100 - 30) <= 5, `${aborted} of 300 aborted`);
    assert.equal(app.seen.filter((s) => s.url === '/abort-some').length, passed);
  });

  await t.test('delay of 300ms at 100%: the upstream answers after at least the delay, DI', async () => {
    const start = performance.now();
    const r = await gw.get('/delay');
    const elapsed = performance.now() - start;
    assert.deepEqual([r.status, r.body], [200, 'app']);
    assert.ok(elapsed >= 300, `answered after ${elapsed} ms`);
    const log = await gw.logFor('/delay');
    assert.deepEqual([log.status, log.flags, log.details], [200, 'DI', 'via_upstream']);
  });

  await t.test('every endpoint refuses connections, retries off: 503 with the reset reason, UF', async () => {
    const r = await gw.get('/down-no-retry');
    assert.deepEqual([r.status, r.body], [503, `upstream connect error or disconnect/reset before headers. reset reason: ${CONNECT_REFUSED}`]);
    const log = await gw.logFor('/down-no-retry');
    assert.deepEqual([log.status, log.flags], [503, 'UF']);
    assert.equal(log.details, 'upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}');
    const st = await gw.clusterStats('down');
    // Envoy counts a request in upstream_rq_total once it has a connection (ConnPoolImplBase::attachStreamToClient).
    assert.deepEqual([st['upstream_cx_connect_fail'], st['upstream_rq_total'], st['upstream_rq_active'], st['upstream_rq_completed']], [1, 0, 0, 0]);
    // The same per host in /clusters: the connection was started (cx_total) and failed; no request was sent.
    assert.deepEqual(await gw.hostStats('down'), { cx_active: 0, cx_connect_fail: 1, cx_total: 1, rq_active: 0, rq_error: 0, rq_success: 0, rq_timeout: 0, rq_total: 0 });
  });

  await t.test("every endpoint refuses connections under Istio's default retries: retried, then 503, UF and URX", async () => {
    const r = await gw.get('/down');
    assert.deepEqual([r.status, r.body], [503, `upstream connect error or disconnect/reset before headers. retried and the latest reset reason: ${CONNECT_REFUSED}`]);
    const log = await gw.logFor('/down');
    assert.deepEqual([log.status, log.flags], [503, 'UF,URX']);
  });

  await t.test('an upstream that drops the connection mid-response: the client connection is reset, counted as a reset the proxy sent', async () => {
    const received = await new Promise<string>((ok) => {
      const s = connect(gw.port, '127.0.0.1');
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => ok(out));
      s.write('GET /cut HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    assert.match(received, /^HTTP\/1\.1 200 [^]*\r\n\r\npart$/, 'the head and the bytes that came, then the close');
    const log = await gw.logFor('/cut');
    // Envoy's onUpstreamAbort after the response started: the reset reason's flag and details.
    assert.deepEqual([log.status, log.flags, log.details], [200, 'UC', 'upstream_reset_after_response_started{connection_termination}']);
    const text = await (await fetch(`${gw.proxy.adminUrl}/stats?filter=${encodeURIComponent('^http\\..*\\.downstream_rq_[rt]x_reset$')}`)).text();
    const sum = (n: string): number => [...text.matchAll(new RegExp(`\\.downstream_rq_${n}_reset: (\\d+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
    assert.deepEqual([sum('tx'), sum('rx')], [1, 0]);
  });

  await t.test('an upstream that does not speak HTTP: 502 with reset reason protocol error, UPE', async () => {
    const r = await gw.get('/garbage');
    assert.deepEqual([r.status, r.body], [502, 'upstream connect error or disconnect/reset before headers. reset reason: protocol error']);
    const log = await gw.logFor('/garbage');
    assert.deepEqual([log.status, log.flags, log.details], [502, 'UPE', 'upstream_reset_before_response_started{protocol_error}']);
  });

  await t.test('no endpoints at all: 503 no healthy upstream, UH', async () => {
    const r = await gw.get('/empty');
    assert.deepEqual([r.status, r.body], [503, 'no healthy upstream']);
    const log = await gw.logFor('/empty');
    assert.deepEqual([log.status, log.flags, log.details], [503, 'UH', 'no_healthy_upstream']);
  });
});
