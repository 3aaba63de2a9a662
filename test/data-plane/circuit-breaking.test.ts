// DestinationRule connectionPool limits through an ingress gateway, as Istio translates them into Envoy
// circuit breakers (tcp.maxConnections -> max_connections, http.http1MaxPendingRequests ->
// max_pending_requests, http.http2MaxRequests -> max_requests, maxRequestsPerConnection -> the cluster's
// HTTP protocol options): with an upstream that holds every request, requests beyond the limits get
// 503 with `x-envoy-overloaded: true` at once and UO in the access log; the admitted ones finish once the
// upstream answers.
// https://istio.io/latest/docs/tasks/traffic-management/circuit-breaking/
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type Reply, type TestUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { destinationRuleYaml, latch, serviceEntryYaml, startGateway, virtualServiceYaml } from './resilience-mesh.js';

const OVERFLOW_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';

function route(prefix: string, svc: string): string {
  return `  - match: [{uri: {prefix: ${prefix}}}]
    route: [{destination: {host: ${svc}.example.internal, port: {number: 80}}}]
`;
}

/** An upstream that answers nothing until its latch opens. */
async function heldUpstream(t: Parameters<typeof startUpstream>[0], name: string): Promise<{ u: TestUpstream; open(): void; clientPorts: number[] }> {
  const l = latch();
  const clientPorts: number[] = [];
  const u = await startUpstream(t, name, '127.0.0.1', 0, (req, res) => {
    clientPorts.push(req.socket.remotePort ?? 0);
    void l.wait().then(() => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(name);
    });
  });
  return { u, open: l.open, clientPorts };
}

it('circuit breaking (DestinationRule connectionPool through an ingress gateway)', async (t) => {
  const pooled = await heldUpstream(t, 'pooled');
  const limited = await heldUpstream(t, 'limited');
  const gw = await startGateway(t, () => ({
    'pooled.yaml': serviceEntryYaml('pooled', [{ port: pooled.u.port }]),
    'pooled-dr.yaml': destinationRuleYaml(
      'pooled',
      '  trafficPolicy:\n    connectionPool:\n      tcp: {maxConnections: 1}\n      http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}\n',
    ),
    'limited.yaml': serviceEntryYaml('limited', [{ port: limited.u.port }]),
    'limited-dr.yaml': destinationRuleYaml('limited', '  trafficPolicy:\n    connectionPool:\n      http: {http2MaxRequests: 2}\n'),
    'vs.yaml': virtualServiceYaml(route('/pooled', 'pooled') + route('/limited', 'limited')),
  }));

  await t.test('maxConnections 1 + http1MaxPendingRequests 1: one request in flight, one pending, the rest overflow', async () => {
    const first = gw.get('/pooled/0');
    await waitFor(() => pooled.u.seen.length === 1, 'the first request to hold the only connection');
    // Four more: whichever arrives first waits as the one pending request, the other three overflow.
    const more = [1, 2, 3, 4].map((i) => gw.get(`/pooled/${i}`));
    const settled: Reply[] = [];
    for (const p of more) void p.then((r) => settled.push(r));
    await waitFor(() => settled.length === 3, 'three requests to be refused');
    assert.equal(pooled.u.seen.length, 1, 'the pending request must not reach the upstream yet');
    for (const r of settled) {
      assert.deepEqual([r.status, r.body], [503, OVERFLOW_BODY]);
      assert.equal(r.headers['x-envoy-overloaded'], 'true');
    }
    // What Istio's circuit-breaking task reads from the proxy's /stats (`grep pending`), while held.
    const held = await gw.clusterStats('pooled');
    assert.deepEqual(
      [held['upstream_rq_active'], held['upstream_rq_pending_active'], held['upstream_rq_pending_total'], held['upstream_rq_pending_overflow']],
      [1, 1, 1, 3],
      'in flight: the held request; one waits for a connection, three overflowed',
    );
    assert.deepEqual([held['circuit_breakers.default.cx_open'], held['circuit_breakers.default.rq_pending_open'], held['circuit_breakers.default.rq_open']], [1, 1, 0]);
    assert.equal(held['upstream_rq_total'], 1, 'only a request that got a connection is sent');
    // The connection side: one connection open; each of the four later requests found the breaker's only
    // connection taken (Envoy's upstream_cx_overflow), though only the three the pending limit refused failed.
    assert.deepEqual(
      [held['upstream_cx_total'], held['upstream_cx_http1_total'], held['upstream_cx_active'], held['upstream_cx_destroy'], held['upstream_cx_overflow']],
      [1, 1, 1, 0, 4],
    );
    // The connection manager's view: two requests in flight at the gateway (the held one and the waiting one).
    const stats = await (await fetch(`${gw.proxy.adminUrl}/stats`)).text();
    assert.match(stats, /^http\.outbound_0\.0\.0\.0_\d+;\.downstream_rq_active: 2$/m);
    assert.equal(held['upstream_rq_completed'], 0);
    pooled.open();
    const [a, ...rest] = await Promise.all([first, ...more]);
    assert.deepEqual([a?.status, a?.body], [200, 'pooled']);
    assert.deepEqual(rest.map((r) => r.status).sort(), [200, 503, 503, 503]);
    assert.equal(pooled.u.seen.length, 2);
    // maxRequestsPerConnection 1: each request came on its own connection.
    assert.equal(new Set(pooled.clientPorts).size, 2);
    const after = await waitFor(async () => {
      const st = await gw.clusterStats('pooled');
      return st['upstream_rq_completed'] === 2 ? st : undefined;
    }, 'both admitted requests to be counted complete');
    assert.deepEqual(
      [after['upstream_rq_200'], after['upstream_rq_2xx'], after['upstream_rq_active'], after['upstream_rq_pending_active'], after['circuit_breakers.default.rq_pending_open'], after['circuit_breakers.default.cx_open']],
      [2, 2, 0, 0, 0, 0],
    );
    // maxRequestsPerConnection 1: two connections, both closed after their one request.
    const closed = await waitFor(async () => {
      const st = await gw.clusterStats('pooled');
      return st['upstream_cx_destroy'] === 2 ? st : undefined;
    }, 'both connections to be closed');
    assert.deepEqual([closed['upstream_cx_total'], closed['upstream_cx_active']], [2, 0]);

    const refused = rest.flatMap((r, i) => (r.status === 503 ? [`/pooled/${i + 1}`] : []));
    for (const path of refused) {
      const log = await gw.logFor(path);
      assert.deepEqual([log.status, log.flags, log.details], [503, 'UO', 'upstream_reset_before_response_started{overflow}']);
    }
  });

  await t.test('http2MaxRequests 2 (max_requests): the third concurrent request overflows', async () => {
    const held = [gw.get('/limited/0'), gw.get('/limited/1')];
    await waitFor(() => limited.u.seen.length === 2, 'two requests in flight');
    const third = await gw.get('/limited/2');
    assert.deepEqual([third.status, third.body, third.headers['x-envoy-overloaded']], [503, OVERFLOW_BODY, 'true']);
    const st = await gw.clusterStats('limited');
    assert.deepEqual(
      [st['upstream_rq_active'], st['circuit_breakers.default.rq_open'], st['upstream_rq_pending_overflow'], st['upstream_rq_pending_total']],
      [2, 1, 1, 0],
      'max_requests overflow counts as upstream_rq_pending_overflow, as in Envoy',
    );
    limited.open();
    assert.deepEqual((await Promise.all(held)).map((r) => r.status), [200, 200]);
    // Capacity is given back: a later request goes through.
    assert.equal((await gw.get('/limited/3')).status, 200);
    const log = await gw.logFor('/limited/2');
    assert.deepEqual([log.status, log.flags], [503, 'UO']);
  });
});
