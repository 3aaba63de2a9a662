// Gateway (router) listeners (Istio gateway.go, model/gateway.go mergeGateways): HTTP, HTTPS with every TLS
// mode, PASSTHROUGH and AUTO_PASSTHROUGH, TCP servers, merging of several Gateways, and the conflicts Istio
// refuses. Simulated calls stop at RDS (route configs are the route translation's) or at the tcp_proxy.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assertGolden } from '../../support/golden.js';
import { expectRoute } from '../../support/simulate.js';
import { buildFor, k8sService, listener } from './harness.js';

const NO_CLUSTERS = { requireClusters: false } as const;
const GW = { type: 'router', name: 'istio-ingressgateway-abc', namespace: 'istio-system', labels: { istio: 'ingressgateway' }, ip: '10.1.0.200' } as const;

function example(...files: string[]): string {
  return files.map((f) => readFileSync(new URL(`../../../examples/bookinfo/${f}.yaml`, import.meta.url), 'utf8')).join('\n---\n');
}

function gateway(name: string, servers: string, ns = 'istio-system'): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {istio: ingressgateway}
  servers:
${servers}
---
`;
}

describe('gateway: bookinfo', () => {
  const b = buildFor(example('platform', 'gateway', 'ingress-gateway'), GW);

  it('golden: one HTTP listener 0.0.0.0_8080 with RDS http.8080', () => {
    assertGolden('listener/gateway-bookinfo', b.dump);
  });

  it('a GET to the gateway on 8080 asks RDS for http.8080', () => {
    expectRoute(b.resources, { port: 8080, protocol: 'http', host: 'bookinfo.example.com', path: '/productpage', callMode: 'gateway' }, { listener: '0.0.0.0_8080', routeConfig: 'http.8080', error: 'no route config' }, NO_CLUSTERS);
  });

  it('the gateway HCM uses the remote address and sanitizes XFCC', () => {
    const r = expectRoute(b.resources, { port: 8080, protocol: 'http', callMode: 'gateway' }, { error: 'no route config' }, NO_CLUSTERS);
    assert.equal(r.raw.hcm?.useRemoteAddress, true);
    assert.deepEqual(r.httpFilters, ['istio.metadata_exchange', 'istio.alpn', 'envoy.filters.http.fault', 'envoy.filters.http.cors', 'istio.stats', 'envoy.filters.http.router']);
  });
});

describe('gateway: port translation through the gateway Service', () => {
  it('a server on Service port 80 listens on the target port 8080, route http.8080', () => {
    const yaml = example('ingress-gateway') + '\n---\n' + gateway('gw', `  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]`);
    const b = buildFor(yaml, GW);
    assert.deepEqual(b.listeners.map((l) => l.name), ['0.0.0.0_8080']);
    expectRoute(b.resources, { port: 8080, protocol: 'http', callMode: 'gateway' }, { routeConfig: 'http.8080', error: 'no route config' }, NO_CLUSTERS);
  });

  it('a GRPC-WEB server gets the grpc_web filter, after the security filters and before istio.alpn (as Istio orders it)', () => {
    const yaml = example('ingress-gateway') + '\n---\n' + gateway('gw', `  - port: {number: 80, name: grpc-web, protocol: GRPC-WEB}
    hosts: ["*"]`);
    const r = expectRoute(buildFor(yaml, GW).resources, { port: 8080, protocol: 'http', callMode: 'gateway' }, { error: 'no route config' }, NO_CLUSTERS);
    assert.deepEqual(r.httpFilters, ['istio.metadata_exchange', 'envoy.filters.http.grpc_web', 'istio.alpn', 'envoy.filters.http.fault', 'envoy.filters.http.cors', 'istio.stats', 'envoy.filters.http.router']);
  });
});

describe('gateway: HTTPS termination', () => {
  const yaml = gateway('web', `  - port: {number: 443, name: https-simple, protocol: HTTPS}
    hosts: ["*.example.com"]
    tls: {mode: SIMPLE, credentialName: example-cert, minProtocolVersion: TLSV1_2}
  - port: {number: 443, name: https-mutual, protocol: HTTPS}
    hosts: [secure.example.org]
    tls: {mode: MUTUAL, credentialName: secure-cert, subjectAltNames: [client.example.org]}
  - port: {number: 443, name: https-mesh, protocol: HTTPS}
    hosts: [mesh.internal]
    tls: {mode: ISTIO_MUTUAL}
  - port: {number: 443, name: https-files, protocol: HTTPS}
    hosts: [files.example.net]
    tls: {mode: SIMPLE, serverCertificate: /etc/certs/tls.crt, privateKey: /etc/certs/tls.key}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*.example.com"]
    tls: {httpsRedirect: true}`);
  const b = buildFor(yaml, GW);

  it('golden: one SNI chain per HTTPS server with its DownstreamTlsContext and route config', () => {
    assertGolden('listener/gateway-https', b.dump);
  });

  it('TLS for www.example.com terminates on the SIMPLE chain and routes with https.443.https-simple.web.istio-system', () => {
    expectRoute(b.resources, { port: 443, protocol: 'http', tls: 'tls', sni: 'www.example.com', host: 'www.example.com', callMode: 'gateway' }, {
      listener: '0.0.0.0_443',
      routeConfig: 'https.443.https-simple.web.istio-system',
      error: 'no route config',
    }, NO_CLUSTERS);
  });

  it('MUTUAL requires a client certificate', () => {
    expectRoute(b.resources, { port: 443, protocol: 'http', tls: 'tls', sni: 'secure.example.org', callMode: 'gateway' }, { listener: '0.0.0.0_443', error: 'mtls required' }, NO_CLUSTERS);
    expectRoute(b.resources, { port: 443, protocol: 'http', tls: 'mtls', sni: 'secure.example.org', alpn: ['h2'], callMode: 'gateway' }, { routeConfig: 'https.443.https-mutual.web.istio-system', error: 'no route config' }, NO_CLUSTERS);
  });

  it('plaintext to the TLS port finds no chain', () => {
    expectRoute(b.resources, { port: 443, protocol: 'http', callMode: 'gateway' }, { listener: '0.0.0.0_443', error: 'no filter chain' }, NO_CLUSTERS);
  });

  it('the HTTP server with httpsRedirect still gets the plain http.80 listener', () => {
    expectRoute(b.resources, { port: 80, protocol: 'http', host: 'www.example.com', callMode: 'gateway' }, { listener: '0.0.0.0_80', routeConfig: 'http.80', error: 'no route config' }, NO_CLUSTERS);
  });

  it('HTTPS chains carry the server name as stat prefix only when the server is named', () => {
    const named = buildFor(gateway('web', `  - name: public
    port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a}`), GW);
    const r = expectRoute(named.resources, { port: 443, protocol: 'http', tls: 'tls', sni: 'a.example.com', callMode: 'gateway' }, { error: 'no route config' }, NO_CLUSTERS);
    assert.equal(r.raw.hcm?.statPrefix, 'public');
  });
});

describe('gateway: TLS passthrough and TCP', () => {
  const yaml = [
    k8sService('nginx', [{ port: 443, name: 'https' }]),
    k8sService('mysql', [{ port: 3306, name: 'tcp' }]),
    gateway('edge', `  - port: {number: 443, name: tls-passthrough, protocol: TLS}
    hosts: [nginx.example.com, "*.shop.example.com"]
    tls: {mode: PASSTHROUGH}
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]`),
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: nginx}
spec:
  hosts: [nginx.example.com]
  gateways: [istio-system/edge]
  tls:
  - match: [{port: 443, sniHosts: [nginx.example.com]}]
    route: [{destination: {host: nginx.default.svc.cluster.local, port: {number: 443}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mysql}
spec:
  hosts: ["*"]
  gateways: [istio-system/edge]
  tcp:
  - match: [{port: 31400}]
    route: [{destination: {host: mysql.default.svc.cluster.local, port: {number: 3306}}}]
`,
  ].join('\n');
  const b = buildFor(yaml, GW);

  it('golden: SNI passthrough chains and a TCP proxy listener', () => {
    assertGolden('listener/gateway-passthrough-tcp', b.dump);
  });

  it('TLS with SNI nginx.example.com is proxied, still encrypted, to the nginx service', () => {
    expectRoute(b.resources, { port: 443, protocol: 'tls', sni: 'nginx.example.com', callMode: 'gateway' }, { listener: '0.0.0.0_443', tcpCluster: 'outbound|443||nginx.default.svc.cluster.local' }, NO_CLUSTERS);
  });

  it('a server host without a tls route gets no chain: that SNI finds nothing', () => {
    expectRoute(b.resources, { port: 443, protocol: 'tls', sni: 'a.shop.example.com', callMode: 'gateway' }, { error: 'no filter chain' }, NO_CLUSTERS);
  });

  it('TCP on 31400 goes to the VirtualService tcp route', () => {
    expectRoute(b.resources, { port: 31400, protocol: 'tcp', callMode: 'gateway' }, { listener: '0.0.0.0_31400', tcpCluster: 'outbound|3306||mysql.default.svc.cluster.local' }, NO_CLUSTERS);
  });

  it('only an ISTIO_MUTUAL TCP server starts its chain with the TCP metadata exchange (includeMx)', () => {
    const mesh = buildFor(
      yaml +
        '\n---\n' +
        gateway('mesh-tcp', `  - port: {number: 15443, name: tls-mesh, protocol: TLS}
    hosts: ["*"]
    tls: {mode: ISTIO_MUTUAL}`) +
        `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mysql-mesh}
spec:
  hosts: ["*"]
  gateways: [istio-system/mesh-tcp]
  tcp:
  - route: [{destination: {host: mysql.default.svc.cluster.local, port: {number: 3306}}}]
`,
      GW,
    );
    const names = (l: string): string[] => {
      const x = listener(mesh, l);
      const c = x.filterChains[0] ?? x.defaultFilterChain;
      return (c?.filters ?? []).map((f) => f.name);
    };
    assert.deepEqual(names('0.0.0.0_15443'), ['istio.metadata_exchange', 'istio.stats', 'envoy.filters.network.tcp_proxy']);
    assert.deepEqual(names('0.0.0.0_31400'), ['istio.stats', 'envoy.filters.network.tcp_proxy']);
    // Its TLS offers the exchange's ALPN (ALPNDownstreamWithMxc).
    const tls = listener(mesh, '0.0.0.0_15443').filterChains[0]?.transportSocket?.configType;
    assert.ok(tls?.case === 'typedConfig' && Buffer.from(tls.value.value).toString('latin1').includes('istio-peer-exchange'));
  });

  it('a TCP server no route matches gets no listener, and it is reported', () => {
    const b2 = buildFor(gateway('lonely', `  - port: {number: 9000, name: tcp, protocol: TCP}
    hosts: ["*"]`), GW);
    assert.deepEqual(b2.listeners, []);
    assert.match(b2.issues.map((i) => i.message).join('\n'), /listener missed network filter[\s\S]*omitting listener "0\.0\.0\.0_9000"/);
  });
});

describe('gateway: AUTO_PASSTHROUGH', () => {
  const yaml = [
    k8sService('reviews', [{ port: 9080, name: 'http' }]),
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
---
`,
    gateway('cross-network', `  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ["*.local"]
    tls: {mode: AUTO_PASSTHROUGH}`),
  ].join('\n');
  const b = buildFor(yaml, GW);

  it('golden: one chain per service port and subset, matched on Istio`s DNS-style SNI and mTLS ALPN', () => {
    assertGolden('listener/gateway-auto-passthrough', b.dump);
  });

  it('an Istio mTLS connection with SNI outbound_.9080_.v1_.<host> reaches that cluster', () => {
    expectRoute(b.resources, { port: 15443, protocol: 'tls', tls: 'mtls', sni: 'outbound_.9080_.v1_.reviews.default.svc.cluster.local', callMode: 'gateway' }, {
      tcpCluster: 'outbound_.9080_.v1_.reviews.default.svc.cluster.local',
    }, NO_CLUSTERS);
  });

  it('the same SNI without Istio`s ALPN matches nothing', () => {
    expectRoute(b.resources, { port: 15443, protocol: 'tls', sni: 'outbound_.9080_._.reviews.default.svc.cluster.local', alpn: ['h2'], callMode: 'gateway' }, { error: 'no filter chain' }, NO_CLUSTERS);
  });
});

describe('gateway: merging several Gateways', () => {
  it('HTTP servers of two Gateways on one port share the listener and http.<port>', () => {
    const b = buildFor(gateway('a', `  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [a.example.com]`) + gateway('b', `  - port: {number: 80, name: http2, protocol: HTTP2}
    hosts: [b.example.com]`, 'default'), GW);
    assert.deepEqual(b.listeners.map((l) => l.name), ['0.0.0.0_80']);
    assert.equal(listener(b, '0.0.0.0_80').filterChains.length, 1);
    assert.deepEqual(b.issues, []);
  });

  it('HTTPS servers of two Gateways on one port get one SNI chain each', () => {
    const b = buildFor(gateway('a', `  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a}`) + gateway('b', `  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [b.example.com]
    tls: {mode: SIMPLE, credentialName: b}`, 'default'), GW);
    expectRoute(b.resources, { port: 443, protocol: 'http', tls: 'tls', sni: 'a.example.com', callMode: 'gateway' }, { routeConfig: 'https.443.https.a.istio-system', error: 'no route config' }, NO_CLUSTERS);
    expectRoute(b.resources, { port: 443, protocol: 'http', tls: 'tls', sni: 'b.example.com', callMode: 'gateway' }, { routeConfig: 'https.443.https.b.default', error: 'no route config' }, NO_CLUSTERS);
  });

  it('a TLS host claimed twice on a port: the second server is dropped and reported', () => {
    const b = buildFor(gateway('a', `  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a}`) + gateway('b', `  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: b}`), GW);
    assert.equal(listener(b, '0.0.0.0_443').filterChains.length, 1);
    assert.deepEqual(b.issues.map((i) => [i.path, i.message]), [['Gateway istio-system/b spec.servers[0]', 'skipping server on gateway istio-system/b, duplicate host names: a.example.com']]);
  });

  it('a TCP server on a port an HTTP server holds is dropped and reported', () => {
    const b = buildFor(gateway('a', `  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 80, name: tcp, protocol: TCP}
    hosts: ["*"]`), GW);
    expectRoute(b.resources, { port: 80, protocol: 'http', callMode: 'gateway' }, { routeConfig: 'http.80', error: 'no route config' }, NO_CLUSTERS);
    assert.match(b.issues[0]?.message ?? '', /skipping server on gateway a port tcp\.80\.TCP: conflict with existing server 80\.HTTP/);
  });

  it('a router no Gateway selects has no listeners', () => {
    const b = buildFor(gateway('a', `  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]`), { ...GW, labels: { istio: 'egressgateway' } });
    assert.deepEqual(b.listeners, []);
  });
});
