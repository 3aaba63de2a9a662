// Sidecar outbound route configurations: which route configs exist, the virtual hosts and domains Istio gives
// each service, default routes, the allow_any / block_all catch-all, and how VirtualService hosts map onto
// virtual hosts. Goldens hold the full route configs; simulations state what a request would do.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { routeWorld, service } from './harness.js';

const PRODUCTPAGE = { labels: { app: 'productpage', version: 'v1' }, name: 'productpage-v1' } as const;

const MESH = [
  service('reviews', { ip: '10.96.0.10', versions: ['v1', 'v2', 'v3'] }),
  service('ratings', { namespace: 'prod', ip: '10.96.0.20' }),
  service('mysql', { ip: '10.96.0.30', ports: ['tcp:3306'] }),
  service('web', { ip: '10.96.0.40', ports: ['web:8000'] }),
  service('productpage', { ip: '10.96.0.50' }),
  `---
apiVersion: v1
kind: Namespace
metadata: {name: prod}
`,
].join('');

describe('sidecar outbound routes without VirtualServices', () => {
  const w = routeWorld(MESH, PRODUCTPAGE);

  it('one route config per HTTP or undetected port, plus one for the sniffed service VIP; none for TCP', () => {
    assert.deepEqual(w.routes.map((r) => r.name), ['8000', '9080', 'web.default.svc.cluster.local:8000']);
    assertGolden('route/sidecar-default', w.dump);
  });

  const get = (host: string, port = 9080) => ({ port, protocol: 'http' as const, host, path: '/' });
  it('every name of a service in the proxy namespace reaches its default route', () => {
    for (const host of ['reviews', 'reviews.default', 'reviews.default.svc', 'reviews.default.svc.cluster.local', 'reviews.default.svc.cluster.local.', 'reviews:9080', '10.96.0.10', '10.96.0.10:9080']) {
      w.expect(get(host), { virtualHost: 'reviews.default.svc.cluster.local:9080', route: 'default', cluster: 'outbound|9080||reviews.default.svc.cluster.local' });
    }
  });

  it('a service in another namespace answers to ratings.prod but not to ratings', () => {
    w.expect(get('ratings.prod'), { virtualHost: 'ratings.prod.svc.cluster.local:9080', cluster: 'outbound|9080||ratings.prod.svc.cluster.local' });
    w.expect(get('ratings'), { virtualHost: 'allow_any', route: 'allow_any', cluster: 'PassthroughCluster' });
  });

  it('unknown hosts pass through under ALLOW_ANY (the mesh default)', () => {
    w.expect(get('example.com'), { virtualHost: 'allow_any', cluster: 'PassthroughCluster' });
  });

  it('the sniffed service route config answers every authority with that service', () => {
    w.expect({ port: 8000, protocol: 'http', address: '10.96.0.40', host: 'anything' }, {
      routeConfig: 'web.default.svc.cluster.local:8000',
      virtualHost: 'web.default.svc.cluster.local:8000',
      cluster: 'outbound|8000||web.default.svc.cluster.local',
    });
  });
});

describe('outbound traffic policy', () => {
  it('REGISTRY_ONLY in mesh config: unknown hosts get 502 from block_all', () => {
    const w = routeWorld(MESH, PRODUCTPAGE, { mesh: { outboundTrafficPolicy: 'REGISTRY_ONLY' } });
    w.expect({ port: 9080, protocol: 'http', host: 'example.com' }, { virtualHost: 'block_all', route: 'block_all', directResponse: { status: 502 } });
    w.expect({ port: 9080, protocol: 'http', host: 'reviews' }, { cluster: 'outbound|9080||reviews.default.svc.cluster.local' });
  });

  it('a Sidecar outboundTrafficPolicy overrides the mesh, and egressProxy replaces PassthroughCluster', () => {
    const registryOnly = routeWorld(
      `${MESH}---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`,
      PRODUCTPAGE,
    );
    registryOnly.expect({ port: 9080, protocol: 'http', host: 'example.com' }, { directResponse: { status: 502 } });
    const egress = routeWorld(
      `${MESH}---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  outboundTrafficPolicy:
    mode: ALLOW_ANY
    egressProxy: {host: egress.istio-system.svc.cluster.local, port: {number: 443}}
`,
      PRODUCTPAGE,
    );
    egress.expect({ port: 9080, protocol: 'http', host: 'example.com' }, { virtualHost: 'allow_any', cluster: 'outbound|443||egress.istio-system.svc.cluster.local' });
  });

  it('a Sidecar egress host list hides services: their names fall to the catch-all', () => {
    const w = routeWorld(
      `${MESH}---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  egress:
  - hosts: ["./*"]
`,
      PRODUCTPAGE,
    );
    w.expect({ port: 9080, protocol: 'http', host: 'ratings.prod' }, { virtualHost: 'allow_any' });
    w.expect({ port: 9080, protocol: 'http', host: 'reviews' }, { virtualHost: 'reviews.default.svc.cluster.local:9080' });
  });
});

describe('VirtualService hosts and virtual hosts', () => {
  it('hosts that name no service get a virtual host beside the service on that port', () => {
    const w = routeWorld(
      `${MESH}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews, reviews.example.com]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
`,
      PRODUCTPAGE,
    );
    const names = w.route('9080').virtualHosts.map((v) => v.name);
    assert.deepEqual(names, [
      'productpage.default.svc.cluster.local:9080',
      'ratings.prod.svc.cluster.local:9080',
      'reviews.default.svc.cluster.local:9080',
      'reviews.example.com:9080',
      'allow_any',
    ]);
    w.expect({ port: 9080, protocol: 'http', host: 'reviews.example.com' }, { virtualHost: 'reviews.example.com:9080', cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' });
    w.expect({ port: 9080, protocol: 'http', host: 'reviews' }, { virtualHost: 'reviews.default.svc.cluster.local:9080', cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' });
  });

  it('a VirtualService only for hosts outside the registry applies on port 80 only', () => {
    const yaml = `${MESH}${service('frontend', { ip: '10.96.0.60', ports: ['http:80'] })}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: external}
spec:
  hosts: [api.example.com]
  http:
  - route:
    - destination: {host: reviews, port: {number: 9080}}
`;
    const w = routeWorld(yaml, PRODUCTPAGE);
    assert.ok(w.route('80').virtualHosts.some((v) => v.name === 'api.example.com:80'));
    assert.ok(!w.route('9080').virtualHosts.some((v) => v.name.startsWith('api.example.com')));
    w.expect({ port: 80, protocol: 'http', host: 'api.example.com' }, { cluster: 'outbound|9080||reviews.default.svc.cluster.local' });
  });

  it('of two VirtualServices for one host, the older wins', () => {
    const vs = (name: string, ts: string, subset: string) => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, creationTimestamp: "${ts}"}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: ${subset}}
`;
    const w = routeWorld(`${MESH}${vs('newer', '2024-02-01T00:00:00Z', 'v3')}${vs('older', '2024-01-01T00:00:00Z', 'v2')}`, PRODUCTPAGE);
    w.expect({ port: 9080, protocol: 'http', host: 'reviews' }, { cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' });
  });

  it('a wildcard VirtualService host covers the services it names', () => {
    const yaml = `${[service('a', { namespace: 'shop', ip: '10.96.1.1' }), service('b', { namespace: 'shop', ip: '10.96.1.2' })].join('')}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: ["*.shop.svc.cluster.local"]
  http:
  - route:
    - destination: {host: a.shop.svc.cluster.local}
`;
    const w = routeWorld(yaml, { ...PRODUCTPAGE, namespace: 'default' });
    w.expect({ port: 9080, protocol: 'http', host: 'b.shop' }, { virtualHost: 'b.shop.svc.cluster.local:9080', cluster: 'outbound|9080||a.shop.svc.cluster.local' });
  });

  it('a rule for another port leaves the service its default route on this one', () => {
    const yaml = `${service('multi', { ip: '10.96.2.1', ports: ['http:9080', 'http-admin:9090'] })}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: multi}
spec:
  hosts: [multi]
  http:
  - match:
    - port: 9090
    route:
    - destination: {host: multi, subset: v1}
`;
    const w = routeWorld(yaml, PRODUCTPAGE);
    w.expect({ port: 9080, protocol: 'http', host: 'multi' }, { route: 'default', cluster: 'outbound|9080||multi.default.svc.cluster.local' });
    w.expect({ port: 9090, protocol: 'http', host: 'multi' }, { cluster: 'outbound|9090|v1|multi.default.svc.cluster.local' });
  });
});

describe('source-scoped rules', () => {
  const yaml = `${MESH}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match:
    - sourceLabels: {app: productpage}
    route:
    - destination: {host: reviews, subset: v2}
  - match:
    - sourceNamespace: prod
    route:
    - destination: {host: reviews, subset: v3}
  - match:
    - gateways: [istio-system/ingress]
    route:
    - destination: {host: reviews, subset: v3}
  - route:
    - destination: {host: reviews, subset: v1}
`;
  it('sourceLabels keep the rule only for matching proxies', () => {
    routeWorld(yaml, PRODUCTPAGE).expect({ port: 9080, protocol: 'http', host: 'reviews' }, { cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' });
    routeWorld(yaml, { labels: { app: 'other' } }).expect({ port: 9080, protocol: 'http', host: 'reviews' }, { cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local' });
  });

  it('sourceNamespace keeps the rule only for proxies in that namespace; match gateways drop it from sidecars', () => {
    const w = routeWorld(yaml, { labels: { app: 'other' }, namespace: 'prod' });
    w.expect({ port: 9080, protocol: 'http', host: 'reviews.default' }, { cluster: 'outbound|9080|v3|reviews.default.svc.cluster.local' });
    const vh = routeWorld(yaml, { labels: { app: 'other' } }).route('9080').virtualHosts.find((v) => v.name.startsWith('reviews.'));
    assert.equal(vh?.routes.length, 1, 'only the catch-all rule applies to a plain sidecar');
  });
});
