// DestinationRule outlierDetection through an ingress gateway: of two endpoints, the one that always
// answers 503 is ejected after consecutive5xxErrors, every request then goes to the healthy one, and once
// baseEjectionTime has passed (hosts return at an interval tick) the ejected endpoint is tried again.
// https://istio.io/latest/docs/reference/config/networking/destination-rule/#OutlierDetection
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { destinationRuleYaml, serviceEntryYaml, startGateway, virtualServiceYaml } from './resilience-mesh.js';

it('outlier detection (DestinationRule outlierDetection through an ingress gateway)', async (t) => {
  const healthy = await startUpstream(t, 'healthy');
  const brokenAt: number[] = [];
  const broken = await startUpstream(t, 'broken', '127.0.0.1', 0, (_req, res) => {
    brokenAt.push(Date.now());
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('broken');
  });
  const gw = await startGateway(t, () => ({
    'svc.yaml': serviceEntryYaml('svc', [{ port: healthy.port }, { port: broken.port }]),
    'svc-dr.yaml': destinationRuleYaml(
      'svc',
      '  trafficPolicy:\n    loadBalancer: {simple: ROUND_ROBIN}\n    outlierDetection: {consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 2s, maxEjectionPercent: 100}\n',
    ),
    'vs.yaml': virtualServiceYaml(`  - match: [{uri: {prefix: /svc}}]
    route: [{destination: {host: svc.example.internal, port: {number: 80}}}]
`),
  }));

  await t.test('the failing endpoint is ejected after 2 consecutive 5xx; then every request reaches the healthy one', async () => {
    // Round robin alternates, so within a few requests the broken endpoint answers 503 twice in a row.
    await waitFor(async () => {
      await gw.get('/svc/warmup');
      return broken.seen.length >= 2;
    }, 'two 503s from the broken endpoint');
    const seenBefore = broken.seen.length;
    const replies = [];
    for (let i = 0; i < 20; i++) replies.push(await gw.get(`/svc/ejected/${i}`));
    assert.deepEqual(new Set(replies.map((r) => `${r.status} ${r.body}`)), new Set(['200 healthy']));
    assert.equal(broken.seen.length, seenBefore);
    const log = await gw.logFor('/svc/ejected/19');
    assert.equal(log.upstreamHost, `127.0.0.1:${healthy.port}`);
    // What `curl localhost:15000/stats | grep outlier` shows an operator.
    const st = await gw.clusterStats('svc');
    assert.deepEqual(
      [st['outlier_detection.ejections_active'], st['outlier_detection.ejections_enforced_total'], st['outlier_detection.ejections_enforced_consecutive_5xx'], st['outlier_detection.ejections_detected_consecutive_5xx']],
      [1, 1, 1, 1],
    );
    // Envoy's membership gauges count an ejected host out of the healthy ones, not out of the cluster.
    assert.deepEqual([st['membership_total'], st['membership_healthy'], st['membership_degraded'], st['membership_excluded'], st['membership_change']], [2, 1, 0, 0, 1]);
  });

  await t.test('after baseEjectionTime the ejected endpoint is tried again', async () => {
    const seenBefore = broken.seen.length;
    const ejectingRequestAt = brokenAt[seenBefore - 1] ?? 0;
    // The host returns at the first interval tick 2s after its ejection: poll with traffic, no fixed sleep.
    const reply = await waitFor(
      async () => {
        const r = await gw.get('/svc/after');
        return r.body === 'broken' ? r : undefined;
      },
      'the broken endpoint to be tried again',
      8000,
      50,
    );
    assert.equal(reply.status, 503);
    assert.ok(broken.seen.length > seenBefore);
    const back = await gw.clusterStats('svc');
    assert.equal(back['outlier_detection.ejections_active'], 0, 'the returned host is no longer counted as ejected');
    assert.equal(back['membership_healthy'], 2, 'and is healthy again (until its next ejection)');
    // Ejected when it answered that request, back no earlier than baseEjectionTime later.
    const backAt = brokenAt[seenBefore] ?? 0;
    assert.ok(backAt - ejectingRequestAt >= 2000, `tried again ${backAt - ejectingRequestAt} ms after its ejection`);
  });
});
