// Upstream TLS per DestinationRule tls mode and auto mTLS: what each cluster originates, with which
// certificates, SNI and SAN checks (Istio's cluster_tls.go).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { Cluster_DiscoveryType } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { UpstreamTlsContext } from '../../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { clusterJson, clusterNamed, httpOptions, podYaml, serviceYaml, translateYaml, upstreamTls } from './support.js';

const HOST = 'reviews.default.svc.cluster.local';
const C = (subset = '') => `outbound|9080|${subset}|${HOST}`;

const BASE = [
  serviceYaml('reviews', [{ name: 'http', port: 9080 }]),
  podYaml({ name: 'reviews-v1', ip: '10.0.0.1', labels: { app: 'reviews', version: 'v1' }, serviceAccount: 'bookinfo-reviews' }),
].join('\n---\n');

const RULE = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - name: disable
    labels: {version: v1}
    trafficPolicy: {tls: {mode: DISABLE}}
  - name: simple
    labels: {version: v1}
    trafficPolicy: {tls: {mode: SIMPLE, sni: reviews.example.com, caCertificates: /etc/certs/ca.pem, subjectAltNames: [reviews.example.com]}}
  - name: simple-auto
    labels: {version: v1}
    trafficPolicy: {tls: {mode: SIMPLE}}
  - name: mutual
    labels: {version: v1}
    trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /etc/certs/cert.pem, privateKey: /etc/certs/key.pem}}
  - name: istio-mutual
    labels: {version: v1}
    trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  - name: credential
    labels: {version: v1}
    trafficPolicy: {tls: {mode: MUTUAL, credentialName: reviews-client}}`;

function sdsNames(tls: UpstreamTlsContext | undefined): { cert: string[]; root: string | undefined } {
  const common = tls?.commonTlsContext;
  const v = common?.validationContextType;
  return {
    cert: (common?.tlsCertificateSdsSecretConfigs ?? []).map((s) => s.name),
    root: v?.case === 'combinedValidationContext' ? v.value.validationContextSdsSecretConfig?.name : undefined,
  };
}

function sans(tls: UpstreamTlsContext | undefined): unknown[] {
  const v = tls?.commonTlsContext?.validationContextType;
  return v?.case === 'combinedValidationContext' ? (v.value.defaultValidationContext?.matchSubjectAltNames ?? []).map((m) => m.matchPattern.value) : [];
}

describe('DestinationRule tls modes (sidecar)', () => {
  const res = translateYaml(`${BASE}\n---\n${RULE}`, { ip: '10.9.9.9', name: 'client' });

  it('matches the golden', () => {
    assertGolden('cluster/tls-modes', ['disable', 'simple', 'simple-auto', 'mutual', 'istio-mutual', 'credential'].map((s) => clusterJson(res, C(s))));
  });

  it('DISABLE sends plain text, even though auto mTLS would have chosen mTLS', () => {
    const c = clusterNamed(res, C('disable'));
    assert.equal(c.transportSocket, undefined);
    assert.deepEqual(c.transportSocketMatches, []);
    assert.ok(clusterNamed(res, C()).transportSocketMatches.length > 0, 'the default cluster uses auto mTLS');
  });

  it('SIMPLE verifies the given CA and SANs with the given SNI and keeps the app ALPN', () => {
    const c = clusterNamed(res, C('simple'));
    const tls = upstreamTls(c);
    assert.equal(tls?.sni, 'reviews.example.com');
    assert.deepEqual(sdsNames(tls), { cert: [], root: 'file-root:/etc/certs/ca.pem' });
    assert.deepEqual(sans(tls), ['reviews.example.com']);
    assert.equal(c.metadata?.filterMetadata['istio']?.['alpn_override'], 'false');
    assert.equal(httpOptions(c), undefined, 'no auto SNI when the rule names one');
  });

  it('SIMPLE without SNI or SANs derives both from the request host and trusts the system CAs', () => {
    const c = clusterNamed(res, C('simple-auto'));
    assert.equal(upstreamTls(c)?.sni, '');
    assert.deepEqual(sdsNames(upstreamTls(c)), { cert: [], root: 'file-root:system' });
    const up = httpOptions(c)?.upstreamHttpProtocolOptions;
    assert.equal(up?.autoSni, true);
    assert.equal(up?.autoSanValidation, true);
  });

  it('MUTUAL presents the rule’s certificate files through SDS', () => {
    assert.deepEqual(sdsNames(upstreamTls(clusterNamed(res, C('mutual')))), { cert: ['file-cert:/etc/certs/cert.pem~/etc/certs/key.pem'], root: 'file-root:system' });
  });

  it('ISTIO_MUTUAL uses the workload certificate, the cluster SNI and the destination’s service accounts, on every endpoint', () => {
    const c = clusterNamed(res, C('istio-mutual'));
    assert.deepEqual(c.transportSocketMatches, [], 'an explicit mode is not limited to sidecar endpoints');
    const tls = upstreamTls(c);
    assert.equal(tls?.sni, `outbound_.9080_.istio-mutual_.${HOST}`);
    assert.deepEqual(sdsNames(tls), { cert: ['default'], root: 'ROOTCA' });
    assert.deepEqual(sans(tls), ['spiffe://cluster.local/ns/default/sa/bookinfo-reviews']);
    assert.deepEqual(tls?.commonTlsContext?.alpnProtocols, ['istio-peer-exchange', 'istio']);
  });

  it('ignores credentialName on sidecars when the rule selects no workloads (Istio does not hand secrets to every sidecar)', () => {
    const c = clusterNamed(res, C('credential'));
    assert.equal(c.transportSocket, undefined);
    assert.deepEqual(c.transportSocketMatches, []);
  });
});

describe('credentialName on a gateway', () => {
  const res = translateYaml(`${BASE}\n---\n${RULE}`, { type: 'router', ip: '10.9.9.8', name: 'ingress', namespace: 'default' });

  it('fetches the client certificate and CA bundle named by credentialName over ADS', () => {
    assert.deepEqual(sdsNames(upstreamTls(clusterNamed(res, C('credential')))), { cert: ['kubernetes://reviews-client'], root: 'kubernetes://reviews-client-cacert' });
  });
});

describe('auto mTLS', () => {
  it('is not used for mesh-external services', () => {
    const se = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin.org]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]`;
    const c = clusterNamed(translateYaml(se, { ip: '10.9.9.9' }), 'outbound|80||httpbin.org');
    assert.equal(c.transportSocket, undefined);
    assert.deepEqual(c.transportSocketMatches, []);
    assert.equal(c.metadata?.filterMetadata['istio']?.['external'], true);
  });

  it('on a headless service uses mTLS as a plain transport socket when every endpoint has a sidecar, and none otherwise', () => {
    const headless = (sidecar: boolean) => `apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec: {clusterIP: None, selector: {app: db}, ports: [{name: tcp, port: 5432}]}
---
${podYaml({ name: 'db-0', ip: '10.0.0.7', labels: { app: 'db' }, sidecar })}`;
    const meshed = clusterNamed(translateYaml(headless(true), { ip: '10.9.9.9' }), 'outbound|5432||db.default.svc.cluster.local');
    assert.equal(meshed.clusterDiscoveryType.value, Cluster_DiscoveryType.ORIGINAL_DST);
    assert.equal(upstreamTls(meshed)?.sni, 'outbound_.5432_._.db.default.svc.cluster.local');
    assert.deepEqual(meshed.transportSocketMatches, []);
    const plain = clusterNamed(translateYaml(headless(false), { ip: '10.9.9.9' }), 'outbound|5432||db.default.svc.cluster.local');
    assert.equal(plain.transportSocket, undefined);
  });

  it('can be turned off mesh-wide', () => {
    const c = clusterNamed(translateYaml(BASE, { ip: '10.9.9.9' }, { enableAutoMtls: false }), C());
    assert.equal(c.transportSocket, undefined);
    assert.deepEqual(c.transportSocketMatches, []);
  });
});
