// The mesh snapshot answers translation's questions with Istio's rules: short names, gateway references,
// delegate merging, DestinationRule precedence and merging, Sidecar and Gateway selection, service targets.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { meshFromYaml } from '../support/mesh.js';
import { mergeHttpRoutes } from '../../src/model/virtual-services.js';

const SVC = (name: string, ns = 'default', port = 9080): string => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec: {selector: {app: ${name}}, ports: [{name: http, port: ${port}}]}
---`;

describe('VirtualService views', () => {
  it('resolve short hosts, destinations and gateways against the namespace', () => {
    const { snapshot } = meshFromYaml(`${SVC('reviews')}
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  gateways: [mesh, bookinfo-gateway, istio-system/shared]
  http:
  - route: [{destination: {host: reviews, subset: v1}}]
    mirror: {host: reviews-shadow}
`);
    const [vs] = snapshot.virtualServices('default', 'mesh');
    assert.ok(vs);
    assert.deepEqual(vs.hosts, ['reviews.default.svc.cluster.local']);
    assert.deepEqual(vs.gateways, ['mesh', 'default/bookinfo-gateway', 'istio-system/shared']);
    assert.equal(vs.spec.http?.[0]?.route?.[0]?.destination?.host, 'reviews.default.svc.cluster.local');
    assert.equal(vs.spec.http?.[0]?.mirror?.host, 'reviews-shadow.default.svc.cluster.local');
    assert.equal(snapshot.virtualServices('default', 'default/bookinfo-gateway').length, 1);
    assert.equal(snapshot.virtualServices('default', 'default/other-gateway').length, 0);
  });

  it('are visible only where exported', () => {
    const { snapshot } = meshFromYaml(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: private, namespace: team-a}
spec: {hosts: [svc], exportTo: ["."], http: [{route: [{destination: {host: svc}}]}]}
`);
    assert.equal(snapshot.virtualServices('team-a', 'mesh').length, 1);
    assert.equal(snapshot.virtualServices('team-b', 'mesh').length, 0);
  });

  it('merge delegates into the root route, dropping conflicting delegate routes and reporting missing delegates', () => {
    const { snapshot } = meshFromYaml(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root, namespace: default}
spec:
  hosts: [bookinfo.example.com]
  gateways: [gw]
  http:
  - name: products
    match: [{uri: {prefix: /products}}]
    timeout: 5s
    delegate: {name: products, namespace: team}
  - name: missing
    match: [{uri: {prefix: /missing}}]
    delegate: {name: nowhere}
  - route: [{destination: {host: fallback}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: products, namespace: team}
spec:
  http:
  - name: v2
    match: [{uri: {prefix: /products/v2}, headers: {x-beta: {exact: "1"}}}]
    route: [{destination: {host: products-v2}}]
  - name: conflict
    match: [{uri: {prefix: /reviews}}]
    route: [{destination: {host: nope}}]
  - name: rest
    route: [{destination: {host: products}}]
`);
    const [vs] = snapshot.virtualServices('default', 'default/gw');
    assert.ok(vs);
    const http = vs.spec.http ?? [];
    assert.deepEqual(http.map((r) => r.name), ['products-v2', 'products-rest', undefined]);
    assert.deepEqual(http[0]?.match?.[0]?.uri, { prefix: '/products/v2' });
    assert.deepEqual(http[0]?.match?.[0]?.headers, { 'x-beta': { exact: '1' } });
    assert.equal(http[0]?.timeout, '5s', 'a delegate route inherits the root timeout');
    assert.deepEqual(http[1]?.match?.[0]?.uri, { prefix: '/products' }, 'a match-less delegate route takes the root match');
    assert.equal(http[0]?.route?.[0]?.destination?.host, 'products-v2.team.svc.cluster.local', 'delegate hosts resolve in the delegate namespace');
    assert.equal(http[2]?.route?.[0]?.destination?.host, 'fallback.default.svc.cluster.local');
    assert.equal(snapshot.problems.length, 1);
    assert.match(snapshot.problems[0]?.message ?? '', /delegate virtual service default\/nowhere not found/);
    assert.equal(snapshot.virtualServices('team', 'mesh').length, 0, 'a delegate is not a VirtualService of its own');
  });

  it('merges matches as Istio does: exact root only with the same exact leaf', () => {
    const out = mergeHttpRoutes({ match: [{ uri: { exact: '/a' } }] }, [
      { name: 'same', match: [{ uri: { exact: '/a' } }] },
      { name: 'prefix', match: [{ uri: { prefix: '/a' } }] },
      { name: 'regex', match: [{ uri: { regex: '/a.*' } }] },
    ]);
    assert.deepEqual(out.map((r) => r.name), ['same']);
  });
});

describe('DestinationRule lookup', () => {
  const rules = `${SVC('reviews')}
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: root-wide, namespace: istio-system}
spec: {host: "*.svc.cluster.local", trafficPolicy: {loadBalancer: {simple: RANDOM}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-more, namespace: default, creationTimestamp: "2024-01-02T00:00:00Z"}
spec: {host: reviews, trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}, subsets: [{name: v1, labels: {version: other}}, {name: v2, labels: {version: v2}}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-for-canary, namespace: default}
spec: {host: reviews, workloadSelector: {matchLabels: {canary: "true"}}, subsets: [{name: canary, labels: {version: v3}}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-from-team, namespace: team}
spec: {host: reviews.default.svc.cluster.local, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}
`;
  const { snapshot } = meshFromYaml(rules);
  const scope = (namespace: string, labels: Record<string, string> = {}) => ({ namespace, labels, ipAddresses: [] });
  const host = 'reviews.default.svc.cluster.local';

  it('merges rules for one host in a namespace: first traffic policy, subsets appended unless the name exists', () => {
    const dr = snapshot.destinationRule(scope('default'), host);
    assert.ok(dr);
    assert.deepEqual(dr.refs.map((r) => r.name), ['reviews', 'reviews-more']);
    assert.deepEqual(dr.spec.subsets?.map((s) => [s.name, s.labels?.['version']]), [['v1', 'v1'], ['v2', 'v2']]);
    assert.equal(dr.spec.trafficPolicy?.loadBalancer?.simple, 'LEAST_REQUEST', 'the first rule had no policy, so the later one is used');
  });

  it('prefers a workload-selected rule for the workloads it selects', () => {
    assert.equal(snapshot.destinationRule(scope('default', { canary: 'true' }), host)?.ref.name, 'reviews-for-canary');
  });

  it('uses the proxy namespace, then the service namespace, then the root namespace', () => {
    assert.equal(snapshot.destinationRule(scope('team'), host)?.ref.name, 'reviews-from-team');
    assert.equal(snapshot.destinationRule(scope('elsewhere'), host)?.ref.name, 'reviews');
    assert.equal(snapshot.destinationRule(scope('elsewhere'), 'ratings.default.svc.cluster.local')?.ref.name, 'root-wide');
    assert.equal(snapshot.destinationRule(scope('elsewhere'), 'api.example.com'), undefined);
  });
});

describe('workload scoping', () => {
  const { snapshot } = meshFromYaml(`${SVC('reviews')}
apiVersion: v1
kind: Service
metadata: {name: reviews-admin, namespace: default}
spec: {selector: {app: reviews}, ports: [{name: http-admin, port: 8000, targetPort: 18000}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec: {egress: [{hosts: ["*/*"]}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ns-default, namespace: default}
spec: {egress: [{hosts: ["./*"]}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: for-reviews, namespace: default}
spec: {workloadSelector: {labels: {app: reviews}}, egress: [{hosts: ["./ratings.default.svc.cluster.local"]}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]}
`);

  it('finds the service ports a workload serves with their target ports', () => {
    const t = snapshot.serviceTargets({ namespace: 'default', labels: { app: 'reviews' }, ipAddresses: ['10.0.0.9'] });
    assert.deepEqual(t.map((x) => [x.service.name, x.port.port, x.targetPort]), [['reviews-admin', 8000, 18000], ['reviews', 9080, 9080]]);
    assert.deepEqual(snapshot.serviceTargets({ namespace: 'other', labels: { app: 'reviews' }, ipAddresses: [] }), []);
  });

  it('picks the workload Sidecar, then the namespace default, then the root default', () => {
    assert.equal(snapshot.sidecarFor({ namespace: 'default', labels: { app: 'reviews' }, ipAddresses: [] })?.ref.name, 'for-reviews');
    assert.equal(snapshot.sidecarFor({ namespace: 'default', labels: { app: 'x' }, ipAddresses: [] })?.ref.name, 'ns-default');
    assert.equal(snapshot.sidecarFor({ namespace: 'other', labels: {}, ipAddresses: [] })?.ref.name, 'default');
  });

  it('selects Gateways by label in any namespace', () => {
    assert.deepEqual(snapshot.gatewaysFor({ namespace: 'istio-system', labels: { istio: 'ingressgateway' }, ipAddresses: [] }).map((g) => g.key), ['istio-system/gw']);
    assert.deepEqual(snapshot.gatewaysFor({ namespace: 'istio-system', labels: { istio: 'egressgateway' }, ipAddresses: [] }), []);
  });
});

describe('route semantics', () => {
  it('takes the Gateway API semantics from the internal.istio.io/route-semantics annotation', () => {
    const { snapshot } = meshFromYaml(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default, annotations: {internal.istio.io/route-semantics: gateway}}
spec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: default}
spec: {hosts: [b], http: [{route: [{destination: {host: b}}]}]}
`);
    assert.deepEqual(snapshot.virtualServices('default', 'mesh').map((v) => [v.name, v.semantics]), [['a', 'gateway'], ['b', undefined]]);
  });
});
