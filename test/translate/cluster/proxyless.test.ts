// Clusters and endpoints for proxyless gRPC clients (Istio's grpcgen): bare EDS clusters with only what gRPC
// implements, checked against the resource validation of @grpc/grpc-js-xds itself (a client we did not
// write), so a golden that a real client would NACK cannot pass.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { toBinary } from '@bufbuild/protobuf';
import { assertGolden, dumpResources } from '../../support/golden.js';
import { Cluster_DiscoveryType, Cluster_LbPolicy, ClusterSchema } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../../src/xds/type-urls.js';
import { clusterNamed, loadAssignmentFor, podYaml, serviceYaml, threshold, translateYaml, upstreamTls } from './support.js';

interface Decoded {
  readonly name: string;
  readonly error?: string;
}
interface ResourceType {
  decode(context: unknown, resource: { type_url: string; value: Uint8Array }): Decoded;
}
const require = createRequire(import.meta.url);
const { ClusterResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type.js') as { ClusterResourceType: { get(): ResourceType } };
const { EndpointResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js') as { EndpointResourceType: { get(): ResourceType } };
/** What grpc-js-xds consults while validating: the bootstrap's certificate providers. */
const CONTEXT = { bootstrap: { certificateProviders: { default: { plugin_name: 'file_watcher', config: {} } } }, server: {} };

const HOST = 'echo.default.svc.cluster.local';
const YAML = [
  serviceYaml('echo', [{ name: 'grpc', port: 7070 }]),
  podYaml({ name: 'echo-v1', ip: '10.0.0.1', labels: { app: 'echo', version: 'v1', 'topology.kubernetes.io/region': 'r1' }, serviceAccount: 'echo' }),
  podYaml({ name: 'echo-v2', ip: '10.0.0.2', labels: { app: 'echo', version: 'v2', 'topology.kubernetes.io/region': 'r2' }, serviceAccount: 'echo' }),
  `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: default}
spec:
  host: echo
  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
    outlierDetection: {consecutive5xxErrors: 3}
    connectionPool: {http: {http2MaxRequests: 40, maxRetries: 3}}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 4096}}}}`,
].join('\n---\n');

describe('proxyless gRPC clusters', () => {
  const res = translateYaml(YAML, { type: 'proxyless', ip: '10.9.9.9', name: 'client', locality: { region: 'r1' } });

  it('matches the golden', () => {
    const d = dumpResources(res, { envoy: false });
    assertGolden('cluster/proxyless', { clusters: d.clusters, endpoints: d.endpoints });
  });

  it('has only EDS outbound clusters: no passthrough, blackhole or inbound clusters', () => {
    assert.deepEqual(
      res.clusters.map((c) => c.name),
      [`outbound|7070|v1|${HOST}`, `outbound|7070|v2|${HOST}`, `outbound|7070||${HOST}`],
    );
    assert.ok(res.clusters.every((c) => c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS));
  });

  it('applies only what gRPC implements: max_requests, ring hash, ISTIO_MUTUAL through the certificate provider', () => {
    const t = threshold(clusterNamed(res, `outbound|7070||${HOST}`));
    assert.equal(t.maxRequests, 40);
    assert.equal(t.maxRetries, undefined, 'no Istio defaults gRPC would misread');
    assert.equal(clusterNamed(res, `outbound|7070||${HOST}`).outlierDetection, undefined);
    const v2 = clusterNamed(res, `outbound|7070|v2|${HOST}`);
    assert.equal(v2.lbPolicy, Cluster_LbPolicy.RING_HASH);
    const tls = upstreamTls(v2)?.commonTlsContext;
    assert.equal(tls?.tlsCertificateProviderInstance?.instanceName, 'default');
    assert.equal(tls?.tlsParams, undefined, 'grpc-js-xds rejects tls_params');
    const v = tls?.validationContextType;
    assert.equal(v?.case === 'combinedValidationContext' ? v.value.defaultValidationContext?.caCertificateProviderInstance?.certificateName : undefined, 'ROOTCA');
  });

  it('orders localities by proximity to the client (outlier detection enables failover)', () => {
    const eps = loadAssignmentFor(res, `outbound|7070||${HOST}`).endpoints;
    assert.deepEqual(
      eps.map((l) => [l.locality?.region, l.priority]),
      [
        ['r1', 0],
        ['r2', 1],
      ],
    );
  });

  it('is accepted by grpc-js-xds’s own CDS and EDS validation', () => {
    for (const c of res.clusters) {
      const r = ClusterResourceType.get().decode(CONTEXT, { type_url: CLUSTER_TYPE, value: toBinary(ClusterSchema, c) });
      assert.equal(r.error, undefined, `${c.name}: ${String(r.error)}`);
    }
    for (const e of res.endpoints) {
      const r = EndpointResourceType.get().decode(CONTEXT, { type_url: ENDPOINT_TYPE, value: toBinary(ClusterLoadAssignmentSchema, e) });
      assert.equal(r.error, undefined, `${e.clusterName}: ${String(r.error)}`);
    }
  });
});
