// Gateway API config served by the unchanged translation to the Gateway's own pods (Istio's automated
// deployment, selected by `gateway.networking.k8s.io/gateway-name`): Istio's bookinfo Gateway API sample,
// weighted backends, redirects, header matches, prefix rewrites, HTTPS termination, TLS passthrough by SNI,
// TCP, gRPC, and what bad config does to traffic. Each case says which request reaches which cluster. The
// routes have Istio's gateway semantics: prefixes match whole path segments, a prefix rewrite to `/` strips
// the prefix, and a backend that does not exist answers 500.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden, dumpResources } from '../../support/golden.js';
import type { Call } from '../../support/simulate.js';
import { bookinfoPlatform, cluster, clusterNotFoundStatus, fixture, forwardedPath, gatewayPod, svc, world } from './harness.js';

const get = (path: string, o: Partial<Call> = {}): Call => ({ port: 80, protocol: 'http', callMode: 'gateway', host: 'bookinfo.example.com', path, ...o });
const PRODUCTPAGE = cluster('productpage', 9080);

const gw = (listeners: string, name = 'gw', ns = 'default'): string => `---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${ns}}
spec:
  gatewayClassName: istio
  listeners:
${listeners}
`;
const route = (kind: string, name: string, spec: string, ns = 'default', apiVersion = 'gateway.networking.k8s.io/v1'): string => `---
apiVersion: ${apiVersion}
kind: ${kind}
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}
`;
const HTTP80 = '  - {name: http, port: 80, protocol: HTTP}';

describe("Istio's bookinfo Gateway API sample", () => {
  const w = world(`${bookinfoPlatform()}---\n${fixture('bookinfo-gateway')}`, gatewayPod('bookinfo-gateway'));

  it('GET /productpage on the Gateway port 80 goes to productpage:9080', () => {
    w.expect(get('/productpage'), { listener: '0.0.0.0_80', routeConfig: 'http.80', virtualHost: '*:80', route: 'default.bookinfo.0', cluster: PRODUCTPAGE });
    assert.deepEqual(w.problems, []);
  });

  it('PathPrefix matches whole path segments: /static/x and /api/v1/products/1 match, /staticfoo does not', () => {
    const r = w.expect(get('/static/css/site.css'), { cluster: PRODUCTPAGE });
    assert.deepEqual(r.raw.route?.match?.pathSpecifier, { case: 'pathSeparatedPrefix', value: '/static' }, 'one Envoy route, as Istio');
    w.expect(get('/static'), { cluster: PRODUCTPAGE });
    w.expect(get('/api/v1/products/1/reviews'), { cluster: PRODUCTPAGE });
    w.expect(get('/staticfoo'), { error: 'no route' });
    w.expect(get('/productpage/x'), { error: 'no route' }, false);
    w.expect(get('/admin'), { error: 'no route' });
  });

  it('any Host is served (no hostnames), and only on the Gateway port', () => {
    w.expect(get('/login', { host: '203.0.113.7' }), { cluster: PRODUCTPAGE });
    w.expect(get('/login', { port: 8080 }), { error: 'no listener' });
  });

  it('a router without the gateway-name label of this Gateway gets nothing from it', () => {
    const other = world(`${bookinfoPlatform()}---\n${fixture('bookinfo-gateway')}`, gatewayPod('another-gateway'));
    assert.deepEqual(other.resources.listeners.map((l) => l.name), []);
  });

  it('golden: the router routes', () => {
    assertGolden('gateway-api/bookinfo-router-routes', dumpResources(w.resources).routes);
  });
});

describe('HTTPRoute features through the gateway', () => {
  const BACKENDS = `${svc('v1', 8080)}${svc('v2', 8080)}${svc('web', 80)}`;

  it('weighted backends become weighted clusters', () => {
    const w = world(`${BACKENDS}${gw(HTTP80)}${route('HTTPRoute', 'split', `  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: v1, port: 8080, weight: 80}, {name: v2, port: 8080, weight: 20}]}]`)}`, gatewayPod('gw'));
    w.expect(get('/anything'), { weightedClusters: [{ name: cluster('v1', 8080), weight: 80 }, { name: cluster('v2', 8080), weight: 20 }] });
  });

  it('a header match sends matching requests to v2, the rest to v1', () => {
    const w = world(`${BACKENDS}${gw(HTTP80)}${route('HTTPRoute', 'canary', `  parentRefs: [{name: gw}]
  hostnames: [app.example.com]
  rules:
  - backendRefs: [{name: v1, port: 8080}]
  - matches: [{headers: [{name: x-canary, value: "true"}]}]
    backendRefs: [{name: v2, port: 8080}]`)}`, gatewayPod('gw'));
    w.expect(get('/', { host: 'app.example.com', headers: { 'x-canary': 'true' } }), { virtualHost: 'app.example.com:80', cluster: cluster('v2', 8080) });
    w.expect(get('/', { host: 'app.example.com', headers: { 'x-canary': 'no' } }), { cluster: cluster('v1', 8080) });
    w.expect(get('/', { host: 'other.example.com' }), { error: 'no virtual host' });
  });

  it('a RequestRedirect answers 301 to https on the default port', () => {
    const w = world(`${gw(HTTP80)}${route('HTTPRoute', 'to-https', `  parentRefs: [{name: gw}]
  rules: [{filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]}]`)}`, gatewayPod('gw'));
    w.expect(get('/cart?item=1'), { redirect: { responseCode: 301, scheme: 'https', path: '' } });
  });

  it('a RequestRedirect ReplacePrefixMatch redirects /old to /new and /old/x to /new/x', () => {
    const w = world(`${gw(HTTP80)}${route('HTTPRoute', 'moved', `  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}, statusCode: 302}}]`)}`, gatewayPod('gw'));
    // FROM_REQUEST_PORT keeps the Gateway port in the Location (80 is http's default, so it is left out).
    const location = (path: string): string => forwardedPath(w.expect(get(path), { redirect: { responseCode: 302, prefixRewrite: '/new' } }).raw.route, path);
    assert.equal(location('/old'), '/new');
    assert.equal(location('/old/page?x=1'), '/new/page?x=1');
    w.expect(get('/older'), { error: 'no route' });
  });

  it('URLRewrite ReplacePrefixMatch rewrites /shop to /store and /shop/x to /store/x', () => {
    const w = world(`${BACKENDS}${gw(HTTP80)}${route('HTTPRoute', 'rewrite', `  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /shop}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /store}}}]
    backendRefs: [{name: web, port: 80}]`)}`, gatewayPod('gw'));
    const upstreamPath = (path: string): string => forwardedPath(w.expect(get(path), { cluster: cluster('web', 80) }).raw.route, path);
    // Envoy replaces the matched path-separated prefix `/shop` with the rewrite.
    assert.equal(upstreamPath('/shop'), '/store');
    assert.equal(upstreamPath('/shop/cart?id=7'), '/store/cart?id=7');
    w.expect(get('/shopping'), { error: 'no route' });
  });

  it('URLRewrite ReplacePrefixMatch / strips the prefix: /api -> /, /api/v1/x -> /v1/x', () => {
    const w = world(`${BACKENDS}${gw(HTTP80)}${route('HTTPRoute', 'strip', `  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api/}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [{name: web, port: 80}]`)}`, gatewayPod('gw'));
    const upstreamPath = (path: string): string => forwardedPath(w.expect(get(path), { cluster: cluster('web', 80) }).raw.route, path);
    assert.equal(upstreamPath('/api'), '/');
    assert.equal(upstreamPath('/api/'), '/');
    assert.equal(upstreamPath('/api/v1/x?q=1'), '/v1/x?q=1');
    w.expect(get('/apis'), { error: 'no route' });
  });

  it('a request timeout and a mirror reach the Envoy route', () => {
    const w = world(`${BACKENDS}${gw(HTTP80)}${route('HTTPRoute', 'mirror', `  parentRefs: [{name: gw}]
  rules:
  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: v2, port: 8080}, percent: 10}}]
    timeouts: {request: 3s}
    backendRefs: [{name: v1, port: 8080}]`)}`, gatewayPod('gw'));
    const r = w.expect(get('/'), { cluster: cluster('v1', 8080) });
    const action = r.raw.route?.action;
    assert.equal(action?.case, 'route');
    if (action?.case !== 'route') return;
    assert.equal(action.value.timeout?.seconds, 3n);
    assert.deepEqual(action.value.requestMirrorPolicies.map((m) => m.cluster), [cluster('v2', 8080)]);
  });
});

describe('TLS and TCP listeners', () => {
  it('HTTPS Terminate serves the route over TLS with the listener certificate', () => {
    const w = world(`${svc('web', 80)}${gw(`  - name: https
    port: 443
    protocol: HTTPS
    hostname: web.example.com
    tls: {mode: Terminate, certificateRefs: [{name: web-cert}]}`)}${route('HTTPRoute', 'web', `  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: web, port: 80}]}]`)}`, gatewayPod('gw'));
    const r = w.expect(
      { port: 443, protocol: 'http', tls: 'tls', callMode: 'gateway', host: 'web.example.com', sni: 'web.example.com', path: '/' },
      { routeConfig: 'https.443.default.gw~istio-autogenerated-k8s-gateway~https.default', virtualHost: 'web.example.com:443', cluster: cluster('web', 80) },
    );
    assert.ok(r.raw.filterChain?.transportSocket !== undefined, 'the chain terminates TLS');
  });

  it('TLS Passthrough routes by SNI to the TLSRoute backend; other SNIs find no chain', () => {
    const w = world(`${svc('a', 443)}${svc('b', 8443)}${gw('  - {name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}')}${route(
      'TLSRoute',
      'a',
      `  parentRefs: [{name: gw}]\n  hostnames: [a.example.com]\n  rules: [{backendRefs: [{name: a, port: 443}]}]`,
    )}${route('TLSRoute', 'b', `  parentRefs: [{name: gw}]\n  hostnames: ["*.b.example.com"]\n  rules: [{backendRefs: [{name: b, port: 8443}]}]`)}`, gatewayPod('gw'));
    const tls = (sni: string): Call => ({ port: 443, protocol: 'tls', callMode: 'gateway', sni });
    w.expect(tls('a.example.com'), { tcpCluster: cluster('a', 443), cluster: cluster('a', 443) });
    w.expect(tls('x.b.example.com'), { tcpCluster: cluster('b', 8443), cluster: cluster('b', 8443) });
    w.expect(tls('c.example.com'), { error: 'no filter chain' });
  });

  it('a TCPRoute forwards the listener port to its backend', () => {
    const w = world(`${svc('pg', 5432)}${gw('  - {name: db, port: 5432, protocol: TCP}')}${route(
      'TCPRoute',
      'pg',
      '  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: pg, port: 5432}]}]',
      'default',
      'gateway.networking.k8s.io/v1alpha2',
    )}`, gatewayPod('gw'));
    w.expect({ port: 5432, protocol: 'tcp', callMode: 'gateway' }, { tcpCluster: cluster('pg', 5432), cluster: cluster('pg', 5432) });
  });

  it('a GRPCRoute method match routes the gRPC call', () => {
    const w = world(`${svc('echo', 9090)}${svc('fallback', 9090)}${gw(HTTP80)}${route('GRPCRoute', 'echo', `  parentRefs: [{name: gw}]
  rules:
  - matches: [{method: {service: echo.Echo, method: Say}}]
    backendRefs: [{name: echo, port: 9090}]
  - backendRefs: [{name: fallback, port: 9090}]`)}`, gatewayPod('gw'));
    w.expect({ port: 80, protocol: 'grpc', callMode: 'gateway', host: 'grpc.example.com', path: '/echo.Echo/Say', method: 'POST' }, { cluster: cluster('echo', 9090) });
    w.expect({ port: 80, protocol: 'grpc', callMode: 'gateway', host: 'grpc.example.com', path: '/echo.Echo/Shout', method: 'POST' }, { cluster: cluster('fallback', 9090) });
  });
});

describe('bad input: reported, never half-applied', () => {
  it('a missing backend answers 500 and is reported as BackendNotFound', () => {
    const w = world(`${gw(HTTP80)}${route('HTTPRoute', 'r', '  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: ghost, port: 80}]}]')}`, gatewayPod('gw'));
    const r = w.expect(get('/'), { cluster: cluster('ghost', 80), error: 'cluster not found' });
    assert.equal(clusterNotFoundStatus(r.raw.route), 500);
    assert.deepEqual(w.problems, ['HTTPRoute default/r spec.rules[0].backendRefs[0]: BackendNotFound: backend(ghost.default.svc.cluster.local) not found']);
  });

  it("a missing backend among weighted ones keeps its share, which answers 500; the others' share is served", () => {
    const w = world(`${svc('web', 80)}${gw(HTTP80)}${route('HTTPRoute', 'r', '  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: web, port: 80, weight: 3}, {name: ghost, port: 80, weight: 1}]}]')}`, gatewayPod('gw'));
    const r = w.expect(get('/'), { weightedClusters: [{ name: cluster('web', 80), weight: 3 }, { name: cluster('ghost', 80), weight: 1 }] }, false);
    assert.deepEqual(w.resources.clusters.filter((c) => c.name.endsWith('.svc.cluster.local')).map((c) => c.name), [cluster('web', 80)]);
    assert.equal(clusterNotFoundStatus(r.raw.route), 500);
  });

  it('a cross-namespace backend without a ReferenceGrant answers 500 (RefNotPermitted); with one it is reached', () => {
    const base = `${svc('web', 80, 'shop')}${gw(HTTP80)}${route('HTTPRoute', 'r', '  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: web, namespace: shop, port: 80}]}]')}`;
    const denied = world(base, gatewayPod('gw'));
    // Istio keeps the destination without its host: the route goes to `UnknownService`, a cluster no one has.
    const r = denied.expect(get('/'), { cluster: 'UnknownService', error: 'cluster not found' });
    assert.equal(clusterNotFoundStatus(r.raw.route), 500);
    assert.deepEqual(denied.problems, [
      'HTTPRoute default/r spec.rules[0].backendRefs[0]: RefNotPermitted: backendRef web/shop not accessible to a HTTPRoute in namespace "default" (missing a ReferenceGrant?)',
    ]);
    const granted = world(`${base}---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: routes-from-default, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
  to: [{group: "", kind: Service}]
`, gatewayPod('gw'));
    granted.expect(get('/'), { cluster: cluster('web', 80, 'shop') });
    assert.deepEqual(granted.problems, []);
  });

  it('a route from a namespace the listener does not admit is not served (NotAllowedByListeners)', () => {
    const w = world(`${svc('web', 80, 'team')}${gw(HTTP80)}${route('HTTPRoute', 'r', '  parentRefs: [{name: gw, namespace: default}]\n  rules: [{backendRefs: [{name: web, port: 80}]}]', 'team')}`, gatewayPod('gw'));
    w.expect(get('/'), { routeConfig: 'http.80', error: 'no route' });
    assert.deepEqual(w.problems, ['HTTPRoute team/r spec.parentRefs[0]: NotAllowedByListeners: hostnames matched parent hostname "", but namespace "team" is not allowed by the parent']);
  });

  it('a route with one unconvertible rule applies none of its rules', () => {
    const w = world(`${svc('web', 80)}${gw(HTTP80)}${route('HTTPRoute', 'r', `  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: Exact, value: /ok}}]
    backendRefs: [{name: web, port: 80}]
  - filters: [{type: ExtensionRef, extensionRef: {group: example.com, kind: Plugin, name: p}}]
    backendRefs: [{name: web, port: 80}]`)}`, gatewayPod('gw'));
    w.expect(get('/ok'), { error: 'no route' });
    assert.equal(w.problems.length, 1);
    assert.match(w.problems[0] ?? '', /^HTTPRoute default\/r spec\.rules\[1\]\.filters\[0\]: InvalidFilter: .*the route is not applied$/);
  });
});
