// The services and workloads the dashboard lists, from a real config, the workloads registered at run
// time (as `isthmus up` registers its pods) and connected proxies' nodes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKindRegistry } from '../../api/kind.js';
import { ALL_KINDS } from '../../api/kinds.js';
import { loadText } from '../../api/load.js';
import { validateDocuments } from '../../config/validate-documents.js';
import { snapshotFromConfig } from '../../model/build-snapshot.js';
import { parseProxy, type Proxy } from '../../model/proxy.js';
import { LocalWorkloads } from '../../registry/local-workloads.js';
import { appAndVersion, buildInventory } from './mesh-inventory.js';

const REGISTRY = createKindRegistry(ALL_KINDS);

const CONFIG = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default, labels: {app: reviews}}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: default}
spec:
  selector: {matchLabels: {app: reviews, version: v1}}
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec: {containers: [{name: reviews, image: reviews}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v2, namespace: default}
spec:
  selector: {matchLabels: {app: reviews, version: v2}}
  template:
    metadata: {labels: {app: reviews, version: v2}}
    spec: {containers: [{name: reviews, image: reviews}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external, namespace: default}
spec: {hosts: [api.example.com, www.example.com], location: MESH_EXTERNAL, resolution: DNS, ports: [{number: 443, name: https, protocol: TLS}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: default}
spec: {address: 10.9.0.1, labels: {app: legacy}}
`;

function proxy(pod: string, ip: string, workload: string, labels: Record<string, string>): Proxy {
  const p = parseProxy({ id: `sidecar~${ip}~${pod}.default~default.svc.cluster.local`, metadata: { NAMESPACE: 'default', WORKLOAD_NAME: workload, LABELS: labels } });
  assert.ok(p.ok);
  return p.value;
}

describe('buildInventory', () => {
  const loaded = loadText(CONFIG, 'mesh.yaml');
  const { entries } = validateDocuments(loaded.documents, REGISTRY, { defaultNamespace: 'default' }, loaded.problems);
  const local = new LocalWorkloads();
  // reviews-v1's pod (its proxy at the same address), and a pod of reviews-v2 whose proxy is not connected.
  local.register({ name: 'reviews-v1-abc-x1', namespace: 'default', address: '127.10.0.1', labels: { app: 'reviews', version: 'v1' } });
  local.register({ name: 'reviews-v2-def-y2', namespace: 'default', address: '127.10.0.2', labels: { app: 'reviews', version: 'v2' } });
  const snapshot = snapshotFromConfig(entries, { localWorkloads: local.list() });
  const r1 = proxy('reviews-v1-abc-x1', '127.10.0.1', 'reviews-v1', { app: 'reviews', version: 'v1' });
  const client = proxy('sleep-1', '127.10.0.9', 'sleep', { app: 'sleep' });
  // The same proxy twice (an ADS stream and an SDS stream).
  const inv = buildInventory(snapshot, entries, [r1, r1, client]);

  it('lists services by namespace and name, a ServiceEntry with all its hosts', () => {
    assert.deepEqual(inv.services.map((s) => [s.namespace, s.name, s.source, s.hosts]), [
      ['default', 'external', 'ServiceEntry', ['api.example.com', 'www.example.com']],
      ['default', 'reviews', 'Kubernetes', ['reviews.default.svc.cluster.local']],
    ]);
  });

  it('lists workloads by what runs them: Deployments, proxies of no Deployment, registry instances of neither', () => {
    const list = inv.workloads.map((w) => [w.name, w.kind, w.instances.map((i) => i.name), w.proxies.map((p) => p.workloadId)]);
    assert.deepEqual(list, [
      ['reviews-v1', 'Deployment', ['reviews-v1-abc-x1'], ['reviews-v1-abc-x1.default']],
      ['reviews-v2', 'Deployment', ['reviews-v2-def-y2'], []],
      ['sleep', 'Proxy', [], ['sleep-1.default']],
      ['vm-1', 'WorkloadEntry', ['vm-1'], []],
    ]);
  });

  it("relates a service and the workloads its selector picks", () => {
    const reviews = inv.service('default', 'reviews');
    assert.ok(reviews !== undefined);
    assert.deepEqual(inv.workloadsOf(reviews).map((w) => w.name), ['reviews-v1', 'reviews-v2']);
    const sleep = inv.workload('default', 'sleep');
    assert.ok(sleep !== undefined);
    assert.deepEqual(inv.servicesOf(sleep), []);
    assert.equal(inv.service('default', 'nope'), undefined);
    assert.deepEqual(inv.workloadsOf(inv.service('default', 'external') ?? reviews).map((w) => w.name), [], 'a ServiceEntry without a selector picks none');
  });

  it('reads app and version as Istio does, canonical labels first', () => {
    const cases: [Record<string, string>, ReturnType<typeof appAndVersion>][] = [
      [{ app: 'reviews', version: 'v1' }, { app: 'reviews', version: 'v1' }],
      [{ 'service.istio.io/canonical-name': 'r', app: 'reviews' }, { app: 'r' }],
      [{}, {}],
    ];
    for (const [labels, want] of cases) assert.deepEqual(appAndVersion(labels), want, JSON.stringify(labels));
  });

  it('is empty before the first snapshot', () => {
    const empty = buildInventory(undefined, [], []);
    assert.deepEqual([empty.services, empty.workloads], [[], []]);
  });
});
