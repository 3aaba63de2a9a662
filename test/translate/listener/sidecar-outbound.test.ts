// Sidecar outbound listeners (Istio listener.go / tls.go / networkfilter.go): goldens per listener kind, and
// simulations of where a captured connection lands: which listener, which chain, which tcp_proxy cluster or
// RDS route config. Routes and clusters are other builders' output, so clusters are not required here.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { expectRoute } from '../../support/simulate.js';
import { DEFAULT_MESH_CONFIG } from '../../../src/model/mesh-config.js';
import { buildFor, k8sService, listener } from './harness.js';

const NO_CLUSTERS = { requireClusters: false } as const;
const CLIENT = { name: 'sleep', labels: { app: 'sleep' }, ip: '10.1.0.99' };

describe('sidecar outbound: HTTP ports', () => {
  const yaml = [k8sService('reviews', [{ port: 9080, name: 'http' }], { clusterIP: '10.0.0.10' }), k8sService('ratings', [{ port: 9080, name: 'http-web' }])].join('\n');
  const b = buildFor(yaml, CLIENT);

  it('golden: one shared 0.0.0.0_9080 listener sniffing HTTP, RDS 9080, passthrough default chain', () => {
    assertGolden('listener/sidecar-outbound-http', b.dump);
  });

  it('an HTTP call to either service on 9080 lands on 0.0.0.0_9080 and asks RDS for route config 9080', () => {
    for (const address of ['10.0.0.10', '10.0.0.77']) {
      expectRoute(b.resources, { port: 9080, address, protocol: 'http', host: 'reviews' }, { listener: '0.0.0.0_9080', routeConfig: '9080', error: 'no route config' }, NO_CLUSTERS);
    }
  });

  it('raw TCP to the HTTP port is passed through to the original destination', () => {
    expectRoute(b.resources, { port: 9080, address: '10.0.0.10', protocol: 'tcp' }, { listener: '0.0.0.0_9080', filterChain: 'PassthroughFilterChain', cluster: 'PassthroughCluster', tcpCluster: 'PassthroughCluster' }, NO_CLUSTERS);
  });

  it('the router filter is the last HTTP filter, after metadata exchange, fault, cors and stats', () => {
    const r = expectRoute(b.resources, { port: 9080, protocol: 'http' }, { error: 'no route config' }, NO_CLUSTERS);
    assert.deepEqual(r.httpFilters, ['istio.metadata_exchange', 'istio.alpn', 'envoy.filters.http.fault', 'envoy.filters.http.cors', 'istio.stats', 'envoy.filters.http.router']);
  });

  it('no outbound listener is built on the proxy`s own ports (15001/15006/15021/15090) for HTTP services', () => {
    const b2 = buildFor(k8sService('status', [{ port: 15021, name: 'http-status' }]), CLIENT);
    assert.deepEqual(b2.listeners.map((l) => l.name), ['virtualInbound', 'virtualOutbound']);
  });
});

describe('sidecar outbound: TCP ports', () => {
  const yaml = [
    k8sService('mongo', [{ port: 27017, name: 'tcp-mongo' }], { clusterIP: '10.0.0.20' }),
    k8sService('db', [{ port: 5432, name: 'tcp' }], { clusterIP: '10.0.0.21' }),
    k8sService('legacy', [{ port: 7000, name: 'tcp' }]),
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db}
spec:
  host: db
  trafficPolicy:
    connectionPool: {tcp: {idleTimeout: 1h, maxConnectionDuration: 30m}}
    loadBalancer: {consistentHash: {useSourceIp: true}}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db}
spec:
  hosts: [db]
  tcp:
  - match: [{port: 5432}]
    route:
    - {destination: {host: db, subset: v1}, weight: 80}
    - {destination: {host: db, subset: v2}, weight: 20}`,
  ].join('\n');
  const b = buildFor(yaml, CLIENT);

  it('golden: VIP listeners with tcp_proxy, weighted routes, DestinationRule timeouts and source-IP hashing', () => {
    assertGolden('listener/sidecar-outbound-tcp', b.dump);
  });

  it('a TCP connection to the service VIP goes to outbound|<port>||<host>', () => {
    expectRoute(b.resources, { port: 27017, address: '10.0.0.20', protocol: 'tcp' }, { listener: '10.0.0.20_27017', tcpCluster: 'outbound|27017||mongo.default.svc.cluster.local' }, NO_CLUSTERS);
  });

  it('a VirtualService tcp route splits the connection 80/20 between subsets', () => {
    expectRoute(b.resources, { port: 5432, address: '10.0.0.21', protocol: 'tcp' }, {
      listener: '10.0.0.21_5432',
      weightedClusters: [
        { name: 'outbound|5432|v1|db.default.svc.cluster.local', weight: 80 },
        { name: 'outbound|5432|v2|db.default.svc.cluster.local', weight: 20 },
      ],
    }, NO_CLUSTERS);
  });

  it('a service without a VIP listens on 0.0.0.0_<port>', () => {
    expectRoute(b.resources, { port: 7000, address: '10.9.9.9', protocol: 'tcp' }, { listener: '0.0.0.0_7000', tcpCluster: 'outbound|7000||legacy.default.svc.cluster.local' }, NO_CLUSTERS);
  });

  it('a TCP connection to an address no listener claims falls through virtualOutbound to PassthroughCluster', () => {
    expectRoute(b.resources, { port: 27017, address: '192.0.2.1', protocol: 'tcp' }, { listener: 'virtualOutbound', filterChain: 'virtualOutbound-catchall-tcp', tcpCluster: 'PassthroughCluster' }, NO_CLUSTERS);
  });
});

describe('sidecar outbound: TLS ports', () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external}
spec:
  hosts: [api.example.com, www.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: partner}
spec:
  hosts: [partner.example.org]
  addresses: [240.0.0.5]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 8443, name: https, protocol: HTTPS}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api}
spec:
  hosts: [api.example.com]
  tls:
  - match: [{port: 443, sniHosts: [api.example.com]}]
    route: [{destination: {host: api.example.com, port: {number: 443}}}]
`;
  const b = buildFor(yaml, CLIENT);

  it('golden: SNI chains on the shared 0.0.0.0_443 listener, a VIP listener without SNI', () => {
    assertGolden('listener/sidecar-outbound-tls', b.dump);
  });

  it('TLS with SNI api.example.com takes the VirtualService tls route; www.example.com its own SNI chain', () => {
    expectRoute(b.resources, { port: 443, protocol: 'tls', sni: 'api.example.com' }, { listener: '0.0.0.0_443', tcpCluster: 'outbound|443||api.example.com' }, NO_CLUSTERS);
    expectRoute(b.resources, { port: 443, protocol: 'tls', sni: 'www.example.com' }, { listener: '0.0.0.0_443', tcpCluster: 'outbound|443||www.example.com' }, NO_CLUSTERS);
  });

  it('TLS to an unknown SNI on 443 is passed through', () => {
    expectRoute(b.resources, { port: 443, protocol: 'tls', sni: 'evil.example.net' }, { listener: '0.0.0.0_443', filterChain: 'PassthroughFilterChain', tcpCluster: 'PassthroughCluster' }, NO_CLUSTERS);
  });

  it('an HTTPS service with a VIP needs no SNI match', () => {
    expectRoute(b.resources, { port: 8443, address: '240.0.0.5', protocol: 'tls', sni: 'anything' }, { listener: '240.0.0.5_8443', tcpCluster: 'outbound|8443||partner.example.org' }, NO_CLUSTERS);
    assert.equal(listener(b, '240.0.0.5_8443').listenerFilters.length, 0, 'no TLS inspector without SNI chains');
  });
});

describe('sidecar outbound: protocol sniffing', () => {
  const yaml = [k8sService('web', [{ port: 8000, name: 'web' }], { clusterIP: '10.0.0.30' }), k8sService('anon', [{ port: 8001, name: 'web' }])].join('\n');
  const b = buildFor(yaml, CLIENT);

  it('golden: http_inspector, an HCM chain for http/1.1 and h2c, the TCP chain as default', () => {
    assertGolden('listener/sidecar-outbound-sniffed', b.dump);
  });

  it('HTTP/1.1 and h2c are sniffed to the HCM; a sniffed service with a VIP gets route config <host>:<port>', () => {
    expectRoute(b.resources, { port: 8000, address: '10.0.0.30', protocol: 'http' }, { listener: '10.0.0.30_8000', routeConfig: 'web.default.svc.cluster.local:8000', error: 'no route config' }, NO_CLUSTERS);
    expectRoute(b.resources, { port: 8000, address: '10.0.0.30', protocol: 'grpc' }, { listener: '10.0.0.30_8000', routeConfig: 'web.default.svc.cluster.local:8000', error: 'no route config' }, NO_CLUSTERS);
  });

  it('anything else on a sniffed port is proxied as TCP to the service', () => {
    expectRoute(b.resources, { port: 8000, address: '10.0.0.30', protocol: 'tcp' }, { listener: '10.0.0.30_8000', tcpCluster: 'outbound|8000||web.default.svc.cluster.local' }, NO_CLUSTERS);
  });

  it('a sniffed service without a VIP shares route config <port>', () => {
    expectRoute(b.resources, { port: 8001, protocol: 'http' }, { listener: '0.0.0.0_8001', routeConfig: '8001', error: 'no route config' }, NO_CLUSTERS);
  });
});

describe('sidecar outbound: headless services', () => {
  const yaml = `${k8sService('pg', [{ port: 5432, name: 'tcp' }], { clusterIP: 'None' })}
apiVersion: v1
kind: Pod
metadata: {name: pg-0, labels: {app: pg}}
spec: {containers: [{name: pg, image: pg}]}
status: {phase: Running, podIP: 10.1.0.1, podIPs: [{ip: 10.1.0.1}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pg-1, labels: {app: pg}}
spec: {containers: [{name: pg, image: pg}]}
status: {phase: Running, podIP: 10.1.0.2, podIPs: [{ip: 10.1.0.2}], conditions: [{type: Ready, status: "True"}]}
`;

  it('one listener per pod IP, and none for the proxy`s own pod', () => {
    const b = buildFor(yaml, { name: 'pg-1', labels: { app: 'pg' }, ip: '10.1.0.2' });
    assert.deepEqual(b.listeners.map((l) => l.name), ['10.1.0.1_5432', 'virtualInbound', 'virtualOutbound']);
    expectRoute(b.resources, { port: 5432, address: '10.1.0.1', protocol: 'tcp' }, { listener: '10.1.0.1_5432', tcpCluster: 'outbound|5432||pg.default.svc.cluster.local' }, NO_CLUSTERS);
  });
});

describe('sidecar outbound: outbound traffic policy', () => {
  it('REGISTRY_ONLY blackholes unknown destinations', () => {
    const b = buildFor(k8sService('reviews', [{ port: 9080, name: 'http' }]), CLIENT, { mesh: { ...DEFAULT_MESH_CONFIG, outboundTrafficPolicy: 'REGISTRY_ONLY' } });
    expectRoute(b.resources, { port: 443, address: '192.0.2.1', protocol: 'tcp' }, { listener: 'virtualOutbound', tcpCluster: 'BlackHoleCluster' }, NO_CLUSTERS);
    expectRoute(b.resources, { port: 9080, address: '192.0.2.1', protocol: 'tcp' }, { listener: '0.0.0.0_9080', filterChain: 'PassthroughFilterChain', tcpCluster: 'BlackHoleCluster' }, NO_CLUSTERS);
  });

  it('a Sidecar`s egressProxy receives unknown traffic under ALLOW_ANY', () => {
    const yaml = `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default}
spec:
  outboundTrafficPolicy:
    mode: ALLOW_ANY
    egressProxy: {host: egress.istio-system.svc.cluster.local, port: {number: 443}}
`;
    const b = buildFor(yaml, CLIENT);
    expectRoute(b.resources, { port: 443, address: '192.0.2.1', protocol: 'tcp' }, { listener: 'virtualOutbound', tcpCluster: 'outbound|443||egress.istio-system.svc.cluster.local' }, NO_CLUSTERS);
  });

  it('golden: virtualOutbound hands off by original destination and blackholes connections to 15001 itself', () => {
    const b = buildFor('', CLIENT);
    assertGolden('listener/virtual-outbound', b.dump.listeners.filter((l) => (l as { name?: string }).name === 'virtualOutbound'));
    expectRoute(b.resources, { port: 15001, address: '10.1.0.99', protocol: 'tcp' }, { listener: 'virtualOutbound', filterChain: 'virtualOutbound-blackhole', tcpCluster: 'BlackHoleCluster' }, NO_CLUSTERS);
  });
});

describe('sidecar outbound: listener conflicts', () => {
  it('HTTP and TCP services sharing a port without VIPs merge into one sniffed listener', () => {
    const b = buildFor([k8sService('a-tcp', [{ port: 9090, name: 'tcp' }]), k8sService('b-http', [{ port: 9090, name: 'http' }])].join('\n'), CLIENT);
    assertGolden('listener/sidecar-outbound-http-over-tcp', b.dump.listeners.filter((l) => (l as { name?: string }).name === '0.0.0.0_9090'));
    expectRoute(b.resources, { port: 9090, protocol: 'http' }, { listener: '0.0.0.0_9090', routeConfig: '9090', error: 'no route config' }, NO_CLUSTERS);
    expectRoute(b.resources, { port: 9090, protocol: 'tcp' }, { listener: '0.0.0.0_9090', tcpCluster: 'outbound|9090||a-tcp.default.svc.cluster.local' }, NO_CLUSTERS);
    assert.deepEqual(b.issues, []);
  });

  it('two TCP services on one port without VIPs: the first keeps it, the second is reported', () => {
    const b = buildFor([k8sService('a', [{ port: 7000, name: 'tcp' }]), k8sService('b', [{ port: 7000, name: 'tcp' }])].join('\n'), CLIENT);
    expectRoute(b.resources, { port: 7000, protocol: 'tcp' }, { tcpCluster: 'outbound|7000||a.default.svc.cluster.local' }, NO_CLUSTERS);
    assert.equal(b.issues.length, 1);
    assert.match(b.issues[0]?.message ?? '', /listener 0\.0\.0\.0_7000: a filter chain with the same match already exists .*b\.default\.svc\.cluster\.local/);
    assert.equal(b.issues[0]?.path, 'Service default/b port 7000');
  });

  it('MySQL shares its port with no other protocol: the HTTP service is reported and left out', () => {
    const b = buildFor([k8sService('a-mysql', [{ port: 3306, name: 'mysql' }]), k8sService('b-web', [{ port: 3306, name: 'http' }])].join('\n'), CLIENT);
    expectRoute(b.resources, { port: 3306, protocol: 'http' }, { listener: '0.0.0.0_3306', tcpCluster: 'outbound|3306||a-mysql.default.svc.cluster.local' }, NO_CLUSTERS);
    assert.match(b.issues.map((i) => i.message).join('\n'), /listener 0\.0\.0\.0_3306: HTTP for b-web\.default\.svc\.cluster\.local conflicts with the existing TCP listener on a well-known port/);
  });
});
