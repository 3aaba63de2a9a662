// Scenario tests for virtualservice.DestinationHostAnalyzer (IST0101, IST0112, IST0140) and
// virtualservice.DestinationRuleAnalyzer (IST0101), modelled on Istio's analyzer testdata
// virtualservice_destinationhosts.yaml, virtualservice_destinationrules.yaml and
// virtualservice_route_rule_no_effects_ingress.yaml (our own fixtures), with exact printed lines and the
// corrected configuration that must stay quiet.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeLines } from '../../../test/support/analyze.js';
import { SERVICE } from '../../api/core/service.js';
import type { AnyKind } from '../../api/kind.js';
import { DESTINATION_RULE } from '../../api/networking/destination-rule.js';
import { ISTIO_GATEWAY } from '../../api/networking/gateway.js';
import { SERVICE_ENTRY } from '../../api/networking/service-entry.js';
import { VIRTUAL_SERVICE } from '../../api/networking/virtual-service.js';
import { destinationHostAnalyzer, destinationRuleAnalyzer } from './virtual-service.js';

const KINDS: readonly AnyKind[] = [SERVICE, SERVICE_ENTRY, VIRTUAL_SERVICE, DESTINATION_RULE, ISTIO_GATEWAY];

// Services (one single-port, one two-port, one exported by annotation to \`audit\` and its own namespace),
// ServiceEntries (exact host, wildcard host, one private to its namespace, one exported to \`store\`) and
// VirtualServices routing to them: short names, FQDNs across namespaces, TCP routes, mirrors, ports, and a
// VirtualService whose own exportTo decides where its destination is looked up.
const HOSTS = `apiVersion: v1
kind: Service
metadata:
  name: catalog
  namespace: store
spec:
  selector: {app: catalog}
  ports:
  - name: tcp-catalog
    port: 7070
---
apiVersion: v1
kind: Service
metadata:
  name: checkout
  namespace: store
spec:
  selector: {app: checkout}
  ports:
  - name: http
    port: 80
  - name: grpc
    port: 8081
---
apiVersion: v1
kind: Service
metadata:
  name: ledger
  namespace: finance
  annotations:
    networking.istio.io/exportTo: "audit,."
spec:
  selector: {app: ledger}
  ports:
  - name: http
    port: 8080
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: payments-api
  namespace: store
spec:
  hosts: [api.payments.example]
  ports:
  - {number: 443, name: https, protocol: HTTPS}
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: cdn-wildcard
  namespace: store
spec:
  hosts: ["*.cdn.example"]
  ports:
  - {number: 443, name: https, protocol: HTTPS}
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: partner-private
  namespace: partners
spec:
  exportTo: ["."]
  hosts: [private.partner.example]
  ports:
  - {number: 443, name: https, protocol: HTTPS}
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: partner-shared
  namespace: partners
spec:
  exportTo: [store]
  hosts: [shared.partner.example]
  ports:
  - {number: 443, name: https, protocol: HTTPS}
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: catalog
  namespace: store
spec:
  hosts: [catalog]
  tcp:
  - route:
    - destination:
        host: catalog
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: catalog-typo
  namespace: store
spec:
  hosts: [catalog-typo]
  http:
  - route:
    - destination:
        host: catalogue
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: catalog-fqdn
  namespace: web
spec:
  hosts: [catalog.store.svc.cluster.local]
  tcp:
  - route:
    - destination:
        host: catalog.store.svc.cluster.local
        port: {number: 7070}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: egress
  namespace: store
spec:
  hosts: [api.payments.example, images.cdn.example]
  http:
  - match:
    - authority: {exact: api.payments.example}
    route:
    - destination:
        host: api.payments.example
  - route:
    - destination:
        host: images.cdn.example
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: partners
  namespace: store
spec:
  hosts: [partners.store.internal]
  http:
  - match:
    - uri: {prefix: /shared}
    route:
    - destination:
        host: shared.partner.example
  - route:
    - destination:
        host: private.partner.example
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: checkout
  namespace: store
spec:
  hosts: [checkout]
  http:
  - match:
    - uri: {prefix: /api}
    route:
    - destination:
        host: checkout
        port: {number: 80}
    mirror:
      host: checkout-shadow
  - route:
    - destination:
        host: checkout
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: checkout-grpc
  namespace: store
spec:
  hosts: [checkout-grpc]
  http:
  - route:
    - destination:
        host: checkout
        port: {number: 9090}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ledger
  namespace: audit
spec:
  hosts: [ledger.audit.internal]
  http:
  - route:
    - destination:
        host: ledger.finance.svc.cluster.local
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ledger
  namespace: store
spec:
  hosts: [ledger.store.internal]
  http:
  - route:
    - destination:
        host: ledger.finance.svc.cluster.local
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ledger-export-elsewhere
  namespace: finance
spec:
  hosts: [ledger.finance.internal]
  exportTo: [reporting]
  http:
  - route:
    - destination:
        host: ledger
`;

describe('virtualservice.DestinationHostAnalyzer scenarios', () => {
  const run = (yaml: string): string[] => analyzeLines(yaml, KINDS, [destinationHostAnalyzer]);

  it('reports unknown hosts, mirror hosts and ports, and missing port selectors', () => {
    assert.deepEqual(run(HOSTS), [
      'Error [IST0101] (VirtualService store/catalog-typo test.yaml:106) Referenced host not found: "catalogue"',
      'Error [IST0101] (VirtualService store/checkout-grpc test.yaml:185) Referenced host:port not found: "checkout:9090"',
      'Error [IST0101] (VirtualService store/checkout test.yaml:170) Referenced mirror host not found: "checkout-shadow"',
      // Looked up in the VirtualService's exportTo namespaces (reporting), where the Service is not visible.
      'Error [IST0101] (VirtualService finance/ledger-export-elsewhere test.yaml:223) Referenced host not found: "ledger"',
      // The Service is exported to audit and finance only.
      'Error [IST0101] (VirtualService store/ledger test.yaml:210) Referenced host not found: "ledger.finance.svc.cluster.local"',
      // The ServiceEntry is exported to its own namespace only.
      'Error [IST0101] (VirtualService store/partners test.yaml:153) Referenced host not found: "private.partner.example"',
      'Error [IST0112] (VirtualService store/checkout test.yaml:173) This VirtualService routes to a service "checkout" that exposes multiple ports [80 8081]. Specifying a port in the destination is required to disambiguate.',
    ]);
  });

  it('stays quiet once every destination resolves', () => {
    const fixed = HOSTS.replace('host: catalogue', 'host: catalog')
      .replace('number: 9090', 'number: 8081')
      .replace('    mirror:\n      host: checkout-shadow\n', '    mirror:\n      host: checkout\n      port: {number: 8081}\n')
      .replace('  - route:\n    - destination:\n        host: checkout\n---', '  - route:\n    - destination:\n        host: checkout\n        port: {number: 80}\n---')
      .replace('networking.istio.io/exportTo: "audit,."', 'networking.istio.io/exportTo: "audit,store,."')
      .replace('exportTo: [reporting]', 'exportTo: ["."]')
      .replace('host: private.partner.example\n---', 'host: shared.partner.example\n---');
    assert.deepEqual(run(fixed), []);
  });
});

describe('virtualservice.DestinationHostAnalyzer subsets at ingress (IST0140)', () => {
  const yaml = (ingressDestination: string, gateways = '\n  gateways: [ingress/shop]'): string => `apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: shop
spec:
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-canary
  namespace: shop
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 90
    - destination: {host: reviews, subset: v2}
      weight: 10
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: shop-ingress
  namespace: shop
spec:
  hosts: [shop.example.com]${gateways}
  http:
  - route:
    - destination: ${ingressDestination}
`;
  const run = (y: string): string[] => analyzeLines(y, KINDS, [destinationHostAnalyzer]);

  it('reports a gateway route without a subset to a host another VirtualService splits by subset', () => {
    assert.deepEqual(run(yaml('{host: reviews}')), [
      'Warning [IST0140] (VirtualService shop/shop-ingress test.yaml:33) Subset in virtual service shop/reviews-canary has no effect on ingress gateway shop/shop-ingress requests',
    ]);
  });
  it('does not report a gateway route that names a subset', () => {
    assert.deepEqual(run(yaml('{host: reviews, subset: v1}')), []);
  });
  it('does not report a mesh-only VirtualService (no gateways)', () => {
    assert.deepEqual(run(yaml('{host: reviews}', '')), []);
  });
  it('does not report when the subset split is for a host the splitting VirtualService does not own', () => {
    assert.deepEqual(run(yaml('{host: reviews}').replace('  hosts: [reviews]\n', '  hosts: [reviews.example.com]\n')), []);
  });
});

describe('virtualservice.DestinationRuleAnalyzer scenarios', () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts: [reviews]
  http:
  - match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v3}
    mirror: {host: reviews, subset: v4}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-from-frontend
  namespace: frontend
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  http:
  - route:
    - destination: {host: reviews.bookinfo.svc.cluster.local, subset: v1}
  - route:
    - destination: {host: reviews, subset: v1}
`;
  const run = (y: string): string[] => analyzeLines(y, KINDS, [destinationRuleAnalyzer]);

  it('reports subsets no DestinationRule defines for the host (route and mirror)', () => {
    assert.deepEqual(run(yaml), [
      // A short name resolves in the VirtualService's own namespace (frontend), where no rule exists.
      'Error [IST0101] (VirtualService frontend/reviews-from-frontend test.yaml:42) Referenced host+subset in destinationrule not found: "reviews+v1"',
      'Error [IST0101] (VirtualService bookinfo/reviews test.yaml:28) Referenced host+subset in destinationrule not found: "reviews+v3"',
      'Error [IST0101] (VirtualService bookinfo/reviews test.yaml:29) Referenced mirror+subset in destinationrule not found: "reviews+v4"',
    ]);
  });
  it('stays quiet when every subset is defined for the resolved host', () => {
    const fixed = yaml
      .replace('    - destination: {host: reviews, subset: v1}\n', '    - destination: {host: reviews.bookinfo.svc.cluster.local, subset: v2}\n')
      .replace('subset: v3', 'subset: v1')
      .replace('subset: v4', 'subset: v2');
    assert.deepEqual(run(fixed), []);
  });
});
