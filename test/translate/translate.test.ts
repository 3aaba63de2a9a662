// End-to-end translation goldens (Istio's pilot golden tests): the whole translate() output — listeners,
// routes, clusters, endpoints — for Bookinfo's productpage sidecar, the reviews-v1 sidecar with its inbound
// listener, the ingress gateway serving examples/bookinfo/gateway.yaml, and a proxyless gRPC client; and
// simulations of Bookinfo's calls through that output, every routed cluster required to exist.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { translate } from '../../src/translate/translate.js';
import type { ProxyResources } from '../../src/translate/resources.js';
import { assertGolden, dumpResources } from '../support/golden.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../support/mesh.js';
import { expectRoute } from '../support/simulate.js';

function example(...files: string[]): string {
  return files.map((f) => readFileSync(new URL(`../../examples/bookinfo/${f}.yaml`, import.meta.url), 'utf8')).join('\n---\n');
}

/** Running pods for Bookinfo's Deployments (the registry builds endpoints from Pods, not Deployments). */
const PODS: readonly [name: string, app: string, version: string, sa: string, ip: string][] = [
  ['productpage-v1-0', 'productpage', 'v1', 'bookinfo-productpage', '10.1.0.10'],
  ['reviews-v1-0', 'reviews', 'v1', 'bookinfo-reviews', '10.1.0.20'],
  ['reviews-v2-0', 'reviews', 'v2', 'bookinfo-reviews', '10.1.0.21'],
  ['reviews-v3-0', 'reviews', 'v3', 'bookinfo-reviews', '10.1.0.22'],
  ['ratings-v1-0', 'ratings', 'v1', 'bookinfo-ratings', '10.1.0.30'],
  ['details-v1-0', 'details', 'v1', 'bookinfo-details', '10.1.0.40'],
];

function pods(): string {
  return PODS.map(([name, app, version, sa, ip]) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default, labels: {app: ${app}, version: ${version}, security.istio.io/tlsMode: istio}}
spec: {serviceAccountName: ${sa}, containers: [{name: ${app}, image: isthmus/bookinfo-${app}, ports: [{containerPort: 9080}]}]}
status: {phase: Running, podIP: ${ip}, podIPs: [{ip: ${ip}}], conditions: [{type: Ready, status: "True"}]}
`).join('---\n');
}

const BOOKINFO = [example('platform', 'destination-rules', '../bookinfo-tasks/request-routing', 'gateway', 'ingress-gateway'), pods()].join('\n---\n');

function resourcesFor(yaml: string, proxy: TestProxyOptions): ProxyResources {
  return translate(meshFromYaml(yaml).snapshot, testProxy(proxy));
}

const PRODUCTPAGE: TestProxyOptions = { name: 'productpage-v1-0', ip: '10.1.0.10', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage' };
const REVIEWS_V1: TestProxyOptions = { name: 'reviews-v1-0', ip: '10.1.0.20', labels: { app: 'reviews', version: 'v1' }, serviceAccount: 'bookinfo-reviews' };
const INGRESS: TestProxyOptions = { type: 'router', name: 'istio-ingressgateway-0', namespace: 'istio-system', ip: '10.1.0.200', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } };
const GRPC_CLIENT: TestProxyOptions = { type: 'proxyless', name: 'client-0', ip: '10.1.0.99', labels: { app: 'client' }, locality: { region: 'r1', zone: 'z1' } };

describe('translate: Bookinfo productpage sidecar', () => {
  const res = resourcesFor(BOOKINFO, PRODUCTPAGE);

  it('golden', () => assertGolden('translate/bookinfo-productpage-sidecar', dumpResources(res)));

  it('a GET to reviews:9080 from productpage reaches outbound|9080|v1|reviews via 0.0.0.0_9080 / route 9080', () => {
    expectRoute(res, { port: 9080, protocol: 'http', host: 'reviews:9080', path: '/reviews/0' }, {
      listener: '0.0.0.0_9080',
      routeConfig: '9080',
      virtualHost: 'reviews.default.svc.cluster.local:9080',
      cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local',
    });
  });

  it('the user jason is sent to reviews v2', () => {
    expectRoute(res, { port: 9080, protocol: 'http', host: 'reviews', headers: { 'end-user': 'jason' } }, { cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' });
  });

  it('ratings and details go to their v1 subsets, by short or full name', () => {
    expectRoute(res, { port: 9080, protocol: 'http', host: 'details.default.svc.cluster.local:9080' }, { cluster: 'outbound|9080|v1|details.default.svc.cluster.local' });
    expectRoute(res, { port: 9080, protocol: 'http', host: 'ratings.default' }, { cluster: 'outbound|9080|v1|ratings.default.svc.cluster.local' });
  });

  it('HTTP to a host the mesh does not know on 9080 is passed through', () => {
    expectRoute(res, { port: 9080, protocol: 'http', host: 'unknown.example.com' }, { listener: '0.0.0.0_9080', cluster: 'PassthroughCluster' });
  });

  it('every routed cluster has an endpoint assignment when it is EDS', () => {
    const eds = new Set(res.endpoints.map((e) => e.clusterName));
    assert.ok(eds.has('outbound|9080|v1|reviews.default.svc.cluster.local'));
    const v1 = res.endpoints.find((e) => e.clusterName === 'outbound|9080|v1|reviews.default.svc.cluster.local');
    const addresses = v1?.endpoints.flatMap((l) => l.lbEndpoints.map((x) => (x.hostIdentifier.case === 'endpoint' && x.hostIdentifier.value.address?.address.case === 'socketAddress' ? x.hostIdentifier.value.address.address.value.address : '')));
    assert.deepEqual(addresses, ['10.1.0.20']);
  });
});

describe('translate: Bookinfo reviews-v1 sidecar (inbound)', () => {
  const res = resourcesFor(BOOKINFO, REVIEWS_V1);

  it('golden', () => assertGolden('translate/bookinfo-reviews-v1-sidecar', dumpResources(res)));

  it('an inbound GET on 9080 reaches inbound|9080||', () => {
    expectRoute(res, { port: 9080, address: '10.1.0.20', protocol: 'http', host: 'reviews:9080', callMode: 'inbound' }, {
      listener: 'virtualInbound',
      filterChain: '0.0.0.0_9080',
      routeConfig: 'inbound|9080||',
      cluster: 'inbound|9080||',
    });
  });

  it('inbound traffic to an undeclared port passes through to the application', () => {
    expectRoute(res, { port: 15000, address: '10.1.0.20', protocol: 'tcp', callMode: 'inbound' }, { filterChain: 'virtualInbound', tcpCluster: 'InboundPassthroughClusterIpv4' });
  });

  it('reviews calls ratings v1', () => {
    expectRoute(res, { port: 9080, protocol: 'http', host: 'ratings:9080' }, { cluster: 'outbound|9080|v1|ratings.default.svc.cluster.local' });
  });
});

describe('translate: Bookinfo ingress gateway', () => {
  const res = resourcesFor(BOOKINFO, INGRESS);

  it('golden', () => assertGolden('translate/bookinfo-ingress-gateway', dumpResources(res)));

  it('GET /productpage on 8080 reaches productpage', () => {
    expectRoute(res, { port: 8080, protocol: 'http', host: 'bookinfo.example.com', path: '/productpage', callMode: 'gateway' }, {
      listener: '0.0.0.0_8080',
      routeConfig: 'http.8080',
      cluster: 'outbound|9080||productpage.default.svc.cluster.local',
    });
  });

  it('a path the VirtualService does not route is not found', () => {
    expectRoute(res, { port: 8080, protocol: 'http', host: 'bookinfo.example.com', path: '/admin', callMode: 'gateway' }, { listener: '0.0.0.0_8080', error: 'no route' });
  });

  it('nothing listens on the Service port 80: the Gateway names the container port 8080', () => {
    expectRoute(res, { port: 80, protocol: 'http', callMode: 'gateway' }, { error: 'no listener' });
  });
});

describe('translate: proxyless gRPC client', () => {
  const res = resourcesFor(BOOKINFO, GRPC_CLIENT);

  it('golden', () => assertGolden('translate/bookinfo-proxyless-client', dumpResources(res, { envoy: false })));

  it('xds:///reviews.default.svc.cluster.local:9080 reaches reviews v1, and v2 for jason', () => {
    expectRoute(res, { port: 9080, protocol: 'grpc', host: 'reviews.default.svc.cluster.local', callMode: 'proxyless' }, {
      listener: 'reviews.default.svc.cluster.local:9080',
      cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local',
    });
    expectRoute(res, { port: 9080, protocol: 'grpc', host: 'reviews', headers: { 'end-user': 'jason' }, callMode: 'proxyless' }, {
      listener: 'reviews:9080',
      cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local',
    });
  });

  it('every endpoint assignment carries a locality (grpc-js-xds NACKs one without)', () => {
    for (const cla of res.endpoints) for (const l of cla.endpoints) assert.ok(l.locality !== undefined, `${cla.clusterName} has a locality-less group`);
  });
});

describe('translate: TCP and TLS passthrough through a sidecar', () => {
  // mongodb as in Istio's bookinfo-db.yaml; www.googleapis.com as in its egress-rule-google-apis.yaml.
  const yaml = `${BOOKINFO}
---
apiVersion: v1
kind: Service
metadata: {name: mongodb}
spec:
  clusterIP: 10.0.0.27
  selector: {app: mongodb}
  ports: [{port: 27017, name: tcp-mongo}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mongodb}
spec:
  host: mongodb
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mongodb}
spec:
  hosts: [mongodb]
  tcp:
  - route:
    - {destination: {host: mongodb, subset: v1}, weight: 90}
    - {destination: {host: mongodb, subset: v2}, weight: 10}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: googleapis}
spec:
  hosts: [www.googleapis.com]
  ports:
  - {number: 80, name: http, protocol: HTTP}
  - {number: 443, name: https, protocol: HTTPS}
  resolution: DNS
`;
  const res = resourcesFor(yaml, { ...PRODUCTPAGE });

  it('TCP to the mongodb VIP is split 90/10 between existing subset clusters', () => {
    expectRoute(res, { port: 27017, address: '10.0.0.27', protocol: 'tcp' }, {
      listener: '10.0.0.27_27017',
      weightedClusters: [
        { name: 'outbound|27017|v1|mongodb.default.svc.cluster.local', weight: 90 },
        { name: 'outbound|27017|v2|mongodb.default.svc.cluster.local', weight: 10 },
      ],
    });
  });

  it('HTTPS to www.googleapis.com passes through by SNI to the ServiceEntry cluster', () => {
    expectRoute(res, { port: 443, address: '142.250.0.1', protocol: 'tls', sni: 'www.googleapis.com' }, { listener: '0.0.0.0_443', tcpCluster: 'outbound|443||www.googleapis.com' });
  });

  it('HTTPS to any other host on 443 goes to PassthroughCluster', () => {
    expectRoute(res, { port: 443, address: '142.250.0.1', protocol: 'tls', sni: 'example.org' }, { listener: '0.0.0.0_443', tcpCluster: 'PassthroughCluster' });
  });
});
