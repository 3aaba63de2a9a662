// Cluster state that Envoy's workers share, in `isthmus proxy --concurrency 2` as a user runs it (a real CLI
// child: a primary and two worker processes, configured by the real control plane as an ingress gateway).
// - Outlier detection: Envoy runs one detector per cluster for all its workers
//   (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier): a DestinationRule's
//   consecutive5xxErrors counts failures whichever worker saw them, the ejection is counted once, and then no
//   worker sends the ejected endpoint anything. When each worker had its own detector, failures split over
//   two workers ejected nothing, one worker kept sending to a host the other had ejected, and /stats summed
//   each worker's ejections.
// - Circuit breakers: a limit caps the whole proxy ("This bound applies to the sum of connections across all
//   workers threads": https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking).
//   With limits per worker, `http2MaxRequests: 1` let one request through on each worker.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import { freePort, send, startMesh, startUpstream } from '../support/data-plane.js';
import { startProxyChild } from '../support/proxy-child.js';
import { waitFor } from '../support/wait.js';
import { adminStats } from '../support/gateway-mesh.js';
import { destinationRuleYaml, gatewayYaml, serviceEntryYaml, virtualServiceYaml } from '../data-plane/resilience-mesh.js';

it('--concurrency 2: outlier detection and circuit breakers are the whole proxy’s, not each worker’s', async (t) => {
  const slow = { inFlight: 0, maxInFlight: 0, seen: 0 };
  const slowUpstream = await startUpstream(t, 'slow', '127.0.0.1', 0, (_req, res) => {
    slow.seen++;
    slow.maxInFlight = Math.max(slow.maxInFlight, ++slow.inFlight);
    setTimeout(() => {
      slow.inFlight--;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('slow');
    }, 300);
  });
  const healthy = await startUpstream(t, 'healthy');
  const broken = await startUpstream(t, 'broken', '127.0.0.1', 0, (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('broken');
  });
  const port = await freePort();
  const mesh = await startMesh(t, {
    'gw.yaml': gatewayYaml(port),
    'svc.yaml': serviceEntryYaml('svc', [{ port: healthy.port }, { port: broken.port }]),
    // Three in a row: with round robin per worker, the broken endpoint's answers are spread over both workers.
    'dr.yaml': destinationRuleYaml('svc', '  trafficPolicy:\n    loadBalancer: {simple: ROUND_ROBIN}\n    outlierDetection: {consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 100}\n'),
    'slow.yaml': serviceEntryYaml('slow', [{ port: slowUpstream.port }]),
    // Istio's http2MaxRequests is the cluster's max_requests.
    'slow-dr.yaml': destinationRuleYaml('slow', '  trafficPolicy:\n    connectionPool: {http: {http2MaxRequests: 1}}\n'),
    'vs.yaml': virtualServiceYaml(`  - match: [{uri: {prefix: /slow}}]
    route: [{destination: {host: slow.example.internal, port: {number: 80}}}]
  - route: [{destination: {host: svc.example.internal, port: {number: 80}}}]
`),
  });
  const bootFile = join(tmpdir(), `isthmus-concurrency-state-${process.pid}.json`);
  t.after(() => rm(bootFile, { force: true }));
  await writeFile(
    bootFile,
    JSON.stringify(envoyBootstrap({ node: 'ingressgateway', proxyless: false, xdsAddress: mesh.cp.xdsAddress, namespace: 'istio-system', type: 'router', ip: '127.0.0.1', labels: { istio: 'ingressgateway' }, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } })),
  );
  const proxy = await startProxyChild(t, ['--bootstrap', bootFile, '--concurrency', '2', '--bind-address', '127.0.0.1', '--admin-port', '0', '--readiness-port', '0', '--prometheus-port', '0']);
  const { admin, readiness } = proxy;
  await waitFor(async () => (await fetch(readiness)).status === 200, 'readiness 200', 60_000);

  const cx = (s: Map<string, number>): number[] => [0, 1].map((w) => s.get(`listener.0.0.0.0_${port}.worker_${w}.downstream_cx_total`) ?? 0);

  await t.test('outlier detection: failures on both workers add up to one ejection; no worker sends to the ejected endpoint; /clusters shows it', async () => {
    const cluster = 'cluster.outbound|80||svc.example.internal;';
    const stat = (s: Map<string, number>, name: string): number => s.get(`${cluster}.${name}`) ?? 0;
    /** What each request got back, in order. */
    const replies: string[] = [];
    const get = async (i: number): Promise<void> => {
      const r = await send('127.0.0.1', port, { path: `/svc/${i}` });
      replies.push(`${r.status} ${r.body}`);
    };

    // Requests on new connections (the kernel hands each to a worker) until the broken endpoint has answered
    // three times; with one detector, that ejects it.
    let i = 0;
    await waitFor(async () => {
      await get(i++);
      return broken.seen.length >= 3;
    }, 'three 503s from the broken endpoint', 30_000);
    const ejected = await waitFor(async () => {
      const s = await adminStats(admin);
      return stat(s, 'outlier_detection.ejections_active') === 1 ? s : undefined;
    }, 'the primary to eject the broken endpoint', 10_000, 50).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify([...(broken.seen.map((x) => x.url))])}\nstderr: ${proxy.err()}`);
    });
    assert.deepEqual(
      [stat(ejected, 'outlier_detection.ejections_enforced_total'), stat(ejected, 'outlier_detection.ejections_enforced_consecutive_5xx'), stat(ejected, 'outlier_detection.ejections_detected_consecutive_5xx')],
      [1, 1, 1],
      'one ejection for the proxy, not one per worker',
    );
    assert.deepEqual([stat(ejected, 'membership_total'), stat(ejected, 'membership_healthy')], [2, 1]);

    // From now on no worker sends the broken endpoint anything, whichever takes the connection.
    const seenAtEjection = broken.seen.length;
    const before = cx(await adminStats(admin));
    await waitFor(async () => {
      for (let k = 0; k < 10; k++) await get(i++);
      const now = cx(await adminStats(admin));
      return now.every((n, w) => n > (before[w] ?? 0));
    }, 'both workers to take connections after the ejection', 30_000);
    assert.equal(broken.seen.length, seenAtEjection, 'no request reached the ejected endpoint');
    assert.deepEqual(new Set(replies.slice(-10)), new Set(['200 healthy']));

    // The primary's /clusters (what `isthmus proxy-config endpoint` reads) marks the ejected host.
    const clusters = await (await fetch(`${admin}/clusters`)).text();
    assert.match(clusters, new RegExp(`^outbound\\|80\\|\\|svc\\.example\\.internal::127\\.0\\.0\\.1:${broken.port}::health_flags::/failed_outlier_check$`, 'm'));
    assert.match(clusters, new RegExp(`^outbound\\|80\\|\\|svc\\.example\\.internal::127\\.0\\.0\\.1:${healthy.port}::health_flags::healthy$`, 'm'));
  });

  await t.test('circuit breakers: http2MaxRequests: 1 admits one request at a time for the whole proxy, the rest overflow (503, x-envoy-overloaded)', async () => {
    const name = 'cluster.outbound|80||slow.example.internal;.upstream_rq_pending_overflow';
    const overflowBefore = (await adminStats(admin)).get(name) ?? 0;
    let overflowed = 0;
    // Rounds of six requests at once on new connections, until both workers took some in the same round.
    await waitFor(async () => {
      const before = cx(await adminStats(admin));
      const replies = await Promise.all(Array.from({ length: 6 }, (_, k) => send('127.0.0.1', port, { path: `/slow/${k}` })));
      const after = cx(await adminStats(admin));
      const ok = replies.filter((r) => r.status === 200 && r.body === 'slow').length;
      const refused = replies.filter((r) => r.status === 503 && r.headers['x-envoy-overloaded'] === 'true').length;
      assert.equal(ok + refused, 6, replies.map((r) => `${r.status} ${r.body}`).join(', '));
      assert.ok(ok >= 1, 'one request at a time gets through');
      overflowed += refused;
      assert.equal(slow.maxInFlight, 1, 'never two requests at the upstream at once, whichever workers took them');
      return after.every((n, w) => n > (before[w] ?? 0));
    }, 'both workers to take connections in one round', 30_000);
    assert.equal(((await adminStats(admin)).get(name) ?? 0) - overflowBefore, overflowed, 'each refusal counted once, by the worker that refused it');
    // Units go back as requests end: one request at a time always gets through, whichever worker takes it.
    for (let k = 0; k < 4; k++) {
      const r = await send('127.0.0.1', port, { path: `/slow/one-by-one/${k}` });
      assert.equal(r.status, 200, `request ${k}: ${r.status} ${r.body}`);
    }
  });
});
