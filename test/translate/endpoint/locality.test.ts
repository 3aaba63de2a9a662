// Locality load balancing in EDS, relative to the calling proxy (Istio's ApplyLocalityLoadBalancer):
// priorities by proximity once outlier detection can notice failures, `failover` region pairs,
// `failoverPriority` labels, and `distribute` weights.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import type { ClusterLoadAssignment } from '../../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { clusterNamed, loadAssignmentFor, loadAssignmentJson, NO_AUTO_MTLS, podYaml, serviceYaml, translateYaml } from '../cluster/support.js';

const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';

function pod(name: string, ip: string, region: string, zone: string, subzone = '', extra: Record<string, string> = {}): string {
  return podYaml({
    name,
    ip,
    labels: {
      app: 'reviews',
      'topology.kubernetes.io/region': region,
      'topology.kubernetes.io/zone': zone,
      ...(subzone !== '' ? { 'topology.istio.io/subzone': subzone } : {}),
      ...extra,
    },
  });
}

const BASE = [
  serviceYaml('reviews', [{ name: 'http', port: 9080 }]),
  pod('r1', '10.0.0.1', 'us-east', 'a', 's1', { tier: 'gold' }),
  pod('r2', '10.0.0.2', 'us-east', 'a', 's2'),
  pod('r3', '10.0.0.3', 'us-east', 'b', '', { tier: 'gold' }),
  pod('r4', '10.0.0.4', 'us-west', 'c'),
  pod('r5', '10.0.0.5', 'eu-west', 'd'),
].join('\n---\n');

const PROXY = { ip: '10.9.9.9', name: 'client', labels: { app: 'client', tier: 'gold' }, locality: { region: 'us-east', zone: 'a', subZone: 's1' } };

function withPolicy(trafficPolicy: string) {
  const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
${trafficPolicy}`;
  return translateYaml(`${BASE}\n---\n${dr}`, PROXY, NO_AUTO_MTLS);
}

/** `[locality, priority, weight, endpoint IPs]` per LocalityLbEndpoints. */
function summary(cla: ClusterLoadAssignment): [string, number, number | undefined, string[]][] {
  return cla.endpoints.map((l) => [
    [l.locality?.region, l.locality?.zone, l.locality?.subZone].filter((x) => x !== '').join('/'),
    l.priority,
    l.loadBalancingWeight,
    l.lbEndpoints.map((e) => {
      const a = e.hostIdentifier.case === 'endpoint' ? e.hostIdentifier.value.address?.address : undefined;
      return a?.case === 'socketAddress' ? a.value.address : '?';
    }),
  ]);
}

const OD = '    outlierDetection: {consecutive5xxErrors: 5}';

describe('locality failover', () => {
  it('without outlier detection every locality stays at priority 0 (Envoy could never see a failure)', () => {
    const res = translateYaml(BASE, PROXY, NO_AUTO_MTLS);
    assert.ok(summary(loadAssignmentFor(res, CLUSTER)).every(([, p]) => p === 0));
  });

  it('with outlier detection ranks localities by proximity: subzone, zone, region, elsewhere', () => {
    const res = withPolicy(OD);
    assert.deepEqual(summary(loadAssignmentFor(res, CLUSTER)), [
      ['eu-west/d', 3, 1, ['10.0.0.5']],
      ['us-east/a/s1', 0, 1, ['10.0.0.1']],
      ['us-east/a/s2', 1, 1, ['10.0.0.2']],
      ['us-east/b', 2, 1, ['10.0.0.3']],
      ['us-west/c', 3, 1, ['10.0.0.4']],
    ]);
    assert.equal(clusterNamed(res, CLUSTER).commonLbConfig?.localityConfigSpecifier.case, undefined);
  });

  it('failover sends a region’s overflow to the named region before any other', () => {
    const res = withPolicy(`${OD}
    loadBalancer:
      localityLbSetting:
        failover: [{from: us-east, to: eu-west}]`);
    assertGolden('endpoint/locality-failover', loadAssignmentJson(res, CLUSTER));
    assert.deepEqual(
      summary(loadAssignmentFor(res, CLUSTER)).map(([l, p]) => [l, p]),
      [
        ['eu-west/d', 3],
        ['us-east/a/s1', 0],
        ['us-east/a/s2', 1],
        ['us-east/b', 2],
        ['us-west/c', 4],
      ],
    );
    assert.equal(clusterNamed(res, CLUSTER).commonLbConfig?.localityConfigSpecifier.case, 'localityWeightedLbConfig');
  });

  it('failoverPriority ranks endpoints by how many leading labels of the list match the proxy’s', () => {
    const res = withPolicy(`${OD}
    loadBalancer:
      localityLbSetting:
        failoverPriority: [topology.kubernetes.io/region, tier]`);
    assertGolden('endpoint/locality-failover-priority', loadAssignmentJson(res, CLUSTER));
    // Region us-east and tier gold: 0; region only: 1; other regions: 2, whatever their tier (only the
    // labels before the first mismatch count).
    assert.deepEqual(
      summary(loadAssignmentFor(res, CLUSTER)).map(([l, p, , ips]) => [l, p, ips]),
      [
        ['eu-west/d', 2, ['10.0.0.5']],
        ['us-east/a/s1', 0, ['10.0.0.1']],
        ['us-east/a/s2', 1, ['10.0.0.2']],
        ['us-east/b', 0, ['10.0.0.3']],
        ['us-west/c', 2, ['10.0.0.4']],
      ],
    );
  });

  it('failoverPriority with a value compares endpoints with that value instead of the proxy’s label', () => {
    const res = withPolicy(`${OD}
    loadBalancer:
      localityLbSetting:
        failoverPriority: [topology.kubernetes.io/region=eu-west]`);
    assert.deepEqual(
      summary(loadAssignmentFor(res, CLUSTER)).map(([l, p]) => [l, p]),
      [
        ['eu-west/d', 0],
        ['us-east/a/s1', 1],
        ['us-east/a/s2', 1],
        ['us-east/b', 1],
        ['us-west/c', 1],
      ],
    );
  });

  it('enabled: false turns locality load balancing off', () => {
    const res = withPolicy(`${OD}
    loadBalancer:
      localityLbSetting: {enabled: false}`);
    assert.ok(summary(loadAssignmentFor(res, CLUSTER)).every(([, p]) => p === 0));
  });
});

describe('locality distribute', () => {
  const res = withPolicy(`    loadBalancer:
      localityLbSetting:
        distribute:
        - from: us-east/a/*
          to: {"us-east/a/*": 80, "us-west/*": 20}`);

  it('matches the golden', () => {
    assertGolden('endpoint/locality-distribute', loadAssignmentJson(res, CLUSTER));
  });

  it('weights localities as distributed (a wildcard target shares its weight) and drains the others, without outlier detection', () => {
    assert.deepEqual(
      summary(loadAssignmentFor(res, CLUSTER)).map(([l, p, w, ips]) => [l, p, w, ips.length]),
      [
        ['eu-west/d', 0, 1, 0],
        ['us-east/a/s1', 0, 40, 1],
        ['us-east/a/s2', 0, 40, 1],
        ['us-east/b', 0, 1, 0],
        ['us-west/c', 0, 20, 1],
      ],
    );
    assert.equal(clusterNamed(res, CLUSTER).commonLbConfig?.localityConfigSpecifier.case, 'localityWeightedLbConfig');
  });

  it('applies only to proxies in the `from` locality', () => {
    const other = translateYaml(
      `${BASE}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: default}\nspec:\n  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: us-east/a/*\n          to: {"us-west/*": 100}`,
      { ...PROXY, locality: { region: 'eu-west', zone: 'd' } },
      NO_AUTO_MTLS,
    );
    assert.ok(summary(loadAssignmentFor(other, CLUSTER)).every(([, , w, ips]) => w === 1 && ips.length === 1));
  });
});

describe('locality failover on DNS clusters', () => {
  it('prioritizes the inline load assignment of a DNS ServiceEntry like EDS', () => {
    const yaml = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mirrors, namespace: default}
spec:
  hosts: [mirror.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints:
  - {address: eu.mirror.example.com, locality: eu-west/d}
  - {address: us.mirror.example.com, locality: us-east/a/s1}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mirrors, namespace: default}
spec:
  host: mirror.example.com
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 5}`;
    const la = clusterNamed(translateYaml(yaml, PROXY, NO_AUTO_MTLS), 'outbound|80||mirror.example.com').loadAssignment;
    assert.ok(la !== undefined);
    assert.deepEqual(
      summary(la).map(([l, p]) => [l, p]),
      [
        ['eu-west/d', 1],
        ['us-east/a/s1', 0],
      ],
    );
  });
});
