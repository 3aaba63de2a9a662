// Scenario tests for the Istio Gateway analyzers: gateway.ConflictingGatewayAnalyzer (IST0145, IST0101),
// gateway.IngressGatewayPortAnalyzer (IST0162, IST0101) and gateway.SecretAnalyzer (IST0101), modelled on
// Istio's analyzer testdata conflicting-gateways*.yaml, gateway-custom-ingressgateway*.yaml and
// gateway-secrets.yaml (our own fixtures). Each finding is asserted as the exact printed line, next to a
// similar configuration that must not produce it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeLines } from '../../../test/support/analyze.js';
import { DEPLOYMENT } from '../../api/core/deployment.js';
import { NAMESPACE } from '../../api/core/namespace.js';
import { POD } from '../../api/core/pod.js';
import { SERVICE } from '../../api/core/service.js';
import type { AnyKind } from '../../api/kind.js';
import { ISTIO_GATEWAY } from '../../api/networking/gateway.js';
import { conflictingGatewayAnalyzer, ingressGatewayPortAnalyzer, secretAnalyzer } from './gateway.js';

const KINDS: readonly AnyKind[] = [POD, DEPLOYMENT, NAMESPACE, SERVICE, ISTIO_GATEWAY];

// Two gateways on the same selector in different namespaces: they share port 9000 and a host there
// (different protocols do not matter); port 80 and 8443 are used by one gateway each.
const SAME_SELECTOR = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: shop-tcp
  namespace: shop
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: tcp, protocol: TCP}
    hosts: ["shop.example.com"]
  - port: {number: 9000, name: tcp-admin, protocol: TCP}
    hosts: ["shop.example.com"]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: shop-web
  namespace: web
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: ["shop.example.com"]
    tls: {mode: SIMPLE, credentialName: shop-cert}
  - port: {number: 9000, name: http-admin, protocol: HTTP}
    hosts: ["shop.example.com", "admin.example.com"]
`;

// Different selector strings that both match the same gateway pod (Istio's sub-selector case).
const SUB_SELECTOR = `apiVersion: v1
kind: Pod
metadata:
  name: edge-gateway-7d9f
  namespace: edge
  labels: {istio: ingressgateway, app: edge-gateway, team: platform}
spec:
  containers: [{name: istio-proxy, image: istio/proxyv2}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: platform-wide
  namespace: edge
spec:
  selector: {istio: ingressgateway, team: platform}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["api.example.com"]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: edge-only
  namespace: edge
spec:
  selector: {app: edge-gateway, istio: ingressgateway, team: platform}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["api.example.com"]
`;

// An ingress gateway Deployment and its Service: 80 -> 8080, 443 -> a named target port (Istio then
// uses the Service port), 8443 only over UDP (not counted: Istio only looks at TCP ports).
const INGRESS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-ingressgateway
  namespace: istio-system
spec:
  selector:
    matchLabels: {istio: ingressgateway}
  template:
    metadata:
      labels: {istio: ingressgateway, app: istio-ingressgateway}
    spec:
      containers:
      - name: istio-proxy
        image: istio/proxyv2
---
apiVersion: v1
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
  - name: https
    port: 443
    targetPort: https
  - name: http3
    port: 8443
    protocol: UDP
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bookinfo
  namespace: bookinfo
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["bookinfo.example.com"]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["bookinfo.example.com"]
    tls: {mode: SIMPLE, credentialName: bookinfo-cert}
  - port: {number: 8443, name: https-quic, protocol: HTTPS}
    hosts: ["bookinfo.example.com"]
    tls: {mode: SIMPLE, credentialName: bookinfo-cert}
`;

describe('gateway.ConflictingGatewayAnalyzer scenarios', () => {
  const run = (yaml: string): string[] => analyzeLines(yaml, KINDS, [conflictingGatewayAnalyzer]);

  it('reports gateways sharing selector, port and host, per conflicting server (IST0145)', () => {
    assert.deepEqual(run(SAME_SELECTOR), [
      'Error [IST0145] (Gateway shop/shop-tcp test.yaml:1) Conflict with gateways web/shop-web (workload selector istio=ingressgateway, port 9000, hosts shop.example.com).',
      'Error [IST0145] (Gateway web/shop-web test.yaml:15) Conflict with gateways shop/shop-tcp (workload selector istio=ingressgateway, port 9000, hosts shop.example.com,admin.example.com).',
    ]);
  });

  it('does not report the same port and host bound to different addresses, or different hosts', () => {
    const bound = SAME_SELECTOR.replace('  - port: {number: 9000, name: http-admin, protocol: HTTP}\n', '  - port: {number: 9000, name: http-admin, protocol: HTTP}\n    bind: 10.0.0.5\n');
    assert.deepEqual(run(bound), []);
    const otherHost = SAME_SELECTOR.replace('hosts: ["shop.example.com", "admin.example.com"]', 'hosts: ["admin.example.com"]');
    assert.deepEqual(run(otherHost), []);
    const otherSelector = SAME_SELECTOR.replace('    istio: ingressgateway\n  servers:\n  - port: {number: 8443', '    istio: internal-gateway\n  servers:\n  - port: {number: 8443');
    assert.deepEqual(run(otherSelector), []);
  });

  it('reports gateways whose different selectors select the same pod (IST0145)', () => {
    assert.deepEqual(run(SUB_SELECTOR), [
      'Error [IST0145] (Gateway edge/edge-only test.yaml:21) Conflict with gateways edge/platform-wide (workload selector app=edge-gateway,istio=ingressgateway,team=platform, port 80, hosts api.example.com).',
      'Error [IST0145] (Gateway edge/platform-wide test.yaml:10) Conflict with gateways edge/edge-only (workload selector istio=ingressgateway,team=platform, port 80, hosts api.example.com).',
    ]);
  });

  it('does not report overlapping selector strings when no pod carries both sets of labels', () => {
    assert.deepEqual(run(SUB_SELECTOR.replace('labels: {istio: ingressgateway, app: edge-gateway, team: platform}', 'labels: {istio: ingressgateway, team: platform}')), []);
  });
});

describe('gateway.IngressGatewayPortAnalyzer scenarios', () => {
  const run = (yaml: string): string[] => analyzeLines(yaml, KINDS, [ingressGatewayPortAnalyzer]);

  it('reports a server port the gateway Service only exposes over UDP (IST0162)', () => {
    assert.deepEqual(run(INGRESS), [
      'Warning [IST0162] (Gateway bookinfo/bookinfo test.yaml:42) The gateway is listening on a target port (port 8443) that is not defined in the Service associated with its workload instances (Pod selector istio=ingressgateway). If you need to access the gateway port through the gateway Service, it will not be available.',
    ]);
  });

  it('accepts the port once the Service exposes it over TCP', () => {
    assert.deepEqual(run(INGRESS.replace('    port: 8443\n    protocol: UDP', '    port: 8443\n    protocol: TCP')), []);
  });

  it('reports a selector matching no workload (IST0101) instead of ports', () => {
    assert.deepEqual(run(INGRESS.replace('  selector:\n    istio: ingressgateway\n  servers:', '  selector:\n    istio: egressgateway\n  servers:')), [
      'Error [IST0101] (Gateway bookinfo/bookinfo test.yaml:42) Referenced selector not found: "istio=egressgateway"',
    ]);
  });

  it('ignores Services in other namespaces than the gateway pods', () => {
    const moved = INGRESS.replace('  name: istio-ingressgateway\n  namespace: istio-system\nspec:\n  selector: {istio: ingressgateway}', '  name: istio-ingressgateway\n  namespace: elsewhere\nspec:\n  selector: {istio: ingressgateway}');
    assert.deepEqual(
      run(moved).map((l) => l.replace(/ The gateway is listening.*\(port (\d+)\).*/, ' port $1')),
      // Sorted by message text, so 443 before 80.
      ['Warning [IST0162] (Gateway bookinfo/bookinfo test.yaml:42) port 443', 'Warning [IST0162] (Gateway bookinfo/bookinfo test.yaml:42) port 80', 'Warning [IST0162] (Gateway bookinfo/bookinfo test.yaml:42) port 8443'],
    );
  });
});

describe('gateway.SecretAnalyzer scenarios', () => {
  const withSecrets = { availableKinds: ['/Secret', '/Pod', 'apps/Deployment', 'networking.istio.io/Gateway', '/Service'] };
  const run = (yaml: string): string[] => analyzeLines(yaml, KINDS, [secretAnalyzer], withSecrets);

  it('reports each missing credentialName on its line (IST0101)', () => {
    assert.deepEqual(run(INGRESS), [
      'Error [IST0101] (Gateway bookinfo/bookinfo test.yaml:48) Referenced credentialName not found: "bookinfo-cert"',
      'Error [IST0101] (Gateway bookinfo/bookinfo test.yaml:51) Referenced credentialName not found: "bookinfo-cert"',
    ]);
  });

  it('reports a selector matching no gateway pod (IST0101)', () => {
    assert.deepEqual(run(INGRESS.replace('  selector:\n    istio: ingressgateway\n  servers:', '  selector:\n    istio: custom-gateway\n  servers:')), [
      'Error [IST0101] (Gateway bookinfo/bookinfo test.yaml:42) Referenced selector not found: "istio=custom-gateway"',
    ]);
  });

  it('stays quiet for servers without credentialName', () => {
    assert.deepEqual(run(INGRESS.replaceAll('    tls: {mode: SIMPLE, credentialName: bookinfo-cert}\n', '    tls: {mode: PASSTHROUGH}\n')), []);
  });
});
