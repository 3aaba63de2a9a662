// ServiceEntry resolutions: which cluster type each becomes and where its endpoints come from (inline for
// DNS, EDS for STATIC, the original destination for NONE), for a sidecar and for a gateway.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { Cluster_DiscoveryType, Cluster_DnsLookupFamily, Cluster_LbPolicy } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { LocalityLbEndpoints } from '../../../src/xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { clusterJson, clusterNamed, loadAssignmentFor, loadAssignmentJson, translateYaml } from './support.js';

const ENTRIES = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: default}
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mirrors, namespace: default}
spec:
  hosts: [mirror.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints:
  - {address: eu.mirror.example.com, locality: eu-west/a, weight: 3}
  - {address: us.mirror.example.com, locality: us-east/b}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rr, namespace: default}
spec:
  hosts: [rr.example.com]
  location: MESH_EXTERNAL
  resolution: DNS_ROUND_ROBIN
  ports: [{number: 80, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vms, namespace: default}
spec:
  hosts: [vm.internal]
  addresses: [240.0.0.10]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 3306, name: tcp, protocol: TCP}]
  endpoints:
  - {address: 10.2.0.2, labels: {security.istio.io/tlsMode: istio}, weight: 2}
  - {address: 10.2.0.1}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wiki, namespace: default}
spec:
  hosts: ["*.wikipedia.org"]
  location: MESH_EXTERNAL
  resolution: NONE
  ports: [{number: 443, name: tls, protocol: TLS}]`;

const sidecar = translateYaml(ENTRIES, { ip: '10.9.9.9' });
const gateway = translateYaml(ENTRIES, { type: 'router', ip: '10.9.9.8', name: 'egress' });

function addresses(eps: readonly LocalityLbEndpoints[]): string[] {
  return eps.flatMap((l) =>
    l.lbEndpoints.map((e) => {
      const a = e.hostIdentifier.case === 'endpoint' ? e.hostIdentifier.value.address?.address : undefined;
      return a?.case === 'socketAddress' ? `${a.value.address}:${String(a.value.portSpecifier.value)}` : '?';
    }),
  );
}

describe('ServiceEntry clusters', () => {
  it('matches the golden', () => {
    assertGolden('cluster/service-entries', {
      sidecar: ['outbound|443||api.example.com', 'outbound|80||mirror.example.com', 'outbound|80||rr.example.com', 'outbound|3306||vm.internal', 'outbound|443||*.wikipedia.org'].map((n) =>
        clusterJson(sidecar, n),
      ),
      sidecarEndpoints: [loadAssignmentJson(sidecar, 'outbound|3306||vm.internal')],
      gateway: [clusterJson(gateway, 'outbound|443||*.wikipedia.org')],
    });
  });

  it('DNS resolves the host itself, inline (STRICT_DNS), when the entry lists no endpoints', () => {
    const c = clusterNamed(sidecar, 'outbound|443||api.example.com');
    assert.equal(c.clusterDiscoveryType.value, Cluster_DiscoveryType.STRICT_DNS);
    assert.equal(c.dnsLookupFamily, Cluster_DnsLookupFamily.V4_ONLY);
    assert.equal(c.respectDnsTtl, true);
    assert.deepEqual(addresses(c.loadAssignment?.endpoints ?? []), ['api.example.com:443']);
    assert.ok(!sidecar.endpoints.some((e) => e.clusterName === c.name), 'no EDS for DNS clusters');
  });

  it('DNS endpoints are grouped by locality and weighted', () => {
    const eps = clusterNamed(sidecar, 'outbound|80||mirror.example.com').loadAssignment?.endpoints ?? [];
    assert.deepEqual(
      eps.map((l) => [l.locality?.region, l.locality?.zone, l.loadBalancingWeight]),
      [
        ['eu-west', 'a', 3],
        ['us-east', 'b', 1],
      ],
    );
  });

  it('DNS_ROUND_ROBIN becomes LOGICAL_DNS', () => {
    assert.equal(clusterNamed(sidecar, 'outbound|80||rr.example.com').clusterDiscoveryType.value, Cluster_DiscoveryType.LOGICAL_DNS);
  });

  it('STATIC is served over EDS with the entry’s endpoints and weights', () => {
    const c = clusterNamed(sidecar, 'outbound|3306||vm.internal');
    assert.equal(c.clusterDiscoveryType.value, Cluster_DiscoveryType.EDS);
    const cla = loadAssignmentFor(sidecar, 'outbound|3306||vm.internal');
    assert.deepEqual(addresses(cla.endpoints), ['10.2.0.1:3306', '10.2.0.2:3306']);
    assert.deepEqual(
      cla.endpoints[0]?.lbEndpoints.map((e) => e.loadBalancingWeight),
      [1, 2],
    );
    assert.equal(cla.endpoints[0]?.loadBalancingWeight, 3);
  });

  it('NONE forwards to the original destination on sidecars, and uses EDS on gateways which have none', () => {
    const s = clusterNamed(sidecar, 'outbound|443||*.wikipedia.org');
    assert.equal(s.clusterDiscoveryType.value, Cluster_DiscoveryType.ORIGINAL_DST);
    assert.equal(s.lbPolicy, Cluster_LbPolicy.CLUSTER_PROVIDED);
    const g = clusterNamed(gateway, 'outbound|443||*.wikipedia.org');
    assert.equal(g.clusterDiscoveryType.value, Cluster_DiscoveryType.EDS);
    assert.deepEqual(loadAssignmentFor(gateway, g.name).endpoints, []);
  });

  it('gateways get BlackHoleCluster but no passthrough or inbound clusters', () => {
    const names = gateway.clusters.map((c) => c.name);
    assert.ok(names.includes('BlackHoleCluster'));
    assert.ok(!names.some((n) => n.startsWith('inbound|') || n.includes('Passthrough')), names.join(', '));
  });
});
