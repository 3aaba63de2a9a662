// Tests for analyzers that match selectors against workloads (Pods and Deployment pod templates):
// sidecar.SelectorAnalyzer (IST0101/0110/0111), gateway analyzers (IST0101/0145/0162), destination rule
// subsets and hosts (IST0173/0174), authorization policies (IST0101/0127).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeLines } from '../../../test/support/analyze.js';
import { DEPLOYMENT } from '../../api/core/deployment.js';
import { NAMESPACE } from '../../api/core/namespace.js';
import { POD } from '../../api/core/pod.js';
import { SERVICE } from '../../api/core/service.js';
import type { AnyKind } from '../../api/kind.js';
import { DESTINATION_RULE } from '../../api/networking/destination-rule.js';
import { ISTIO_GATEWAY } from '../../api/networking/gateway.js';
import { SERVICE_ENTRY } from '../../api/networking/service-entry.js';
import { SIDECAR } from '../../api/networking/sidecar.js';
import { AUTHORIZATION_POLICY } from '../../api/security/authorization-policy.js';
import { authorizationPoliciesAnalyzer } from './authorization-policy.js';
import { subsetSelectPodAnalyzer } from './destination-rule.js';
import { conflictingGatewayAnalyzer, ingressGatewayPortAnalyzer, secretAnalyzer } from './gateway.js';
import { sidecarSelectorAnalyzer } from './sidecar.js';

const KINDS: readonly AnyKind[] = [POD, DEPLOYMENT, NAMESPACE, SERVICE, SERVICE_ENTRY, SIDECAR, ISTIO_GATEWAY, DESTINATION_RULE, AUTHORIZATION_POLICY];

const deployment = (name: string, ns: string, labels: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  selector:
    matchLabels: ${labels}
  template:
    metadata:
      labels: ${labels}
    spec:
      containers:
      - name: app
        image: example/app:1
---
`;

const pod = (name: string, ns: string, labels: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels: ${labels}
spec:
  containers:
  - name: app
    image: example/app:1
---
`;

const sidecar = (name: string, ns: string, selector?: string): string => `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: ${name}
  namespace: ${ns}
spec:${selector === undefined ? '' : `\n  workloadSelector:\n    labels: ${selector}`}
  egress:
  - hosts: ["./*"]
---
`;

describe('sidecar.SelectorAnalyzer', () => {
  it('reports a selector that matches no workload', () => {
    const yaml = deployment('reviews', 'default', '{app: reviews}') + sidecar('bogus', 'default', '{app: bogus}');
    assert.deepEqual(analyzeLines(yaml, KINDS, [sidecarSelectorAnalyzer]), [
      'Error [IST0101] (Sidecar default/bogus test.yaml:24) Referenced selector not found: "app=bogus"',
    ]);
  });
  it('reports Sidecars selecting the same Deployment pods', () => {
    const yaml = deployment('reviews', 'default', '{app: reviews, version: v1}') + sidecar('a', 'default', '{app: reviews}') + sidecar('b', 'default', '{version: v1}');
    assert.deepEqual(analyzeLines(yaml, KINDS, [sidecarSelectorAnalyzer]), [
      'Error [IST0110] (Sidecar default/a test.yaml:20) The Sidecars [a b] in namespace "default" select the same workload pod "reviews", which can lead to undefined behavior.',
      'Error [IST0110] (Sidecar default/b test.yaml:31) The Sidecars [a b] in namespace "default" select the same workload pod "reviews", which can lead to undefined behavior.',
    ]);
  });
  it('reports several Sidecars without selectors in one namespace', () => {
    const yaml = sidecar('one', 'default') + sidecar('two', 'default') + sidecar('three', 'other');
    assert.deepEqual(analyzeLines(yaml, KINDS, [sidecarSelectorAnalyzer]), [
      'Error [IST0111] (Sidecar default/one test.yaml:1) The Sidecars [one two] in namespace "default" have no workload selector, which can lead to undefined behavior.',
      'Error [IST0111] (Sidecar default/two test.yaml:10) The Sidecars [one two] in namespace "default" have no workload selector, which can lead to undefined behavior.',
    ]);
  });
  it('matches Pods and only in the Sidecar namespace', () => {
    const yaml = pod('ratings-1', 'default', '{app: ratings}') + sidecar('ratings', 'default', '{app: ratings}') + sidecar('elsewhere', 'other', '{app: ratings}');
    assert.deepEqual(analyzeLines(yaml, KINDS, [sidecarSelectorAnalyzer]), [
      'Error [IST0101] (Sidecar other/elsewhere test.yaml:30) Referenced selector not found: "app=ratings"',
    ]);
  });
  it('skips the selector check when no workloads are loaded', () => {
    assert.deepEqual(analyzeLines(sidecar('bogus', 'default', '{app: bogus}'), KINDS, [sidecarSelectorAnalyzer]), []);
  });
});

const gateway = (name: string, selector: string, port: number, hosts: string): string => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: ${name}
  namespace: istio-system
spec:
  selector: ${selector}
  servers:
  - port: {number: ${port}, name: http, protocol: HTTP}
    hosts: ${hosts}
---
`;
const ingress = deployment('istio-ingressgateway', 'istio-system', '{istio: ingressgateway}') + `apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
spec:
  selector: {istio: ingressgateway}
  ports:
  - name: http2
    port: 80
    targetPort: 8080
---
`;

describe('gateway analyzers', () => {
  it('reports gateways with the same selector, port and host', () => {
    const yaml = ingress + gateway('alpha', '{istio: ingressgateway}', 80, '["foo.bar"]') + gateway('beta', '{istio: ingressgateway}', 80, '["foo.bar", "x.y"]');
    assert.deepEqual(analyzeLines(yaml, KINDS, [conflictingGatewayAnalyzer]), [
      'Error [IST0145] (Gateway istio-system/alpha test.yaml:29) Conflict with gateways istio-system/beta (workload selector istio=ingressgateway, port 80, hosts foo.bar).',
      'Error [IST0145] (Gateway istio-system/beta test.yaml:40) Conflict with gateways istio-system/alpha (workload selector istio=ingressgateway, port 80, hosts foo.bar,x.y).',
    ]);
  });
  it('does not report different ports or hosts', () => {
    const yaml = ingress + gateway('alpha', '{istio: ingressgateway}', 80, '["foo.bar"]') + gateway('beta', '{istio: ingressgateway}', 8080, '["foo.bar"]') + gateway('gamma', '{istio: ingressgateway}', 80, '["other"]');
    assert.deepEqual(analyzeLines(yaml, KINDS, [conflictingGatewayAnalyzer]), []);
  });
  it('reports a selector matching no workload', () => {
    const yaml = ingress + gateway('alpha', '{istio: egress}', 80, '["*"]');
    assert.deepEqual(analyzeLines(yaml, KINDS, [conflictingGatewayAnalyzer, ingressGatewayPortAnalyzer]), [
      'Error [IST0101] (Gateway istio-system/alpha test.yaml:35) Referenced selector not found: "istio=egress"',
    ]);
  });
  it('reports a gateway port the Service does not expose (targetPort or port)', () => {
    const ok = ingress + gateway('a', '{istio: ingressgateway}', 80, '["*"]') + gateway('b', '{istio: ingressgateway}', 8080, '["*"]');
    assert.deepEqual(analyzeLines(ok, KINDS, [ingressGatewayPortAnalyzer]), []);
    const bad = ingress + gateway('c', '{istio: ingressgateway}', 9443, '["*"]');
    assert.deepEqual(analyzeLines(bad, KINDS, [ingressGatewayPortAnalyzer]), [
      'Warning [IST0162] (Gateway istio-system/c test.yaml:35) The gateway is listening on a target port (port 9443) that is not defined in the Service associated with its workload instances (Pod selector istio=ingressgateway). If you need to access the gateway port through the gateway Service, it will not be available.',
    ]);
  });
});

const dr = (host: string, subsets: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: default
spec:
  host: ${host}
  subsets:${subsets}
---
`;
const reviewsSvc = `apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: default
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
`;

describe('destinationrule.SubsetSelectPodAnalyzer', () => {
  it('reports a subset selecting no workload', () => {
    const yaml = reviewsSvc + deployment('reviews-v1', 'default', '{app: reviews, version: v1}') + dr('reviews', '\n  - name: v1\n    labels: {version: v1}\n  - name: v3\n    labels: {version: v3}');
    assert.deepEqual(analyzeLines(yaml, KINDS, [subsetSelectPodAnalyzer]), [
      'Error [IST0173] (DestinationRule default/reviews test.yaml:36) The Subset v3 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).',
    ]);
  });
  it('reports a host matching no service', () => {
    const yaml = reviewsSvc + dr('reviewz', ' []');
    assert.deepEqual(analyzeLines(yaml, KINDS, [subsetSelectPodAnalyzer]), [
      'Warning [IST0174] (DestinationRule default/reviews test.yaml:16) The host reviewz defined in the DestinationRule does not match any services in the mesh.',
    ]);
  });
});

const policy = (ns: string, selector: string, from = ''): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: policy
  namespace: ${ns}
spec:${selector}
  rules:
  - from:
    - source:
        namespaces: [${from}]
---
`;

describe('auth.AuthorizationPoliciesAnalyzer', () => {
  const base = deployment('httpbin', 'default', '{app: httpbin}');
  const cases: { name: string; yaml: string; want: string[] }[] = [
    { name: 'selector matching a workload', yaml: base + policy('default', '\n  selector:\n    matchLabels: {app: httpbin}', 'default'), want: [] },
    {
      name: 'selector matching nothing',
      yaml: base + policy('default', '\n  selector:\n    matchLabels: {app: bogus}', 'default'),
      want: ['Warning [IST0127] (AuthorizationPolicy default/policy test.yaml:17) No matching workloads for this resource with the following labels: app=bogus'],
    },
    {
      name: 'namespace-wide policy in a namespace without workloads',
      yaml: base + policy('empty', '', 'default'),
      want: ['Warning [IST0127] (AuthorizationPolicy empty/policy test.yaml:17) No matching workloads for this resource with the following labels: '],
    },
    { name: 'mesh-wide policy selecting any namespace', yaml: base + policy('istio-system', '\n  selector:\n    matchLabels: {app: httpbin}', 'default'), want: [] },
    {
      name: 'unknown source namespace',
      yaml: base + policy('default', '', 'bogus-ns'),
      want: ['Error [IST0101] (AuthorizationPolicy default/policy test.yaml:26) Referenced namespace not found: "bogus-ns"'],
    },
    { name: 'namespace wildcards', yaml: base + policy('default', '', '"def*", "*ult", "*"'), want: [] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(analyzeLines(c.yaml, KINDS, [authorizationPoliciesAnalyzer]), c.want));
});

describe('gateway.SecretAnalyzer', () => {
  const tlsGateway = ingress + `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: https
  namespace: istio-system
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: bookinfo-cert}
`;
  it('reports a missing credentialName Secret when Secrets are part of the configuration', () => {
    assert.deepEqual(analyzeLines(tlsGateway, KINDS, [secretAnalyzer], { availableKinds: ['/Secret', '/Pod', 'apps/Deployment'] }), [
      'Error [IST0101] (Gateway istio-system/https test.yaml:39) Referenced credentialName not found: "bookinfo-cert"',
    ]);
  });
  it('skips the check when the source cannot hold Secrets', () => {
    assert.deepEqual(analyzeLines(tlsGateway, KINDS, [secretAnalyzer]), []);
  });
});
