// Which traffic policy a cluster gets when a DestinationRule sets it at several levels, Istio's precedence
// (pilot/pkg/networking/util GetPortLevelTrafficPolicy / MergeSubsetTrafficPolicy, model.MergeTrafficPolicy):
// a port-level setting replaces the rule's policy for that port wholesale (unset fields take defaults, nothing
// is inherited); a subset's fields override the (port-resolved) rule policy one by one; a subset's own
// port-level setting overrides connectionPool, outlierDetection, loadBalancer and tls together.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { portLevelTrafficPolicy, subsetTrafficPolicy, type DestinationRuleSpec } from '../../../src/api/networking/destination-rule.js';
import { Cluster_LbPolicy } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { clusterJson, clusterNamed, NO_AUTO_MTLS, podYaml, serviceYaml, threshold, translateYaml } from './support.js';

const SPEC: DestinationRuleSpec = {
  host: 'reviews',
  trafficPolicy: {
    connectionPool: { http: { http2MaxRequests: 100 } },
    outlierDetection: { consecutive5xxErrors: 5 },
    tunnel: { targetHost: 'proxy.example.com', targetPort: 8080 },
    portLevelSettings: [{ port: { number: 7070 }, loadBalancer: { simple: 'RANDOM' } }],
  },
  subsets: [
    { name: 'v1', labels: { version: 'v1' } },
    { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { connectionPool: { http: { http2MaxRequests: 10 } } } },
    {
      name: 'v3',
      labels: { version: 'v3' },
      trafficPolicy: {
        loadBalancer: { simple: 'ROUND_ROBIN' },
        portLevelSettings: [{ port: { number: 9080 }, connectionPool: { http: { http2MaxRequests: 1 } } }],
      },
    },
  ],
};

describe('traffic policy merging (unit)', () => {
  it('a port-level setting replaces the whole policy for its port and nothing else', () => {
    const p = portLevelTrafficPolicy(SPEC.trafficPolicy, 7070);
    assert.equal(p.portLevel, true);
    assert.deepEqual(p.policy, { loadBalancer: { simple: 'RANDOM' } });
    assert.equal(portLevelTrafficPolicy(SPEC.trafficPolicy, 9080).policy, SPEC.trafficPolicy);
  });

  it('a subset field overrides the rule’s, the other fields are inherited', () => {
    const p = subsetTrafficPolicy(SPEC, 'v2', 9080);
    assert.equal(p?.connectionPool?.http?.http2MaxRequests, 10);
    assert.equal(p?.outlierDetection?.consecutive5xxErrors, 5);
    assert.deepEqual(p?.tunnel, SPEC.trafficPolicy?.tunnel);
  });

  it('a subset field applies on top of the rule’s port-level setting', () => {
    const p = subsetTrafficPolicy(SPEC, 'v2', 7070);
    assert.deepEqual(p?.loadBalancer, { simple: 'RANDOM' });
    assert.equal(p?.connectionPool?.http?.http2MaxRequests, 10);
    assert.equal(p?.outlierDetection, undefined, 'the port-level setting dropped the rule’s outlier detection');
  });

  it('a subset port-level setting overrides all four policy fields, even those it leaves unset', () => {
    const p = subsetTrafficPolicy(SPEC, 'v3', 9080);
    assert.equal(p?.connectionPool?.http?.http2MaxRequests, 1);
    assert.equal(p?.outlierDetection, undefined);
    assert.equal(p?.loadBalancer, undefined, 'the subset’s own top-level ROUND_ROBIN does not apply on this port');
  });

  it('an unknown or absent subset gets the rule’s policy for the port', () => {
    assert.deepEqual(subsetTrafficPolicy(SPEC, 'nope', 7070), { loadBalancer: { simple: 'RANDOM' } });
    assert.equal(subsetTrafficPolicy(SPEC, undefined, 9080), SPEC.trafficPolicy);
  });
});

describe('traffic policy merging in clusters', () => {
  const host = 'reviews.default.svc.cluster.local';
  const yaml = [
    serviceYaml('reviews', [
      { name: 'http', port: 9080 },
      { name: 'grpc', port: 7070 },
    ]),
    podYaml({ name: 'reviews-v1', ip: '10.0.0.1', labels: { app: 'reviews', version: 'v1' } }),
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    connectionPool: {http: {http2MaxRequests: 100}}
    outlierDetection: {consecutive5xxErrors: 5}
    portLevelSettings:
    - port: {number: 7070}
      loadBalancer: {simple: RANDOM}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy: {connectionPool: {http: {http2MaxRequests: 10}}}
  - name: v3
    labels: {version: v3}
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}
      portLevelSettings:
      - port: {number: 9080}
        connectionPool: {http: {http2MaxRequests: 1}}`,
  ].join('\n---\n');
  const res = translateYaml(yaml, { ip: '10.9.9.9' }, NO_AUTO_MTLS);
  const name = (port: number, subset = '') => `outbound|${port}|${subset}|${host}`;
  const maxRequests = (port: number, subset = '') => threshold(clusterNamed(res, name(port, subset))).maxRequests;

  it('matches the golden', () => {
    const names = [9080, 7070].flatMap((p) => ['', 'v1', 'v2', 'v3'].map((s) => name(p, s)));
    assertGolden('cluster/policy-precedence', names.map((n) => clusterJson(res, n)));
  });

  it('subset v2 has max_requests 10 because the subset policy overrides the top-level 100', () => {
    assert.equal(maxRequests(9080), 100);
    assert.equal(maxRequests(9080, 'v1'), 100, 'a subset without a policy inherits the rule’s');
    assert.equal(maxRequests(9080, 'v2'), 10);
    assert.equal(clusterNamed(res, name(9080, 'v2')).outlierDetection?.consecutive5xx, 5, 'and keeps the rule’s outlier detection');
  });

  it('port 7070 balances RANDOM with unlimited requests and no outlier detection: its port-level setting replaced everything', () => {
    const c = clusterNamed(res, name(7070));
    assert.equal(c.lbPolicy, Cluster_LbPolicy.RANDOM);
    assert.equal(maxRequests(7070), 4294967295);
    assert.equal(c.outlierDetection, undefined);
    assert.equal(maxRequests(7070, 'v2'), 10, 'subset v2 still lowers it on that port');
    assert.equal(clusterNamed(res, name(7070, 'v2')).lbPolicy, Cluster_LbPolicy.RANDOM);
  });

  it('subset v3 uses its own port-level setting on 9080 and its ROUND_ROBIN elsewhere', () => {
    assert.equal(maxRequests(9080, 'v3'), 1);
    assert.equal(clusterNamed(res, name(9080, 'v3')).lbPolicy, Cluster_LbPolicy.LEAST_REQUEST);
    assert.equal(clusterNamed(res, name(9080, 'v3')).outlierDetection, undefined);
    assert.equal(clusterNamed(res, name(7070, 'v3')).lbPolicy, Cluster_LbPolicy.ROUND_ROBIN);
  });
});
