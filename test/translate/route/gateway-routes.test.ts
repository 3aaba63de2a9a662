// Gateway route configurations (Istio gateway.go buildGatewayHTTPRouteConfig): route names per server,
// virtual hosts from the VirtualServices bound to the Gateway, httpsRedirect, namespace-scoped server hosts,
// the 404 blackhole, and what requests through the gateway reach.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { VirtualHost_TlsRequirementType as TlsRequirement } from '../../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import { assertGolden } from '../../support/golden.js';
import type { Call } from '../../support/simulate.js';
import { routeWorld, service } from './harness.js';

const CORPUS = new URL('../../../../shared/corpus/istio-bookinfo/', import.meta.url);
const INGRESS = { type: 'router', namespace: 'istio-system', name: 'istio-ingressgateway-abc', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' } } as const;

const GATEWAY_SERVICE = `---
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
`;
const BACKENDS = `${service('productpage', { ip: '10.96.0.50' })}${service('reviews', { ip: '10.96.0.10', ports: ['http:9080', 'http-admin:9090'] })}`;
const get = (o: Partial<Call>): Call => ({ port: 8080, protocol: 'http', callMode: 'gateway', host: 'bookinfo.example.com', ...o });

describe("Istio's bookinfo-gateway.yaml", () => {
  const w = routeWorld(`${GATEWAY_SERVICE}${BACKENDS}---\n${readFileSync(new URL('networking/bookinfo-gateway.yaml', CORPUS), 'utf8')}`, INGRESS);
  it('one route config http.8080 with a * virtual host', () => {
    assert.deepEqual(w.routes.map((r) => r.name), ['http.8080']);
    assertGolden('route/gateway-bookinfo', w.dump);
  });
  it('the listed paths reach productpage; others get 404 (no route)', () => {
    w.expect(get({ path: '/productpage' }), { routeConfig: 'http.8080', virtualHost: '*:8080', cluster: 'outbound|9080||productpage.default.svc.cluster.local' });
    w.expect(get({ path: '/static/css/x.css', host: 'anything' }), { cluster: 'outbound|9080||productpage.default.svc.cluster.local' });
    w.expect(get({ path: '/admin' }), { error: 'no route' });
  });
});

const gw = (servers: string, name = 'gw', ns = 'istio-system'): string => `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {istio: ingressgateway}
  servers:
${servers}
`;
const vs = (name: string, hosts: string, http: string, ns = 'default', gateways = 'istio-system/gw'): string => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hosts: ${hosts}
  gateways: [${gateways}]
  http:
${http}
`;
const toProductpage = `  - route:
    - destination: {host: productpage.default.svc.cluster.local}`;

describe('servers and route names', () => {
  it('a server port is translated to the gateway Service target port; virtual hosts keep the server port', () => {
    const w = routeWorld(`${GATEWAY_SERVICE}${BACKENDS}${gw(`  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [bookinfo.example.com]`)}${vs('bookinfo', '[bookinfo.example.com]', toProductpage)}`, INGRESS);
    assert.deepEqual(w.routes.map((r) => r.name), ['http.8080']);
    assert.deepEqual(w.route('http.8080').virtualHosts.map((v) => [v.name, v.domains]), [['bookinfo.example.com:80', ['bookinfo.example.com']]]);
    w.expect(get({}), { cluster: 'outbound|9080||productpage.default.svc.cluster.local' });
    w.expect(get({ host: 'other.example.com' }), { error: 'no virtual host' });
  });

  it('a destination without a port on a multi-port service takes the server port', () => {
    const w = routeWorld(`${GATEWAY_SERVICE}${BACKENDS}${gw(`  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]`)}${vs('reviews', '["*"]', `  - route:
    - destination: {host: reviews.default.svc.cluster.local}`)}`, INGRESS);
    w.expect(get({}), { cluster: 'outbound|80||reviews.default.svc.cluster.local' });
  });

  it('TLS-terminating HTTPS gets its own route config, where redirects assume https (no explicit :443)', () => {
    const w = routeWorld(`${GATEWAY_SERVICE}${BACKENDS}${gw(`  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [bookinfo.example.com]
    tls: {mode: SIMPLE, credentialName: bookinfo-cert}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [bookinfo.example.com]`)}${vs('bookinfo', '[bookinfo.example.com]', `  - match: [{uri: {exact: /moved}}]
    redirect: {uri: /new, port: 443}
${toProductpage}`)}`, INGRESS);
    assert.deepEqual(w.routes.map((r) => r.name).sort(), ['http.8080', 'https.443.https.gw.istio-system']);
    assertGolden('route/gateway-https', w.dump);
    // The https name keeps the server port (443) while the listener binds 8443; the harness binds the name's port.
    w.expect(get({ port: 443, tls: 'tls', path: '/moved' }), { routeConfig: 'https.443.https.gw.istio-system', redirect: { responseCode: 301, path: '/new' } });
    w.expect(get({ port: 8080, path: '/moved' }), { routeConfig: 'http.8080', redirect: { responseCode: 301, port: 443, path: '/new' } });
  });

  it('httpsRedirect: every virtual host of the server requires TLS, hosts without routes only redirect', () => {
    const w = routeWorld(`${GATEWAY_SERVICE}${BACKENDS}${gw(`  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [bookinfo.example.com, other.example.com]
    tls: {httpsRedirect: true}`)}${vs('bookinfo', '[bookinfo.example.com]', toProductpage)}`, INGRESS);
    const vhosts = w.route('http.8080').virtualHosts;
    assert.deepEqual(vhosts.map((v) => [v.name, v.requireTls, v.routes.length]), [
      ['bookinfo.example.com:80', TlsRequirement.ALL, 1],
      ['other.example.com:80', TlsRequirement.ALL, 0],
    ]);
    w.expect(get({ host: 'other.example.com' }), { error: 'tls redirect' });
  });

  it('no VirtualService: a blackhole virtual host, so every request gets 404', () => {
    const w = routeWorld(`${GATEWAY_SERVICE}${BACKENDS}${gw(`  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]`)}`, INGRESS);
    assert.deepEqual(w.route('http.8080').virtualHosts.map((v) => [v.name, v.domains, v.routes.length]), [['blackhole:80', ['*'], 0]]);
    w.expect(get({}), { virtualHost: 'blackhole:80', error: 'no route' });
  });
});

describe('virtual hosts from VirtualServices', () => {
  it('namespace-scoped server hosts take VirtualServices from that namespace only', () => {
    const w = routeWorld(`${GATEWAY_SERVICE}${BACKENDS}${gw(`  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["default/*.example.com"]`)}${vs('ok', '[a.example.com]', toProductpage)}${vs('other-ns', '[b.example.com]', toProductpage, 'team')}---
apiVersion: v1
kind: Namespace
metadata: {name: team}
`, INGRESS);
    assert.deepEqual(w.route('http.8080').virtualHosts.map((v) => v.name), ['a.example.com:80']);
  });

  it('hosts with the same routes share one virtual host; VirtualServices on one host merge, catch-alls last', () => {
    const w = routeWorld(`${GATEWAY_SERVICE}${BACKENDS}${gw(`  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]`)}${vs('shop', '[a.example.com, b.example.com]', toProductpage)}${vs('api', '[a.example.com]', `  - match: [{uri: {prefix: /api}}]
    route:
    - destination: {host: reviews.default.svc.cluster.local, port: {number: 9080}}`)}`, INGRESS);
    const vhosts = w.route('http.8080').virtualHosts;
    assert.deepEqual(vhosts.map((v) => [v.name, v.domains]), [
      ['a.example.com:80', ['a.example.com']],
      ['b.example.com:80', ['b.example.com']],
    ]);
    w.expect(get({ host: 'a.example.com', path: '/api/x' }), { cluster: 'outbound|9080||reviews.default.svc.cluster.local' });
    w.expect(get({ host: 'a.example.com', path: '/' }), { cluster: 'outbound|9080||productpage.default.svc.cluster.local' });
    w.expect(get({ host: 'b.example.com', path: '/api/x' }), { cluster: 'outbound|9080||productpage.default.svc.cluster.local' });
    const collapsed = routeWorld(`${GATEWAY_SERVICE}${BACKENDS}${gw(`  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]`)}${vs('shop', '[b.example.com, a.example.com]', toProductpage)}`, INGRESS);
    assert.deepEqual(collapsed.route('http.8080').virtualHosts.map((v) => [v.name, v.domains]), [['a.example.com:80', ['a.example.com', 'b.example.com']]]);
  });

  it('match gateways keep a rule for the listed gateway only; JWT claims route on the gateway', () => {
    const w = routeWorld(`${GATEWAY_SERVICE}${BACKENDS}${gw(`  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]`)}${vs('shop', '[shop.example.com]', `  - match:
    - gateways: [mesh]
    route:
    - destination: {host: reviews.default.svc.cluster.local, port: {number: 9080}}
  - match:
    - headers:
        "@request.auth.claims.group": {exact: beta}
    route:
    - destination: {host: reviews.default.svc.cluster.local, port: {number: 9090}}
${toProductpage}`)}`, INGRESS);
    const routes = w.route('http.8080').virtualHosts[0]?.routes ?? [];
    assert.equal(routes.length, 2);
    assert.deepEqual(routes[0]?.match?.dynamicMetadata[0]?.path.map((p) => p.segment.value), ['payload', 'group']);
    assert.equal(routes[0]?.match?.dynamicMetadata[0]?.filter, 'envoy.filters.http.jwt_authn');
    const last = routes[1];
    assert.equal(last?.action.case === 'route' && last.action.value.clusterSpecifier.case === 'cluster' ? last.action.value.clusterSpecifier.value : '', 'outbound|9080||productpage.default.svc.cluster.local');
  });
});
