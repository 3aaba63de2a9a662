// Scenario tests for the DestinationRule analyzers: destinationrule.CaCertificateAnalyzer (IST0128,
// IST0129) and destinationrule.SubsetSelectPodAnalyzer (IST0173, IST0174), modelled on Istio's analyzer
// testdata destinationrule-*.yaml (our own fixtures), each with similar configuration that stays quiet.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeLines } from '../../../test/support/analyze.js';
import { DEPLOYMENT } from '../../api/core/deployment.js';
import { POD } from '../../api/core/pod.js';
import { SERVICE } from '../../api/core/service.js';
import type { AnyKind } from '../../api/kind.js';
import { DESTINATION_RULE } from '../../api/networking/destination-rule.js';
import { SERVICE_ENTRY } from '../../api/networking/service-entry.js';
import { caCertificateAnalyzer, subsetSelectPodAnalyzer } from './destination-rule.js';

const KINDS: readonly AnyKind[] = [POD, DEPLOYMENT, SERVICE, SERVICE_ENTRY, DESTINATION_RULE];

const TLS = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: payments
  namespace: shop
spec:
  host: api.payments.example
  trafficPolicy:
    tls:
      mode: SIMPLE
      sni: api.payments.example
    portLevelSettings:
    - port: {number: 8443}
      tls:
        mode: MUTUAL
        clientCertificate: /etc/certs/client.pem
        privateKey: /etc/certs/key.pem
    - port: {number: 9443}
      tls:
        mode: DISABLE
`;

describe('destinationrule.CaCertificateAnalyzer scenarios', () => {
  const run = (yaml: string): string[] => analyzeLines(yaml, KINDS, [caCertificateAnalyzer]);

  it('reports SIMPLE at destination level and MUTUAL at port level without caCertificates', () => {
    assert.deepEqual(run(TLS), [
      'Warning [IST0128] (DestinationRule shop/payments test.yaml:10) DestinationRule shop/payments in namespace shop has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: api.payments.example',
      'Warning [IST0129] (DestinationRule shop/payments test.yaml:15) DestinationRule shop/payments in namespace shop has TLS mode set to MUTUAL but no caCertificates are set to validate server identity for host: api.payments.example at port number:8443',
    ]);
  });

  it('stays quiet with caCertificates at both levels', () => {
    const yaml = TLS.replace('      sni: api.payments.example\n', '      sni: api.payments.example\n      caCertificates: /etc/certs/ca.pem\n').replace(
      '        privateKey: /etc/certs/key.pem\n',
      '        privateKey: /etc/certs/key.pem\n        caCertificates: /etc/certs/ca.pem\n',
    );
    assert.deepEqual(run(yaml), []);
  });

  it('accepts credentialName in place of caCertificates only with a workload selector', () => {
    const cred = TLS.replace('      sni: api.payments.example\n', '      sni: api.payments.example\n      credentialName: payments-ca\n');
    assert.deepEqual(run(cred), [
      'Warning [IST0128] (DestinationRule shop/payments test.yaml:10) DestinationRule shop/payments in namespace shop has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: api.payments.example',
      'Warning [IST0129] (DestinationRule shop/payments test.yaml:16) DestinationRule shop/payments in namespace shop has TLS mode set to MUTUAL but no caCertificates are set to validate server identity for host: api.payments.example at port number:8443',
    ]);
    const selected = cred
      .replace('  host: api.payments.example\n', '  host: api.payments.example\n  workloadSelector:\n    matchLabels: {app: checkout}\n')
      .replace('        privateKey: /etc/certs/key.pem\n', '        privateKey: /etc/certs/key.pem\n        credentialName: payments-client\n');
    assert.deepEqual(run(selected), []);
  });
});

const WORKLOADS = `apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: bookinfo
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews-v1
  namespace: bookinfo
spec:
  selector:
    matchLabels: {app: reviews, version: v1}
  template:
    metadata:
      labels: {app: reviews, version: v1}
    spec:
      containers: [{name: reviews, image: example/reviews:v1}]
---
apiVersion: v1
kind: Pod
metadata:
  name: reviews-v2-5d8f
  namespace: bookinfo
  labels: {app: reviews, version: v2}
spec:
  containers: [{name: reviews, image: example/reviews:v2}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: legacy-vms
  namespace: bookinfo
spec:
  hosts: [legacy.bookinfo.internal]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector:
    labels: {app: legacy}
---
`;

const SUBSETS = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews.bookinfo.svc.cluster.local
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
  - name: v3
    labels: {version: v3}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: legacy
  namespace: bookinfo
spec:
  host: legacy.bookinfo.internal
  subsets:
  - name: v2
    labels: {version: v2}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ratings
  namespace: bookinfo
spec:
  host: ratings
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
`;

describe('destinationrule.SubsetSelectPodAnalyzer scenarios', () => {
  const run = (yaml: string): string[] => analyzeLines(yaml, KINDS, [subsetSelectPodAnalyzer]);

  it('reports subsets selecting no workload (with a ServiceEntry selector merged in) and hosts with no service', () => {
    assert.deepEqual(run(WORKLOADS + SUBSETS), [
      // v2 pods exist, but not with the ServiceEntry's app=legacy label.
      'Error [IST0173] (DestinationRule bookinfo/legacy test.yaml:68) The Subset v2 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).',
      'Error [IST0173] (DestinationRule bookinfo/reviews test.yaml:57) The Subset v3 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).',
      'Warning [IST0174] (DestinationRule bookinfo/ratings test.yaml:77) The host ratings defined in the DestinationRule does not match any services in the mesh.',
    ]);
  });

  it('stays quiet when every host resolves and every subset selects a workload', () => {
    const fixed = SUBSETS.replace('  - name: v3\n    labels: {version: v3}\n', '')
      .replace('  host: legacy.bookinfo.internal\n  subsets:\n  - name: v2\n    labels: {version: v2}\n', '  host: legacy.bookinfo.internal\n')
      .replace('  host: ratings\n', '  host: reviews\n');
    assert.deepEqual(run(WORKLOADS + fixed), []);
  });

  it('checks hosts but not subsets when no workloads are loaded', () => {
    const servicesOnly = WORKLOADS.split('---\n').filter((d) => !d.includes('kind: Deployment') && !d.includes('kind: Pod')).join('---\n');
    assert.deepEqual(
      run(servicesOnly + SUBSETS).map((l) => l.replace(/test\.yaml:\d+/, 'test.yaml')),
      ['Warning [IST0174] (DestinationRule bookinfo/ratings test.yaml) The host ratings defined in the DestinationRule does not match any services in the mesh.'],
    );
  });
});
