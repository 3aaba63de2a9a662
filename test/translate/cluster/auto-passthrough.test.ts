// SNI-DNAT clusters for AUTO_PASSTHROUGH gateways (Istio's buildOutboundSniDnatClusters): the clusters the
// gateway's `outbound_.<port>_.<subset>_.<host>` filter chains route to exist in CDS, have the outbound
// cluster's settings without TLS origination, and read the outbound cluster's endpoints.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonValue } from '@bufbuild/protobuf';
import { Cluster_DiscoveryType, type Cluster } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { assertGolden, dumpResources } from '../../support/golden.js';
import { expectRoute } from '../../support/simulate.js';
import { bookinfoYaml, clusterNamed, loadAssignmentFor, threshold, translateYaml, upstreamTls } from './support.js';

const GW = { type: 'router', name: 'istio-eastwestgateway-0', namespace: 'istio-system', ip: '10.1.0.250', labels: { istio: 'eastwestgateway' } } as const;
const REVIEWS = 'reviews.default.svc.cluster.local';

function gateway(mode: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: cross-network-gateway, namespace: istio-system}
spec:
  selector: {istio: eastwestgateway}
  servers:
  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ["*.local"]
    tls: {mode: ${mode}}
`;
}

// An in-mesh DNS ServiceEntry with its own rule (TLS origination and a connection pool), an external one,
// and a UDP port: the SNI-DNAT clusters take the pool but never the TLS, and skip the other two.
const EXTRA = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: default}
spec:
  hosts: [db.internal.local]
  location: MESH_INTERNAL
  resolution: DNS
  ports: [{number: 5432, name: tcp-postgres, protocol: TCP}, {number: 5353, name: udp-dns, protocol: UDP}]
  endpoints: [{address: 10.2.0.1, labels: {role: primary}}, {address: 10.2.0.2, labels: {role: replica}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: default}
spec:
  host: db.internal.local
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 7}}
    tls: {mode: SIMPLE, sni: db.internal.local}
  subsets: [{name: primary, labels: {role: primary}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external, namespace: default}
spec:
  hosts: [api.external.local]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
`;

const YAML = [bookinfoYaml(), EXTRA, gateway('AUTO_PASSTHROUGH')].join('\n---\n');

const isSniDnat = (c: Cluster): boolean => c.name.startsWith('outbound_.');

describe('AUTO_PASSTHROUGH: SNI-DNAT clusters', () => {
  const res = translateYaml(YAML, GW);
  const sniDnat = res.clusters.filter(isSniDnat);

  it('golden: the reviews and db clusters', () => {
    const dump = dumpResources(res).clusters.filter((_c, i) => {
      const name = res.clusters[i]?.name ?? '';
      return isSniDnat(res.clusters[i] as Cluster) && (name.endsWith(REVIEWS) || name.endsWith('db.internal.local'));
    }) satisfies JsonValue[];
    assertGolden('cluster/auto-passthrough', dump);
  });

  it('an Istio mTLS connection with SNI outbound_.9080_._.reviews reaches a cluster that exists in CDS', () => {
    expectRoute(res, { port: 15443, protocol: 'tls', tls: 'mtls', sni: `outbound_.9080_._.${REVIEWS}`, callMode: 'gateway' }, { tcpCluster: `outbound_.9080_._.${REVIEWS}` });
  });

  it('every subset SNI the listener accepts has its cluster', () => {
    for (const v of ['v1', 'v2', 'v3']) {
      expectRoute(res, { port: 15443, protocol: 'tls', tls: 'mtls', sni: `outbound_.9080_.${v}_.${REVIEWS}`, callMode: 'gateway' }, { tcpCluster: `outbound_.9080_.${v}_.${REVIEWS}` });
    }
  });

  it('each listener chain routes to a cluster in CDS', () => {
    const names = new Set(res.clusters.map((c) => c.name));
    const l = res.listeners.find((x) => x.name === '0.0.0.0_15443');
    assert.ok(l);
    for (const fc of l.filterChains) for (const sni of fc.filterChainMatch?.serverNames ?? []) assert.ok(names.has(sni), `chain for ${sni} has no cluster`);
    assert.ok(l.filterChains.length > 10);
  });

  it('EDS clusters read the outbound cluster`s assignment: all reviews pods, or the subset`s', () => {
    const eds = (name: string): string => clusterNamed(res, name).edsClusterConfig?.serviceName ?? '';
    assert.equal(eds(`outbound_.9080_._.${REVIEWS}`), `outbound|9080||${REVIEWS}`);
    assert.equal(eds(`outbound_.9080_.v2_.${REVIEWS}`), `outbound|9080|v2|${REVIEWS}`);
    const ips = (name: string): string[] =>
      loadAssignmentFor(res, name).endpoints.flatMap((l) => l.lbEndpoints.map((e) => (e.hostIdentifier.case === 'endpoint' && e.hostIdentifier.value.address?.address.case === 'socketAddress' ? e.hostIdentifier.value.address.address.value.address : ''))).sort();
    assert.deepEqual(ips(`outbound|9080||${REVIEWS}`), ['10.1.0.31', '10.1.0.32', '10.1.0.33']);
    assert.deepEqual(ips(`outbound|9080|v2|${REVIEWS}`), ['10.1.0.32']);
  });

  it('passes the client`s TLS through: no TLS origination, where the outbound twin has auto mTLS', () => {
    assert.ok(upstreamTls(clusterNamed(res, `outbound|9080||${REVIEWS}`)), 'the outbound twin originates mTLS');
    for (const c of sniDnat) {
      assert.equal(c.transportSocket, undefined, c.name);
      assert.deepEqual(c.transportSocketMatches, [], c.name);
    }
  });

  it('keeps the rule`s connection pool and the DNS resolution with inline endpoints, drops its TLS', () => {
    const db = clusterNamed(res, 'outbound_.5432_._.db.internal.local');
    assert.equal(db.clusterDiscoveryType.case === 'type' ? db.clusterDiscoveryType.value : undefined, Cluster_DiscoveryType.STRICT_DNS);
    assert.equal(threshold(db).maxConnections, 7);
    assert.ok(upstreamTls(clusterNamed(res, 'outbound|5432||db.internal.local')), 'the outbound twin originates TLS');
    assert.equal(db.transportSocket, undefined);
    const primary = clusterNamed(res, 'outbound_.5432_.primary_.db.internal.local');
    assert.equal(primary.loadAssignment?.endpoints.flatMap((l) => l.lbEndpoints).length, 1);
  });

  it('skips mesh-external services and UDP ports', () => {
    assert.deepEqual(sniDnat.filter((c) => c.name.includes('api.external.local') || c.name.includes('_.5353_.')).map((c) => c.name), []);
  });

  it('no AUTO_PASSTHROUGH server, no SNI-DNAT clusters', () => {
    const plain = translateYaml([bookinfoYaml(), EXTRA, gateway('PASSTHROUGH')].join('\n---\n'), GW);
    assert.deepEqual(plain.clusters.filter(isSniDnat).map((c) => c.name), []);
  });
});
