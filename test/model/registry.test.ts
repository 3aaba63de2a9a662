// The service registry from config and local workloads, as Istio's Kubernetes and ServiceEntry
// registries produce it (pilot/pkg/serviceregistry/kube/conversion.go, serviceentry/conversion.go).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { meshFromYaml } from '../support/mesh.js';
import { LocalWorkloads } from '../../src/registry/local-workloads.js';

const REVIEWS = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default, labels: {app: reviews}}
spec:
  clusterIP: 10.96.0.20
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: http-web}, {name: tcp-metrics, port: 9090}, {name: grpc-web-x, port: 9091}, {name: mysql, port: 3306, appProtocol: kubernetes.io/h2c}, {name: other, port: 27017}]
`;

describe('Kubernetes services', () => {
  it('get Istio host names, cluster IPs and protocols from names and appProtocol', () => {
    const { snapshot } = meshFromYaml(REVIEWS);
    const svc = snapshot.serviceFor('reviews.default.svc.cluster.local', 'default');
    assert.ok(svc);
    assert.deepEqual(svc.addresses, ['10.96.0.20']);
    assert.equal(svc.resolution, 'STATIC');
    assert.equal(svc.location, 'MESH_INTERNAL');
    assert.deepEqual(
      svc.ports.map((p) => [p.port, p.protocol]),
      [[9080, 'HTTP'], [9090, 'TCP'], [9091, 'GRPC-Web'], [3306, 'HTTP2'], [27017, 'TCP']],
    );
  });

  it('take endpoints from local workloads the selector matches, resolving named target ports', () => {
    const local = new LocalWorkloads();
    local.register({ name: 'reviews-v1', namespace: 'default', address: '127.0.0.2', labels: { app: 'reviews', version: 'v1' }, ports: { 'http-web': 19080 }, serviceAccount: 'bookinfo-reviews' });
    local.register({ name: 'reviews-other-ns', namespace: 'other', address: '127.0.0.3', labels: { app: 'reviews' }, ports: { 'http-web': 19081 } });
    local.register({ name: 'ratings', namespace: 'default', address: '127.0.0.4', labels: { app: 'ratings' }, ports: { 'http-web': 19082 } });
    const { snapshot } = meshFromYaml(REVIEWS, { localWorkloads: local.list() });
    const eps = snapshot.endpoints('reviews.default.svc.cluster.local', 9080);
    assert.deepEqual(eps.map((e) => `${e.address}:${e.port}`), ['127.0.0.2:19080']);
    assert.equal(eps[0]?.serviceAccount, 'bookinfo-reviews');
    assert.equal(eps[0]?.labels['version'], 'v1');
    assert.equal(eps[0]?.tlsMode, 'istio');
    // A numeric-less port without a name on the workload falls back to the service port.
    assert.deepEqual(snapshot.endpoints('reviews.default.svc.cluster.local', 9090).map((e) => e.port), [9090]);
  });

  it('prefer EndpointSlices over selected workloads, with readiness as health', () => {
    const { snapshot } = meshFromYaml(`${REVIEWS}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-abc, namespace: default, labels: {kubernetes.io/service-name: reviews}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- addresses: [10.1.0.1]
- addresses: [10.1.0.2]
  conditions: {ready: false}
`);
    const eps = snapshot.endpoints('reviews.default.svc.cluster.local', 9080);
    assert.deepEqual(eps.map((e) => [e.address, e.port, e.health]), [['10.1.0.1', 8080, 'HEALTHY'], ['10.1.0.2', 8080, 'UNHEALTHY']]);
  });

  it('honour the exportTo annotation', () => {
    const { snapshot } = meshFromYaml(`
apiVersion: v1
kind: Service
metadata: {name: private, namespace: team-a, annotations: {networking.istio.io/exportTo: "."}}
spec: {ports: [{name: http, port: 80}]}
`);
    assert.ok(snapshot.serviceFor('private.team-a.svc.cluster.local', 'team-a'));
    assert.equal(snapshot.serviceFor('private.team-a.svc.cluster.local', 'team-b'), undefined);
    assert.deepEqual(snapshot.servicesVisibleTo('team-b'), []);
  });
});

describe('ServiceEntry services', () => {
  it('give a service per host with STATIC endpoints from inline endpoints and port names', () => {
    const { snapshot } = meshFromYaml(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: default}
spec:
  hosts: [db.internal]
  addresses: [240.0.0.1]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 5432, name: tcp-pg, protocol: TCP, targetPort: 15432}]
  endpoints:
  - {address: 10.2.0.1, labels: {version: a}, locality: us-east/zone1, weight: 3}
  - {address: 10.2.0.2, ports: {tcp-pg: 25432}}
`);
    for (const h of ['db.internal']) assert.equal(snapshot.serviceFor(h, 'default')?.resolution, 'STATIC');
    const eps = snapshot.endpoints('db.internal', 5432);
    assert.deepEqual(eps.map((e) => [e.address, e.port, e.weight, e.locality.region, e.locality.zone]), [
      ['10.2.0.1', 15432, 3, 'us-east', 'zone1'],
      ['10.2.0.2', 25432, 1, '', ''],
    ]);
  });

  it('resolve DNS entries without endpoints to the host itself and select WorkloadEntries', () => {
    const { snapshot } = meshFromYaml(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external, namespace: default}
spec:
  hosts: [api.example.com]
  resolution: DNS
  ports: [{number: 443, name: https, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wild, namespace: default}
spec:
  hosts: ["*.wild.example.com"]
  resolution: NONE
  ports: [{number: 443, name: https, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vms, namespace: default}
spec:
  hosts: [vm.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: {labels: {app: vm}}
  ports: [{number: 80, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: default}
spec: {address: 10.3.0.1, labels: {app: vm, security.istio.io/tlsMode: istio}, serviceAccount: vm-sa, ports: {http: 8080}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-2, namespace: other}
spec: {address: 10.3.0.2, labels: {app: vm}}
`);
    assert.deepEqual(snapshot.endpoints('api.example.com', 443).map((e) => `${e.address}:${e.port}`), ['api.example.com:443']);
    assert.deepEqual(snapshot.endpoints('*.wild.example.com', 443), []);
    const vm = snapshot.endpoints('vm.internal', 80);
    assert.deepEqual(vm.map((e) => [e.address, e.port, e.serviceAccount, e.tlsMode]), [['10.3.0.1', 8080, 'vm-sa', 'istio']]);
  });

  it('reports a hostname defined twice by the proxy namespace first, then Kubernetes over ServiceEntry', () => {
    const { snapshot } = meshFromYaml(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: dup, namespace: a}
spec: {hosts: [shared.example.com], ports: [{number: 80, name: http}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: dup, namespace: b}
spec: {hosts: [shared.example.com], ports: [{number: 80, name: http}], resolution: DNS}
`);
    assert.equal(snapshot.serviceFor('shared.example.com', 'b')?.namespace, 'b');
    assert.equal(snapshot.serviceFor('shared.example.com', 'a')?.namespace, 'a');
    assert.equal(snapshot.serviceFor('shared.example.com', 'c')?.namespace, 'a');
  });
});

describe('local workloads', () => {
  it('notify on register, health change and deregister, and ignore unknown ones', () => {
    const local = new LocalWorkloads();
    let changes = 0;
    local.subscribe(() => changes++);
    local.register({ name: 'a', namespace: 'default', address: '127.0.0.1' });
    assert.equal(local.setHealth('default', 'a', 'UNHEALTHY'), true);
    assert.equal(local.setHealth('default', 'a', 'UNHEALTHY'), true);
    assert.equal(local.list()[0]?.health, 'UNHEALTHY');
    assert.equal(local.setHealth('default', 'missing', 'HEALTHY'), false);
    assert.equal(local.deregister('default', 'a'), true);
    assert.equal(local.deregister('default', 'a'), false);
    assert.equal(changes, 3);
    assert.deepEqual(local.list(), []);
  });
});
