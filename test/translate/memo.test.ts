// Translation shares clusters, load assignments and route configurations between proxies of one snapshot
// and carries them over to the next snapshot when nothing they read changed (translate/memo.ts). The cache
// must never change what a proxy gets: each proxy's output on a shared snapshot equals its output on a
// fresh snapshot of the same config, whatever was translated before it, and after a change each proxy gets
// exactly what a snapshot built from scratch gives it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { meshFromYaml, testProxy } from '../support/mesh.js';
import { dumpResources } from '../support/golden.js';
import { translate } from '../../src/translate/translate.js';
import { LocalWorkloads } from '../../src/registry/local-workloads.js';
import type { ResourceEntry } from '../../src/api/entry.js';
import { snapshotFromConfig } from '../../src/model/build-snapshot.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../../src/model/mesh-config.js';
import { parseProxy, type Proxy } from '../../src/model/proxy.js';
import { ALL_KINDS } from '../../src/api/kinds.js';
import { loadFixture } from '../support/analyze.js';

const CONFIG = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: other}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 30s}
    loadBalancer: {localityLbSetting: {enabled: true, failoverPriority: [topology.istio.io/network, version]}}
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-canary, namespace: default}
spec: {host: reviews, workloadSelector: {matchLabels: {canary: "true"}}, trafficPolicy: {loadBalancer: {simple: RANDOM}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings-local, namespace: default}
spec: {host: ratings.other.svc.cluster.local, trafficPolicy: {connectionPool: {tcp: {maxConnections: 7}}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{sourceLabels: {version: v2}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - route: [{destination: {host: reviews}}]
`;

function localWorkloads(): LocalWorkloads {
  const w = new LocalWorkloads();
  w.register({ name: 'reviews-v1', namespace: 'default', address: '10.0.1.1', labels: { app: 'reviews', version: 'v1' }, locality: { region: 'r1', zone: 'z1', subZone: '' } });
  w.register({ name: 'reviews-v2', namespace: 'default', address: '10.0.1.2', labels: { app: 'reviews', version: 'v2' }, locality: { region: 'r2', zone: 'z1', subZone: '' } });
  w.register({ name: 'ratings-v1', namespace: 'other', address: '10.0.2.1', labels: { app: 'ratings', version: 'v1' }, locality: { region: 'r1', zone: 'z2', subZone: '' } });
  return w;
}

/** Proxyless clients' resources are not held to Envoy's constraints (see dumpResources). */
const forProxy = (p: { readonly type: string }) => ({ envoy: p.type !== 'proxyless' });

const PROXIES = [
  testProxy({ name: 'a', namespace: 'default', labels: { app: 'a', version: 'v1' }, locality: { region: 'r1', zone: 'z1' } }),
  testProxy({ name: 'b', namespace: 'default', labels: { app: 'b', version: 'v2' }, locality: { region: 'r1', zone: 'z1' } }),
  testProxy({ name: 'c', namespace: 'default', labels: { app: 'c', canary: 'true' }, locality: { region: 'r2', zone: 'z1' } }),
  testProxy({ name: 'd', namespace: 'other', labels: { app: 'd' }, locality: { region: 'r2', zone: 'z9' } }),
  testProxy({ name: 'e', namespace: 'other', type: 'proxyless', labels: { app: 'e' } }),
  testProxy({ name: 'f', namespace: 'default', ip: 'fd00::1', labels: { app: 'f' } }),
  // Same namespace as `a`, another DNS domain: other short host names.
  proxyWithDomain('g', 'default', 'default.svc.corp.example'),
];

function proxyWithDomain(name: string, namespace: string, dnsDomain: string): Proxy {
  const r = parseProxy({ id: `sidecar~10.0.0.7~${name}.${namespace}~${dnsDomain}`, metadata: { NAMESPACE: namespace, LABELS: { app: name } } });
  if (!r.ok) throw new Error('bad test proxy');
  return r.value;
}

describe('sharing translation between proxies', () => {
  it('gives every proxy exactly what it gets when translated alone', () => {
    const local = localWorkloads();
    const shared = meshFromYaml(CONFIG, { localWorkloads: local.list() }).snapshot;
    const together = PROXIES.map((p) => JSON.stringify(dumpResources(translate(shared, p), forProxy(p))));
    PROXIES.forEach((p, i) => {
      const alone = meshFromYaml(CONFIG, { localWorkloads: local.list() }).snapshot;
      assert.equal(together[i], JSON.stringify(dumpResources(translate(alone, p), forProxy(p))), `proxy ${p.id} differs when translated after others`);
    });
    // The proxies really do differ where their inputs differ, so the comparison above is not vacuous.
    assert.notEqual(together[0], together[2], 'a workload-selected DestinationRule changes the canary proxy');
    assert.notEqual(together[0], together[1], 'failoverPriority by version ranks endpoints per proxy');
    assert.notEqual(together[0], together[6], 'the DNS domain decides the short host names');
  });
});

/** `base` with the resources of `yaml` replacing those of the same kind, namespace and name (others appended). */
function withDocs(base: readonly ResourceEntry[], yaml: string): ResourceEntry[] {
  const name = (e: ResourceEntry): string => `${e.kind.kind}/${e.resource.metadata.namespace ?? 'default'}/${e.resource.metadata.name}`;
  const out = [...base];
  const { entries, invalid } = loadFixture(yaml, ALL_KINDS);
  assert.deepEqual(invalid, []);
  for (const e of entries) {
    const i = out.findIndex((x) => name(x) === name(e));
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

interface Change {
  readonly name: string;
  /** The changed config; called once per snapshot, so each gets its own resource objects. */
  readonly entries?: (base: readonly ResourceEntry[]) => readonly ResourceEntry[];
  readonly workloads?: (w: LocalWorkloads) => void;
  readonly mesh?: MeshConfig;
}

const CHANGES: readonly Change[] = [
  { name: 'a workload added to reviews', workloads: (w) => void w.register({ name: 'reviews-v1b', namespace: 'default', address: '10.0.1.3', labels: { app: 'reviews', version: 'v1' }, locality: { region: 'r1', zone: 'z1', subZone: '' } }) },
  { name: 'a ratings workload with another service account', workloads: (w) => void w.register({ name: 'ratings-v2', namespace: 'other', address: '10.0.2.2', labels: { app: 'ratings', version: 'v2' }, serviceAccount: 'ratings' }) },
  { name: 'a workload turned unhealthy', workloads: (w) => void w.setHealth('default', 'reviews-v2', 'UNHEALTHY') },
  {
    name: 'a DestinationRule changed (hash policy in routes)',
    entries: (base) =>
      withDocs(base, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings-local, namespace: default}
spec: {host: ratings.other.svc.cluster.local, trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}}
`),
  },
  {
    name: 'a VirtualService changed (sourceLabels)',
    entries: (base) =>
      withDocs(base, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{sourceLabels: {version: v1}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - route: [{destination: {host: reviews}}]
`),
  },
  {
    name: 'a service port added',
    entries: (base) =>
      withDocs(base, `
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: other}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080}, {name: grpc, port: 7070}]}
`),
  },
  {
    name: 'a Sidecar changing only the outbound traffic policy',
    entries: (base) =>
      withDocs(base, `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec: {egress: [{hosts: ["*/*"]}], outboundTrafficPolicy: {mode: REGISTRY_ONLY}}
`),
  },
  {
    name: 'a Sidecar added',
    entries: (base) =>
      withDocs(base, `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec: {egress: [{hosts: ["./*"]}], outboundTrafficPolicy: {mode: REGISTRY_ONLY}}
`),
  },
  { name: 'the mesh config changed', mesh: { ...DEFAULT_MESH_CONFIG, outboundTrafficPolicy: 'REGISTRY_ONLY', trustDomain: 'example.org' } },
];

function dumpAll(snapshot: ReturnType<typeof snapshotFromConfig>, proxies: readonly Proxy[]): string[] {
  return proxies.map((p) => JSON.stringify(dumpResources(translate(snapshot, p), forProxy(p))));
}

describe('carrying translation over to the next snapshot', () => {
  for (const change of CHANGES) {
    it(`after ${change.name}, every proxy gets what a snapshot built from scratch gives it`, () => {
      const base = meshFromYaml(CONFIG).entries;
      const local = localWorkloads();
      const s1 = snapshotFromConfig(base, { localWorkloads: local.list() });
      const before = dumpAll(s1, PROXIES);
      // The next snapshot shares every unchanged resource object with the first, as the config store does.
      change.workloads?.(local);
      const mesh = change.mesh ?? DEFAULT_MESH_CONFIG;
      const s2 = snapshotFromConfig(change.entries?.(base) ?? base, { localWorkloads: local.list(), mesh });
      const after = dumpAll(s2, PROXIES);

      const freshLocal = localWorkloads();
      change.workloads?.(freshLocal);
      const fresh = meshFromYaml(CONFIG).entries;
      const scratch = dumpAll(snapshotFromConfig(change.entries?.(fresh) ?? fresh, { localWorkloads: freshLocal.list(), mesh }), PROXIES);
      PROXIES.forEach((p, i) => assert.equal(after[i], scratch[i], `proxy ${p.id} differs from a translation from scratch`));
      assert.notDeepEqual(after, before, 'the change shows in some proxy');
    });
  }

  it('reuses what a change did not touch', () => {
    const base = meshFromYaml(CONFIG).entries;
    const local = localWorkloads();
    const proxy = PROXIES[0] as Proxy;
    const first = translate(snapshotFromConfig(base, { localWorkloads: local.list() }), proxy);
    local.register({ name: 'ratings-v2', namespace: 'other', address: '10.0.2.2', labels: { app: 'ratings', version: 'v2' } });
    const next = translate(snapshotFromConfig(base, { localWorkloads: local.list() }), proxy);
    const cla = (r: typeof first, host: string) => r.endpoints.find((e) => e.clusterName === `outbound|9080||${host}`);
    assert.equal(cla(next, 'reviews.default.svc.cluster.local'), cla(first, 'reviews.default.svc.cluster.local'), 'reviews endpoints carried over');
    assert.notEqual(cla(next, 'ratings.other.svc.cluster.local'), cla(first, 'ratings.other.svc.cluster.local'), 'ratings endpoints rebuilt');
    assert.equal(next.routes[0], first.routes[0], 'route configuration carried over');
  });
});
