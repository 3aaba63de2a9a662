// VirtualService retries with `retryRemoteLocalities` through an ingress gateway: with locality failover
// the gateway's own locality is priority 0 and the other locality priority 1, and Istio's
// previous_priorities retry priority (update_frequency 2) sends the third attempt to priority 1 once the
// first two failed in priority 0; without it every attempt stays in priority 0
// (https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry retryRemoteLocalities,
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_connection_management#retry-plugin-configuration).

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../support/data-plane.js';
import { serviceEntryYaml, startGateway, virtualServiceYaml } from './resilience-mesh.js';

it('retries to other localities with retryRemoteLocalities (previous_priorities)', async (t) => {
  const near = await startUpstream(t, 'near', '127.0.0.1', 0, (_req, res) => {
    res.writeHead(503);
    res.end('near is down');
  });
  const far = await startUpstream(t, 'far', '127.0.0.2', 0, (_req, res) => res.end('far'));
  const gw = await startGateway(
    t,
    () => ({
      'se.yaml': serviceEntryYaml('svc', [
        { port: near.port, locality: 'region-a/zone-1' },
        { address: '127.0.0.2', port: far.port, locality: 'region-b/zone-1' },
      ]),
      // Locality failover needs outlier detection; it must not eject here (the test counts attempts).
      'dr.yaml': `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: svc, namespace: default}
spec:
  host: svc.example.internal
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 100, interval: 60s, baseEjectionTime: 60s}
`,
      'vs.yaml': virtualServiceYaml(
        `  - match: [{uri: {prefix: /remote}}]
    route: [{destination: {host: svc.example.internal, port: {number: 80}}}]
    retries: {attempts: 2, retryOn: 5xx, retryRemoteLocalities: true}
  - match: [{uri: {prefix: /local}}]
    route: [{destination: {host: svc.example.internal, port: {number: 80}}}]
    retries: {attempts: 2, retryOn: 5xx}
`,
      ),
    }),
    {},
    { locality: { region: 'region-a', zone: 'zone-1', subZone: '' } },
  );

  const local = await gw.get('/local');
  assert.deepEqual([local.status, local.body], [503, 'near is down']);
  assert.equal(near.seen.length, 3, 'without retryRemoteLocalities every attempt stays in the near locality');
  assert.equal(far.seen.length, 0);

  const remote = await gw.get('/remote');
  assert.deepEqual([remote.status, remote.body], [200, 'far']);
  assert.deepEqual(
    [...near.seen.slice(3), ...far.seen].map((s) => `${s.url} ${String(s.headers['x-envoy-attempt-count'])}`),
    ['/remote 1', '/remote 2', '/remote 3'],
    'the first two attempts in the near locality, the third in the far one',
  );
  assert.equal(far.seen.length, 1);
});
