// Golden of the converted views: one Gateway with HTTP, HTTPS, TLS passthrough and TCP listeners admitting
// routes from selected namespaces, and every route kind attached to it (plus a GAMMA route), as the Istio
// Gateways, VirtualServices and problems the snapshot gets. Review changes to the golden: it is the spec of
// the conversion (Istio's testdata/*.yaml.golden); every generated view carries `semantics: gateway`.

import { describe, it } from 'node:test';
import { assertGolden } from '../../support/golden.js';
import { convertYaml, svc } from './support.js';

const CONFIG = `---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {gateway-access: granted}}
---
apiVersion: v1
kind: Namespace
metadata: {name: blocked}
${svc('ingress', 'infra', [80, 443])}${svc('web', 'shop')}${svc('web-canary', 'shop')}${svc('grpc', 'shop', [9090])}${svc('db', 'shop', [5432])}${svc('tls-app', 'shop', [8443])}${svc('web', 'blocked')}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  gatewayClassName: istio
  addresses: [{type: Hostname, value: ingress}]
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    hostname: "*.example.com"
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {gateway-access: granted}}}}
  - name: https
    port: 443
    protocol: HTTPS
    hostname: shop.example.com
    tls: {certificateRefs: [{name: shop-cert}]}
    allowedRoutes: {namespaces: {from: All}}
  - name: passthrough
    port: 8443
    protocol: TLS
    tls: {mode: Passthrough}
    allowedRoutes: {namespaces: {from: All}}
  - name: postgres
    port: 5432
    protocol: TCP
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: shop, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /cart}}]
    filters:
    - {type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}
    - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Shop, value: "1"}]}}
    backendRefs: [{name: web, port: 80, weight: 9}, {name: web-canary, port: 80, weight: 1}]
    timeouts: {request: 5s}
  - matches: [{path: {type: Exact, value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /new}, statusCode: 301}}]
  - backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc, namespace: shop, creationTimestamp: "2024-01-03T00:00:00Z"}
spec:
  parentRefs: [{name: edge, namespace: infra, sectionName: https}]
  hostnames: [shop.example.com]
  rules: [{matches: [{method: {service: shop.Cart}}], backendRefs: [{name: grpc, port: 9090}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: intruder, namespace: blocked, creationTimestamp: "2024-01-04T00:00:00Z"}
spec:
  parentRefs: [{name: edge, namespace: infra, sectionName: http}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: db, namespace: shop, creationTimestamp: "2024-01-05T00:00:00Z"}
spec:
  parentRefs: [{name: edge, namespace: infra, sectionName: postgres}]
  rules: [{backendRefs: [{name: db, port: 5432}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: tls-app, namespace: shop, creationTimestamp: "2024-01-06T00:00:00Z"}
spec:
  parentRefs: [{name: edge, namespace: infra, sectionName: passthrough}]
  hostnames: [app.example.com]
  rules: [{backendRefs: [{name: tls-app, port: 8443}, {name: missing, port: 8443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web-mesh, namespace: shop, creationTimestamp: "2024-01-07T00:00:00Z"}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
  - matches: [{headers: [{name: x-canary, value: "true"}]}]
    backendRefs: [{name: web-canary, port: 80}]
  - backendRefs: [{name: web, port: 80}]
`;

describe('converted views golden', () => {
  it('gateways, virtual services and problems of a shop behind one Gateway', () => {
    const c = convertYaml(CONFIG);
    assertGolden('gateway-api/shop-views', { gateways: c.gateways, virtualServices: c.virtualServices, problems: c.problems });
  });
});
