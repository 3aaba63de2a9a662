// VirtualService retries through an ingress gateway, seen from the client, the upstreams and the access
// log: attempts counted upstream with x-envoy-attempt-count, 5xx vs gateway-error, retries exhausted (URX),
// connect failures retried on another endpoint, per-try timeouts, request bodies replayed, and Istio's
// default policy for routes that set no `retries`
// (https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry,
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on).

import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { freePort, startUpstream, type TestUpstream, type UpstreamHandler } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { destinationRuleYaml, load, serviceEntryYaml, startGateway, virtualServiceYaml } from './resilience-mesh.js';

const answer = (res: ServerResponse, status: number, body = String(status)): void => {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
};

/** Answers the status named by the last path segment (`/x/503` → 503). */
const statusFromPath: UpstreamHandler = (req, res) => answer(res, Number((req.url ?? '').split('/').at(-1)));

function route(prefix: string, svc: string, extra = ''): string {
  return `  - match: [{uri: {prefix: ${prefix}}}]
    route: [{destination: {host: ${svc}.example.internal, port: {number: 80}}}]
${extra}`;
}

const attemptsOf = (u: TestUpstream, url?: string): string[] => u.seen.filter((s) => url === undefined || s.url === url).map((s) => String(s.headers['x-envoy-attempt-count']));

it('retries (VirtualService retries through an ingress gateway)', async (t) => {
  const flaky = await startUpstream(t, 'flaky', '127.0.0.1', 0, (_req, res, _b, n) => (n <= 2 ? answer(res, 503, 'try again') : answer(res, 200, 'ok')));
  const byStatus = await startUpstream(t, 'by-status', '127.0.0.1', 0, statusFromPath);
  const always503 = await startUpstream(t, 'always-503', '127.0.0.1', 0, (_req, res) => answer(res, 503, 'still down'));
  const live = await startUpstream(t, 'live');
  const closedPort = await freePort();
  const slowOnce = await startUpstream(t, 'slow-once', '127.0.0.1', 0, (_req, res, _b, n) => {
    if (n > 1) answer(res, 200, 'fast');
    // the first request never gets an answer: its per-try timeout fires
  });
  const hangs = await startUpstream(t, 'hangs', '127.0.0.1', 0, () => undefined);
  const postFlaky = await startUpstream(t, 'post-flaky', '127.0.0.1', 0, (_req, res, body, n) => (n === 1 ? answer(res, 503) : answer(res, 200, `got ${body}`)));
  const default503 = await startUpstream(t, 'default-503', '127.0.0.1', 0, (_req, res) => answer(res, 503, 'unavailable'));
  const grpcFlaky = await startUpstream(t, 'grpc-flaky', '127.0.0.1', 0, (_req, res, _b, n) => {
    res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': n === 1 ? '14' : '0' });
    res.end();
  });

  const gw = await startGateway(t, () => ({
    'flaky.yaml': serviceEntryYaml('flaky', [{ port: flaky.port }]),
    'by-status.yaml': serviceEntryYaml('by-status', [{ port: byStatus.port }]),
    'always-503.yaml': serviceEntryYaml('always-503', [{ port: always503.port }]),
    'two-endpoints.yaml': serviceEntryYaml('two-endpoints', [{ port: closedPort }, { port: live.port }]),
    // ROUND_ROBIN: Istio's default LEAST_REQUEST prefers the idle closed port, so a retry's 5 host
    // selection attempts could all land on it again (as in Envoy); round robin alternates.
    'two-endpoints-dr.yaml': destinationRuleYaml('two-endpoints', '  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}\n'),
    'slow-once.yaml': serviceEntryYaml('slow-once', [{ port: slowOnce.port }]),
    'hangs.yaml': serviceEntryYaml('hangs', [{ port: hangs.port }]),
    'post-flaky.yaml': serviceEntryYaml('post-flaky', [{ port: postFlaky.port }]),
    'default-503.yaml': serviceEntryYaml('default-503', [{ port: default503.port }]),
    'grpc-flaky.yaml': serviceEntryYaml('grpc-flaky', [{ port: grpcFlaky.port }]),
    'vs.yaml': virtualServiceYaml(
      route('/five-xx', 'flaky', '    retries: {attempts: 3, retryOn: 5xx}\n') +
        route('/gateway-error/', 'by-status', '    retries: {attempts: 2, retryOn: gateway-error}\n') +
        route('/any-5xx/', 'by-status', '    retries: {attempts: 2, retryOn: 5xx}\n') +
        route('/exhausted', 'always-503', '    retries: {attempts: 2, retryOn: 5xx}\n') +
        route('/connect-failure', 'two-endpoints', '    retries: {attempts: 2, retryOn: connect-failure}\n') +
        route('/per-try', 'slow-once', '    retries: {attempts: 2, retryOn: gateway-error, perTryTimeout: 0.2s}\n') +
        route('/hung', 'hangs', '    retries: {attempts: 1, retryOn: gateway-error, perTryTimeout: 0.1s}\n') +
        route('/post', 'post-flaky', '    retries: {attempts: 2, retryOn: 5xx}\n') +
        route('/default-connect-failure', 'two-endpoints') +
        route('/default-503', 'default-503') +
        route('/default-grpc', 'grpc-flaky'),
    ),
  }));

  /** A host's stats lines from the gateway's admin /clusters (`<cluster>::127.0.0.1:<port>::<stat>::<value>`). */
  const hostStats = async (port: number): Promise<Record<string, number>> => {
    const text = await (await fetch(`${gw.proxy.adminUrl}/clusters`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(new RegExp(`::127\\.0\\.0\\.1:${port}::(rq_[a-z]+)::(\\d+)$`, 'gm'))) out[m[1] as string] = Number(m[2]);
    return out;
  };

  await t.test('503, 503, 200 under retryOn 5xx: the client gets the 200, the upstream saw attempts 1, 2, 3', async () => {
    const r = await gw.get('/five-xx');
    assert.deepEqual([r.status, r.body], [200, 'ok']);
    assert.deepEqual(attemptsOf(flaky), ['1', '2', '3']);
    const log = await gw.logFor('/five-xx');
    assert.deepEqual([log.status, log.flags, log.details], [200, '-', 'via_upstream']);
    // Envoy's cluster stats: three requests sent, two retries, and the retried request succeeded.
    const st = await gw.clusterStats('flaky');
    assert.deepEqual(
      [st['upstream_rq_total'], st['upstream_rq_retry'], st['upstream_rq_retry_success'], st['upstream_rq_retry_limit_exceeded'], st['upstream_rq_200'], st['upstream_rq_2xx'], st['upstream_rq_completed'], st['upstream_rq_active']],
      [3, 2, 1, 0, 1, 1, 1, 0],
    );
    // The host's own counters in /clusters, as Envoy prints them: two 503s were errors, the 200 a success.
    assert.deepEqual(await hostStats(flaky.port), { rq_active: 0, rq_error: 2, rq_success: 1, rq_timeout: 0, rq_total: 3 });
  });

  await t.test('retryOn gateway-error retries 502 but not 500; retryOn 5xx retries 500', async () => {
    const cases = [
      { path: '/gateway-error/500', status: 500, attempts: ['1'] },
      { path: '/gateway-error/502', status: 502, attempts: ['1', '2', '3'] },
      { path: '/any-5xx/500', status: 500, attempts: ['1', '2', '3'] },
    ];
    for (const c of cases) {
      const r = await gw.get(c.path);
      assert.equal(r.status, c.status, c.path);
      assert.deepEqual(attemptsOf(byStatus, c.path), c.attempts, c.path);
    }
  });

  await t.test('retries exhausted: the last 503 is passed through, URX in the access log', async () => {
    const r = await gw.get('/exhausted');
    assert.deepEqual([r.status, r.body], [503, 'still down']);
    assert.deepEqual(attemptsOf(always503), ['1', '2', '3']);
    const log = await gw.logFor('/exhausted');
    assert.deepEqual([log.status, log.flags, log.details], [503, 'URX', 'via_upstream']);
    const st = await gw.clusterStats('always-503');
    assert.deepEqual(
      [st['upstream_rq_total'], st['upstream_rq_retry'], st['upstream_rq_retry_success'], st['upstream_rq_retry_limit_exceeded'], st['upstream_rq_503'], st['upstream_rq_5xx']],
      [3, 2, 0, 1, 1, 1],
    );
  });

  await t.test('a connect failure is retried on the other endpoint (previous hosts are avoided)', async () => {
    const replies = await load(20, 4, (i) => gw.get(`/connect-failure/${i}`));
    assert.deepEqual(new Set(replies.map((r) => `${r.status} ${r.body}`)), new Set(['200 live']));
    assert.equal(live.seen.filter((s) => s.url.startsWith('/connect-failure/')).length, 20);
    // Some requests went to the closed port first: they reached `live` as a second attempt.
    assert.ok(attemptsOf(live).includes('2'), 'no request needed a retry');
    // A retried connect failure leaves no response flag when the retry succeeds (as in Envoy).
    const logs = await waitFor(async () => {
      const ls = (await gw.logLines()).filter((l) => l.path.startsWith('/connect-failure/'));
      return ls.length === 20 ? ls : undefined;
    }, '20 access log lines');
    assert.deepEqual(new Set(logs.map((l) => `${l.status} ${l.flags} ${l.upstreamHost}`)), new Set([`200 - 127.0.0.1:${live.port}`]));
    const st = await gw.clusterStats('two-endpoints');
    const retried = attemptsOf(live).filter((a) => a === '2').length;
    assert.deepEqual([st['upstream_cx_connect_fail'], st['upstream_rq_retry'], st['upstream_rq_retry_success']], [retried, retried, retried]);
    assert.equal(st['upstream_rq_200'], 20);
  });

  await t.test('perTryTimeout: a hung attempt is abandoned and retried', async () => {
    const r = await gw.get('/per-try');
    assert.deepEqual([r.status, r.body], [200, 'fast']);
    assert.deepEqual(attemptsOf(slowOnce), ['1', '2']);
    const log = await gw.logFor('/per-try');
    assert.deepEqual([log.status, log.flags], [200, '-']);
  });

  await t.test('perTryTimeout on every attempt: 504 upstream request timeout, UT and URX', async () => {
    const r = await gw.get('/hung');
    assert.deepEqual([r.status, r.body], [504, 'upstream request timeout']);
    // The second attempt was sent before the 504, but under load this process may handle the 504
    // before the upstream server here has parsed that attempt: wait for it rather than race it.
    await waitFor(() => (attemptsOf(hangs).length >= 2 ? true : undefined), 'the second attempt at the upstream');
    assert.deepEqual(attemptsOf(hangs), ['1', '2']);
    const log = await gw.logFor('/hung');
    assert.deepEqual([log.status, log.flags, log.details], [504, 'UT,URX', 'upstream_per_try_timeout']);
    // Both attempts hit the per-try timeout and were reset by the proxy; the route timeout never fired.
    const st = await gw.clusterStats('hangs');
    assert.deepEqual(
      [st['upstream_rq_per_try_timeout'], st['upstream_rq_tx_reset'], st['upstream_rq_timeout'], st['upstream_rq_retry'], st['upstream_rq_retry_limit_exceeded'], st['upstream_rq_completed'], st['upstream_rq_active']],
      [2, 2, 0, 1, 1, 0, 0],
    );
    assert.deepEqual(await hostStats(hangs.port), { rq_active: 0, rq_error: 2, rq_success: 0, rq_timeout: 2, rq_total: 2 });
  });

  await t.test('a POST body is replayed on the retry', async () => {
    const r = await gw.get('/post', { method: 'POST', body: 'hello body', headers: { 'content-type': 'text/plain' } });
    assert.deepEqual([r.status, r.body], [200, 'got hello body']);
    assert.deepEqual(
      postFlaky.seen.map((s) => [s.method, s.body, s.headers['x-envoy-attempt-count']]),
      [
        ['POST', 'hello body', '1'],
        ['POST', 'hello body', '2'],
      ],
    );
  });

  await t.test("Istio's default policy (no retries): connect failures are retried on another endpoint", async () => {
    const replies = await load(20, 4, (i) => gw.get(`/default-connect-failure/${i}`));
    assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([200]));
    assert.ok(attemptsOf(live).filter((a) => a === '2').length > 0);
  });

  await t.test("Istio's default policy: a 503 response is not retried (retriable-status-codes names no codes)", async () => {
    const r = await gw.get('/default-503');
    assert.deepEqual([r.status, r.body], [503, 'unavailable']);
    assert.deepEqual(attemptsOf(default503), ['1']);
  });

  await t.test("Istio's default policy: gRPC UNAVAILABLE is retried", async () => {
    const r = await gw.get('/default-grpc', { method: 'POST', headers: { 'content-type': 'application/grpc' }, body: '' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['grpc-status'], '0');
    assert.deepEqual(attemptsOf(grpcFlaky), ['1', '2']);
  });
});
