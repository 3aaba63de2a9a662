// CDS and EDS for the productpage sidecar of Istio's Bookinfo sample with destination-rule-all.yaml: the
// full golden, plus the behaviour a user relies on spelled out.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden, dumpResources } from '../../support/golden.js';
import { Cluster_DiscoveryType, Cluster_LbPolicy } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { bookinfoYaml, clusterNamed, loadAssignmentFor, PRODUCTPAGE, translateYaml, upstreamTls } from './support.js';

const REVIEWS = 'reviews.default.svc.cluster.local';

describe('Bookinfo productpage sidecar clusters', () => {
  const res = translateYaml(bookinfoYaml(), PRODUCTPAGE);

  it('matches the golden CDS and EDS', () => {
    const d = dumpResources(res);
    assertGolden('cluster/bookinfo-productpage', { clusters: d.clusters, endpoints: d.endpoints });
  });

  it('has a default and one cluster per DestinationRule subset for every service port, plus the fixed clusters', () => {
    const names = res.clusters.map((c) => c.name);
    for (const n of [`outbound|9080||${REVIEWS}`, `outbound|9080|v1|${REVIEWS}`, `outbound|9080|v2|${REVIEWS}`, `outbound|9080|v3|${REVIEWS}`]) {
      assert.ok(names.includes(n), n);
    }
    for (const n of ['BlackHoleCluster', 'PassthroughCluster', 'InboundPassthroughClusterIpv4', 'inbound|9080||']) assert.ok(names.includes(n), n);
    assert.deepEqual(names, [...names].sort(), 'clusters are sorted by name');
  });

  it('sends Kubernetes services over EDS with LEAST_REQUEST, Istio’s default balancer', () => {
    const c = clusterNamed(res, `outbound|9080|v2|${REVIEWS}`);
    assert.equal(c.clusterDiscoveryType.value, Cluster_DiscoveryType.EDS);
    assert.equal(c.edsClusterConfig?.serviceName, c.name);
    assert.equal(c.edsClusterConfig?.edsConfig?.configSourceSpecifier.case, 'ads');
    assert.equal(c.lbPolicy, Cluster_LbPolicy.LEAST_REQUEST);
  });

  it('gives each subset cluster exactly the endpoints with its labels', () => {
    const addrs = (name: string) =>
      loadAssignmentFor(res, name).endpoints.flatMap((l) =>
        l.lbEndpoints.map((e) => (e.hostIdentifier.case === 'endpoint' && e.hostIdentifier.value.address?.address.case === 'socketAddress' ? e.hostIdentifier.value.address.address.value.address : '')),
      );
    assert.deepEqual(addrs(`outbound|9080||${REVIEWS}`), ['10.1.0.31', '10.1.0.32', '10.1.0.33']);
    assert.deepEqual(addrs(`outbound|9080|v2|${REVIEWS}`), ['10.1.0.32']);
    // A subset no workload matches still gets an (empty) assignment, so the proxy stops waiting for one.
    assert.deepEqual(addrs('outbound|9080|v2-mysql|ratings.default.svc.cluster.local'), []);
  });

  it('uses auto mTLS: ISTIO_MUTUAL only for endpoints labelled tlsMode istio, verifying the reviews service account', () => {
    const c = clusterNamed(res, `outbound|9080|v1|${REVIEWS}`);
    assert.equal(c.transportSocket, undefined);
    assert.deepEqual(
      c.transportSocketMatches.map((m) => [m.name, m.match]),
      [
        ['tlsMode-istio', { tlsMode: 'istio' }],
        ['tlsMode-disabled', {}],
      ],
    );
    const tls = upstreamTls(c);
    assert.equal(tls?.sni, `outbound_.9080_.v1_.${REVIEWS}`);
    const v = tls?.commonTlsContext?.validationContextType;
    assert.equal(v?.case, 'combinedValidationContext');
    assert.deepEqual(
      v?.case === 'combinedValidationContext' ? v.value.defaultValidationContext?.matchSubjectAltNames.map((m) => m.matchPattern.value) : [],
      ['spiffe://cluster.local/ns/default/sa/bookinfo-reviews'],
    );
    const ep = loadAssignmentFor(res, c.name).endpoints[0]?.lbEndpoints[0];
    assert.deepEqual(ep?.metadata?.filterMetadata['envoy.transport_socket_match'], { tlsMode: 'istio' });
  });

  it('sends inbound traffic for the productpage port to the application on localhost', () => {
    const c = clusterNamed(res, 'inbound|9080||');
    assert.equal(c.clusterDiscoveryType.value, Cluster_DiscoveryType.STATIC);
    const addr = c.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
    assert.equal(addr?.case === 'endpoint' && addr.value.address?.address.case === 'socketAddress' ? `${addr.value.address.address.value.address}:${String(addr.value.address.address.value.portSpecifier.value)}` : '', '127.0.0.1:9080');
  });

  it('gives every EDS locality a locality and a positive weight (grpc-js-xds requires both)', () => {
    for (const cla of res.endpoints) {
      for (const l of cla.endpoints) {
        assert.ok(l.locality !== undefined, `${cla.clusterName}: locality unset`);
        assert.ok((l.loadBalancingWeight ?? 0) > 0, `${cla.clusterName}: weight ${String(l.loadBalancingWeight)}`);
      }
    }
  });

  it('gives every EDS cluster a load assignment and nothing else one', () => {
    const eds = res.clusters.filter((c) => c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS).map((c) => c.name);
    assert.deepEqual(
      res.endpoints.map((e) => e.clusterName),
      eds,
    );
  });
});
