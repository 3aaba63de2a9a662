// Sidecar inbound clusters: one per workload port of the services the proxy's workload serves, to the
// application on localhost; or, with Sidecar ingress listeners, one per listener to its defaultEndpoint.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { Cluster_DiscoveryType, type Cluster } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { clusterJson, clusterNamed, httpOptions, podYaml, threshold, translateYaml } from './support.js';

const POD = podYaml({ name: 'web-0', ip: '10.0.0.5', labels: { app: 'web' }, ports: { 'http-web': 8080 } });
const PROXY = { ip: '10.0.0.5', name: 'web-0', labels: { app: 'web', 'security.istio.io/tlsMode': 'istio' } };

const SERVICES = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http-web}
  - {name: grpc-admin, port: 9090}
  - {name: metrics, port: 9102}
---
apiVersion: v1
kind: Service
metadata: {name: webx, namespace: default}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 8000, targetPort: 8080}
---
${POD}`;

function target(c: Cluster): string {
  const h = c.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
  const a = h?.case === 'endpoint' ? h.value.address?.address : undefined;
  if (a?.case === 'socketAddress') return `${a.value.address}:${String(a.value.portSpecifier.value)}`;
  if (a?.case === 'pipe') return a.value.path;
  return '';
}

describe('inbound clusters from service targets', () => {
  const res = translateYaml(
    `${SERVICES}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: default}
spec:
  host: web
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 7}}
    outlierDetection: {consecutive5xxErrors: 1}`,
    PROXY,
  );

  it('matches the golden', () => {
    assertGolden('cluster/inbound', ['inbound|8080||', 'inbound|9090||', 'inbound|9102||'].map((n) => clusterJson(res, n)));
  });

  it('has one cluster per workload port, named after the target port, to 127.0.0.1', () => {
    const inbound = res.clusters.filter((c) => c.name.startsWith('inbound|'));
    assert.deepEqual(
      inbound.map((c) => [c.name, target(c)]),
      [
        ['inbound|8080||', '127.0.0.1:8080'],
        ['inbound|9090||', '127.0.0.1:9090'],
        ['inbound|9102||', '127.0.0.1:9102'],
      ],
    );
    assert.ok(inbound.every((c) => c.clusterDiscoveryType.value === Cluster_DiscoveryType.STATIC));
  });

  it('applies the DestinationRule’s connection pool but not its outlier detection (server side capacity only)', () => {
    const c = clusterNamed(res, 'inbound|8080||');
    assert.equal(threshold(c).maxConnections, 7);
    assert.equal(c.outlierDetection, undefined);
    assert.equal(c.transportSocket, undefined);
  });

  it('speaks HTTP/2 to gRPC ports and mirrors the client on ports of unknown protocol', () => {
    const grpc = httpOptions(clusterNamed(res, 'inbound|9090||'))?.upstreamProtocolOptions;
    assert.equal(grpc?.case === 'explicitHttpConfig' ? grpc.value.protocolConfig.case : undefined, 'http2ProtocolOptions');
    assert.equal(httpOptions(clusterNamed(res, 'inbound|9102||'))?.upstreamProtocolOptions.case, 'useDownstreamProtocolConfig');
  });

  it('lists in telemetry metadata only the services on the first target’s service port (webx serves 8080 as port 8000)', () => {
    assert.deepEqual(clusterNamed(res, 'inbound|8080||').metadata?.filterMetadata['istio']?.['services'], [
      { host: 'web.default.svc.cluster.local', name: 'web', namespace: 'default' },
    ]);
  });

  it('adds the inbound passthrough cluster bound to 127.0.0.6', () => {
    const c = clusterNamed(res, 'InboundPassthroughClusterIpv4');
    assert.equal(c.clusterDiscoveryType.value, Cluster_DiscoveryType.ORIGINAL_DST);
    assert.equal(c.upstreamBindConfig?.sourceAddress?.address, '127.0.0.6');
  });
});

describe('inbound clusters from Sidecar ingress listeners', () => {
  const res = translateYaml(
    `${SERVICES}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: web, namespace: default}
spec:
  workloadSelector: {labels: {app: web}}
  inboundConnectionPool: {http: {http1MaxPendingRequests: 3}}
  ingress:
  - port: {number: 8080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:18080
    connectionPool: {http: {http1MaxPendingRequests: 11}}
  - port: {number: 7000, protocol: TCP, name: tcp}
    defaultEndpoint: 0.0.0.0:7001
  - port: {number: 7100, protocol: TCP, name: uds}
    defaultEndpoint: unix:///var/run/app.sock
  - port: {number: 7200, protocol: TCP, name: orig}`,
    PROXY,
  );

  it('replaces the service-target clusters with one per ingress listener', () => {
    const inbound = res.clusters.filter((c) => c.name.startsWith('inbound|'));
    assert.deepEqual(
      inbound.map((c) => [c.name, Cluster_DiscoveryType[c.clusterDiscoveryType.value as Cluster_DiscoveryType], target(c)]),
      [
        ['inbound|7000||', 'STATIC', '10.0.0.5:7001'],
        ['inbound|7100||', 'STATIC', '/var/run/app.sock'],
        ['inbound|7200||', 'ORIGINAL_DST', ''],
        ['inbound|8080||', 'STATIC', '127.0.0.1:18080'],
      ],
    );
  });

  it('binds traffic to the pod IP to 127.0.0.6 so it is not captured again', () => {
    assert.equal(clusterNamed(res, 'inbound|7000||').upstreamBindConfig?.sourceAddress?.address, '127.0.0.6');
    assert.equal(clusterNamed(res, 'inbound|8080||').upstreamBindConfig, undefined);
  });

  it('uses the listener’s connection pool, else the Sidecar’s inboundConnectionPool', () => {
    assert.equal(threshold(clusterNamed(res, 'inbound|8080||')).maxPendingRequests, 11);
    assert.equal(threshold(clusterNamed(res, 'inbound|7000||')).maxPendingRequests, 3);
  });
});
