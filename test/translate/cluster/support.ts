// Test support for the CDS/EDS translation suites: translate inline YAML for one proxy, look resources up by
// name (failing with the names that exist), unpack the Anys tests assert on, and fixtures shared by the
// suites (pods with the labels Istio's injector would set).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { JsonValue } from '@bufbuild/protobuf';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../support/mesh.js';
import { translate } from '../../../src/translate/translate.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../../../src/model/mesh-config.js';
import type { ProxyResources } from '../../../src/translate/resources.js';
import { toDumpJson } from '../../../src/xds/codec.js';
import { ClusterSchema, type Cluster } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { UpstreamTlsContextSchema, type UpstreamTlsContext } from '../../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { HttpProtocolOptionsSchema, type HttpProtocolOptions } from '../../../src/xds/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import type { TransportSocket } from '../../../src/xds/gen/envoy/config/core/v3/base_pb.js';

export function translateYaml(yaml: string, proxy: TestProxyOptions = {}, mesh: Partial<MeshConfig> = {}): ProxyResources {
  return translate(meshFromYaml(yaml, { mesh: { ...DEFAULT_MESH_CONFIG, ...mesh } }).snapshot, testProxy(proxy));
}

/** Mesh settings for suites that look at one policy area: no auto mTLS, so clusters carry only what the rule sets. */
export const NO_AUTO_MTLS: Partial<MeshConfig> = { enableAutoMtls: false };

export function clusterNamed(res: ProxyResources, name: string): Cluster {
  const c = res.clusters.find((x) => x.name === name);
  assert.ok(c, `no cluster ${name}; have ${res.clusters.map((x) => x.name).join(', ')}`);
  return c;
}

export function loadAssignmentFor(res: ProxyResources, name: string): ClusterLoadAssignment {
  const c = res.endpoints.find((x) => x.clusterName === name);
  assert.ok(c, `no load assignment ${name}; have ${res.endpoints.map((x) => x.clusterName).join(', ')}`);
  return c;
}

export function clusterJson(res: ProxyResources, name: string): JsonValue {
  return toDumpJson(ClusterSchema, clusterNamed(res, name));
}

export function loadAssignmentJson(res: ProxyResources, name: string): JsonValue {
  return toDumpJson(ClusterLoadAssignmentSchema, loadAssignmentFor(res, name));
}

function unpackSocket(ts: TransportSocket | undefined): UpstreamTlsContext | undefined {
  if (ts?.configType.case !== 'typedConfig') return undefined;
  return anyUnpack(ts.configType.value, UpstreamTlsContextSchema);
}

/** The cluster's UpstreamTlsContext: its transport_socket, else the `tlsMode-istio` match. */
export function upstreamTls(c: Cluster): UpstreamTlsContext | undefined {
  return unpackSocket(c.transportSocket) ?? unpackSocket(c.transportSocketMatches.find((m) => m.name === 'tlsMode-istio')?.transportSocket);
}

export function httpOptions(c: Cluster): HttpProtocolOptions | undefined {
  const any = c.typedExtensionProtocolOptions['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  return any === undefined ? undefined : anyUnpack(any, HttpProtocolOptionsSchema);
}

export function threshold(c: Cluster) {
  const t = c.circuitBreakers?.thresholds[0];
  assert.ok(t, `cluster ${c.name} has no circuit breaker thresholds`);
  return t;
}

export interface PodFixture {
  readonly name: string;
  readonly ip: string;
  readonly labels: Record<string, string>;
  readonly namespace?: string;
  readonly serviceAccount?: string;
  /** Adds `security.istio.io/tlsMode: istio` (an injected sidecar); default true. */
  readonly sidecar?: boolean;
  readonly ready?: boolean;
  readonly ports?: Record<string, number>;
}

/** A running Pod as YAML. */
export function podYaml(p: PodFixture): string {
  const labels = { ...p.labels, ...(p.sidecar === false ? {} : { 'security.istio.io/tlsMode': 'istio' }) };
  const ports = Object.entries(p.ports ?? {}).map(([name, port]) => ({ name, containerPort: port }));
  return [
    'apiVersion: v1',
    'kind: Pod',
    `metadata: {name: ${p.name}, namespace: ${p.namespace ?? 'default'}, labels: ${JSON.stringify(labels)}}`,
    `spec: {serviceAccountName: ${p.serviceAccount ?? 'default'}, containers: [{name: app, image: app, ports: ${JSON.stringify(ports)}}]}`,
    `status: {podIP: ${p.ip}, phase: Running, conditions: [{type: Ready, status: "${p.ready === false ? 'False' : 'True'}"}]}`,
  ].join('\n');
}

const CORPUS = '/work/shared/corpus/istio-bookinfo';

/** Istio's Bookinfo sample (Services, ServiceAccounts, Deployments), its destination-rule-all.yaml, and one Pod per Deployment. */
export function bookinfoYaml(): string {
  const pods: PodFixture[] = [
    { name: 'details-v1-0', ip: '10.1.0.10', labels: { app: 'details', version: 'v1' }, serviceAccount: 'bookinfo-details' },
    { name: 'ratings-v1-0', ip: '10.1.0.20', labels: { app: 'ratings', version: 'v1' }, serviceAccount: 'bookinfo-ratings' },
    { name: 'reviews-v1-0', ip: '10.1.0.31', labels: { app: 'reviews', version: 'v1' }, serviceAccount: 'bookinfo-reviews' },
    { name: 'reviews-v2-0', ip: '10.1.0.32', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews' },
    { name: 'reviews-v3-0', ip: '10.1.0.33', labels: { app: 'reviews', version: 'v3' }, serviceAccount: 'bookinfo-reviews' },
    { name: 'productpage-v1-0', ip: '10.1.0.40', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage' },
  ];
  return [
    readFileSync(`${CORPUS}/platform/kube/bookinfo.yaml`, 'utf8'),
    readFileSync(`${CORPUS}/networking/destination-rule-all.yaml`, 'utf8'),
    ...pods.map(podYaml),
  ].join('\n---\n');
}

/** The productpage sidecar of bookinfoYaml(). */
export const PRODUCTPAGE: TestProxyOptions = {
  type: 'sidecar',
  ip: '10.1.0.40',
  name: 'productpage-v1-0',
  namespace: 'default',
  labels: { app: 'productpage', version: 'v1', 'security.istio.io/tlsMode': 'istio' },
  serviceAccount: 'bookinfo-productpage',
};

/** A Service `name` on `ports` selecting `app: name`, as YAML. */
export function serviceYaml(name: string, ports: readonly { name: string; port: number; targetPort?: number }[], namespace = 'default'): string {
  return [
    'apiVersion: v1',
    'kind: Service',
    `metadata: {name: ${name}, namespace: ${namespace}}`,
    `spec: {selector: {app: ${name}}, ports: ${JSON.stringify(ports)}}`,
  ].join('\n');
}
