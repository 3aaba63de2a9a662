// The control plane's own metric store, end to end: a real control plane scraping two real sidecars
// (productpage-v1 calling reviews-v2 over mutual TLS) every 200 ms, its /api/metrics/graph showing the
// productpage-v1 -> reviews edge with traffic and mTLS, and `isthmus x metrics` (the real binary, in a
// child process) printing reviews-v2's row from it, with no Prometheus anywhere.

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startMesh, startTestProxy, startUpstream, viaSidecar, type TestMesh } from '../support/data-plane.js';
import { runIsthmus } from '../support/cli.js';
import { waitFor } from '../support/wait.js';
import { serviceYaml, STRICT_MTLS } from '../support/mesh-yaml.js';



/** productpage-v1 (client sidecar on 127.0.2.21) and reviews-v2 (server sidecar on 127.0.2.22) with STRICT mTLS. */
async function bookinfoPair(t: TestContext): Promise<TestMesh> {
  const target = await freePort();
  await startUpstream(t, 'reviews', '127.0.0.1', target);
  const mesh = await startMesh(t, { 'svc.yaml': serviceYaml('reviews', 9080, target) + serviceYaml('productpage', 9080, 9080), 'mtls.yaml': STRICT_MTLS }, {}, { metricsScrapeIntervalMs: 200 });
  mesh.cp.workloads.register({ name: 'reviews-v2', namespace: 'default', address: '127.0.2.22', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews', ports: { http: target }, tlsMode: 'istio' });
  mesh.cp.workloads.register({ name: 'productpage-v1', namespace: 'default', address: '127.0.2.21', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage', tlsMode: 'istio' });
  const identity = (sa: string) => ({ identity: { token: () => mesh.cp.ca.issueToken({ namespace: 'default', serviceAccount: sa }) } });
  await startTestProxy(t, mesh, { node: 'reviews-v2', ip: '127.0.2.22', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews' }, identity('bookinfo-reviews'));
  await startTestProxy(t, mesh, { node: 'productpage-v1', ip: '127.0.2.21', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage' }, identity('bookinfo-productpage'));
  return mesh;
}

interface Edge {
  readonly source: string;
  readonly target: string;
  readonly requestsPerSecond: number;
  readonly errorRate: number | null;
  readonly mtls: boolean;
}

describe('control plane metric store', () => {
  it('graphs productpage-v1 -> reviews with traffic and mTLS, and `isthmus x metrics` prints reviews-v2', async (t) => {
    const mesh = await bookinfoPair(t);
    const api = mesh.cp.monitoringUrl;
    let sent = 0;
    const edge = await waitFor(
      async () => {
        // Keep traffic flowing so the counters grow between scrapes.
        const r = await viaSidecar('127.0.2.21', `http://reviews:9080/reviews/${sent++}`).catch(() => undefined);
        if (r?.status !== 200) return undefined;
        const g = (await (await fetch(`${api}/api/metrics/graph?window=1m`)).json()) as { edges: Edge[] };
        const e = g.edges.find((x) => x.source === 'workload:default/productpage-v1' && x.target === 'service:default/reviews');
        return e !== undefined && e.requestsPerSecond > 0 && e.mtls ? e : undefined;
      },
      'the productpage-v1 -> reviews edge with traffic over mTLS',
      20_000,
      50,
    );
    assert.equal(edge.errorRate, 0);
    const graph = (await (await fetch(`${api}/api/metrics/graph?window=1m`)).json()) as { edges: Edge[] };
    assert.ok(graph.edges.some((e) => e.source === 'service:default/reviews' && e.target === 'workload:default/reviews-v2' && e.mtls), JSON.stringify(graph.edges));

    const status = (await (await fetch(`${api}/api/metrics`)).json()) as { scrape: { intervalMs: number; targets: { id: string; health: string }[] } };
    assert.equal(status.scrape.intervalMs, 200);
    assert.deepEqual(status.scrape.targets.map((x) => [x.id, x.health]), [['productpage-v1.default', 'up'], ['reviews-v2.default', 'up']]);

    const r = await runIsthmus(['x', 'metrics', 'reviews-v2', '--control-plane', new URL(api).host]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /^ {34}WORKLOAD {4}TOTAL RPS {4}ERROR RPS {2}P50 LATENCY {2}P90 LATENCY {2}P99 LATENCY$/);
    const row = /^ +reviews-v2 +(\d+\.\d{3}) +(\d+\.\d{3}) +(\S+) +(\S+) +(\S+)$/.exec(lines[1] ?? '');
    assert.ok(row !== null, r.stdout);
    assert.ok(Number(row[1]) > 0, `total rps ${row[1]}`);
    assert.equal(row[2], '0.000');
  });
});
