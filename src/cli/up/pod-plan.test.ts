// planPods: the pods `isthmus up` runs for the Deployments of a config, loaded through the real YAML
// loader and validator so the plans are those of real files.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceEntry } from '../../api/entry.js';
import { createKindRegistry } from '../../api/kind.js';
import { ALL_KINDS } from '../../api/kinds.js';
import { loadText } from '../../api/load.js';
import { validateDocuments } from '../../config/validate-documents.js';
import { isGatewayImage, planPods, type PodPlan } from './pod-plan.js';

const REGISTRY = createKindRegistry(ALL_KINDS);

function load(yaml: string): ResourceEntry[] {
  const loaded = loadText(yaml, 'deployments.yaml');
  const v = validateDocuments(loaded.documents, REGISTRY, { defaultNamespace: 'default' }, loaded.problems);
  assert.deepEqual(v.invalid, [], 'fixture must be valid');
  return [...v.entries];
}

interface DeploymentFixture {
  name: string;
  namespace?: string;
  replicas?: number;
  labels?: Record<string, string>;
  serviceAccountName?: string;
  /** YAML of the container list, indented for `containers:`. */
  containers?: string;
}

function deployment(f: DeploymentFixture): string {
  const labels = f.labels ?? { app: f.name };
  const labelYaml = `{${Object.entries(labels)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')}}`;
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${f.name}`,
    ...(f.namespace !== undefined ? [`  namespace: ${f.namespace}`] : []),
    'spec:',
    ...(f.replicas !== undefined ? [`  replicas: ${f.replicas}`] : []),
    '  selector:',
    `    matchLabels: ${labelYaml}`,
    '  template:',
    '    metadata:',
    `      labels: ${labelYaml}`,
    '    spec:',
    ...(f.serviceAccountName !== undefined ? [`      serviceAccountName: ${f.serviceAccountName}`] : []),
    '      containers:',
    f.containers ?? `      - name: ${f.name}\n        image: isthmus/bookinfo-details\n        ports:\n        - containerPort: 9080`,
  ].join('\n');
}

function docs(...parts: string[]): string {
  return parts.join('\n---\n') + '\n';
}

const SAFE = /^[bcdfghjklmnpqrstvwxz2456789]+$/;

function hashAndSuffix(p: PodPlan): { hash: string; suffix: string } {
  const rest = p.name.slice(p.deployment.length + 1);
  const [hash = '', suffix = ''] = rest.split('-');
  return { hash, suffix };
}

describe('planPods', () => {
  it('names pods <deployment>-<10-char template hash>-<5-char suffix> from the safe alphabet', () => {
    const { pods, problems } = planPods(load(deployment({ name: 'reviews-v1', replicas: 3 })));
    assert.deepEqual(problems, []);
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.ok(p.name.startsWith('reviews-v1-'), p.name);
      const { hash, suffix } = hashAndSuffix(p);
      assert.equal(hash.length, 10, p.name);
      assert.equal(suffix.length, 5, p.name);
      assert.match(hash, SAFE);
      assert.match(suffix, SAFE);
      assert.equal(p.name, `reviews-v1-${hash}-${suffix}`);
    }
    assert.equal(new Set(pods.map((p) => hashAndSuffix(p).hash)).size, 1, 'replicas share the template hash');
    assert.equal(new Set(pods.map((p) => p.name)).size, 3, 'replicas have distinct names');
  });

  it('gives the same names on every call (names survive restarts)', () => {
    const yaml = docs(deployment({ name: 'details-v1', replicas: 2 }), deployment({ name: 'ratings-v1' }));
    const a = planPods(load(yaml)).pods.map((p) => p.name);
    const b = planPods(load(yaml)).pods.map((p) => p.name);
    assert.deepEqual(a, b);
  });

  it('changes the template hash when the pod template changes, and only then', () => {
    const base = planPods(load(deployment({ name: 'web', replicas: 2 }))).pods;
    const cases: { name: string; fixture: DeploymentFixture; changes: boolean }[] = [
      { name: 'replicas only', fixture: { name: 'web', replicas: 5 }, changes: false },
      { name: 'another image', fixture: { name: 'web', replicas: 2, containers: '      - name: web\n        image: isthmus/bookinfo-ratings\n        ports:\n        - containerPort: 9080' }, changes: true },
      { name: 'another port', fixture: { name: 'web', replicas: 2, containers: '      - name: web\n        image: isthmus/bookinfo-details\n        ports:\n        - containerPort: 9081' }, changes: true },
      { name: 'another label', fixture: { name: 'web', replicas: 2, labels: { app: 'web', version: 'v2' } }, changes: true },
      { name: 'a service account', fixture: { name: 'web', replicas: 2, serviceAccountName: 'web' }, changes: true },
    ];
    const baseHash = hashAndSuffix(base[0]!).hash;
    for (const c of cases) {
      const pods = planPods(load(deployment(c.fixture))).pods;
      const hash = hashAndSuffix(pods[0]!).hash;
      if (c.changes) assert.notEqual(hash, baseHash, c.name);
      else assert.equal(hash, baseHash, c.name);
      // The per-replica suffix does not depend on the template.
      assert.deepEqual(
        pods.slice(0, 2).map((p) => hashAndSuffix(p).suffix),
        base.map((p) => hashAndSuffix(p).suffix),
        c.name,
      );
    }
  });

  it(
    'keeps the template hash when only the order of template labels changes',
    () => {
      const a = planPods(load(deployment({ name: 'web', labels: { app: 'web', version: 'v1' } }))).pods[0];
      const b = planPods(load(deployment({ name: 'web', labels: { version: 'v1', app: 'web' } }))).pods[0];
      assert.equal(a?.name, b?.name);
    },
  );

  it('plans spec.replicas pods, 1 by default and none for 0', () => {
    const cases: { name: string; replicas: number | undefined; want: number }[] = [
      { name: 'default', replicas: undefined, want: 1 },
      { name: 'zero', replicas: 0, want: 0 },
      { name: 'three', replicas: 3, want: 3 },
    ];
    for (const c of cases) {
      const f: DeploymentFixture = { name: 'app', ...(c.replicas !== undefined ? { replicas: c.replicas } : {}) };
      const { pods, problems } = planPods(load(deployment(f)));
      assert.equal(pods.length, c.want, c.name);
      assert.deepEqual(problems, [], c.name);
    }
  });

  it('fills owner, namespace, labels (with pod-template-hash), service account and containers', () => {
    const yaml = deployment({
      name: 'reviews-v2',
      namespace: 'shop',
      labels: { app: 'reviews', version: 'v2' },
      serviceAccountName: 'bookinfo-reviews',
      containers: [
        '      - name: reviews',
        '        image: isthmus/bookinfo-reviews',
        '        command: [node]',
        '        args: [server.js, --verbose]',
        '        workingDir: app',
        '        env:',
        '        - {name: STARS, value: "red"}',
        '        - {name: EMPTY}',
        '        ports:',
        '        - {containerPort: 9080, name: http}',
        '        - {containerPort: 9090}',
      ].join('\n'),
    });
    const { pods, problems } = planPods(load(yaml));
    assert.deepEqual(problems, []);
    const [p] = pods;
    assert.ok(p !== undefined);
    const { hash } = hashAndSuffix(p);
    assert.equal(p.owner, 'shop/reviews-v2');
    assert.equal(p.deployment, 'reviews-v2');
    assert.equal(p.namespace, 'shop');
    assert.equal(p.role, 'app');
    assert.deepEqual(p.labels, { app: 'reviews', version: 'v2', 'pod-template-hash': hash });
    assert.equal(p.serviceAccount, 'bookinfo-reviews');
    assert.deepEqual(p.namedPorts, { http: 9080 });
    assert.deepEqual(p.containers, [
      {
        name: 'reviews',
        image: 'isthmus/bookinfo-reviews',
        command: ['node'],
        args: ['server.js', '--verbose'],
        workingDir: 'app',
        env: { STARS: 'red', EMPTY: '' },
        ports: [{ name: 'http', containerPort: 9080 }, { containerPort: 9090 }],
      },
    ]);
  });

  it("uses the 'default' namespace and service account when none is given", () => {
    const [p] = planPods(load(deployment({ name: 'web' }))).pods;
    assert.equal(p?.namespace, 'default');
    assert.equal(p?.owner, 'default/web');
    assert.equal(p?.serviceAccount, 'default');
  });

  it('accepts the deprecated serviceAccount field', () => {
    const yaml = deployment({ name: 'web' }).replace('    spec:\n      containers:', '    spec:\n      serviceAccount: legacy\n      containers:');
    const [p] = planPods(load(yaml)).pods;
    assert.equal(p?.serviceAccount, 'legacy');
  });

  it('plans Deployments sorted by namespace/name', () => {
    const yaml = docs(deployment({ name: 'zeta' }), deployment({ name: 'alpha', namespace: 'b' }), deployment({ name: 'beta' }), deployment({ name: 'alpha', namespace: 'a' }));
    assert.deepEqual(
      planPods(load(yaml)).pods.map((p) => p.owner),
      ['a/alpha', 'b/alpha', 'default/beta', 'default/zeta'],
    );
  });

  it('ignores resources that are not Deployments', () => {
    const svc = 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n  selector: {app: web}';
    assert.deepEqual(planPods(load(docs(svc))), { pods: [], problems: [] });
  });

  describe('gateway detection by image', () => {
    const cases: { image: string; gateway: boolean }[] = [
      { image: 'isthmus/proxy', gateway: true },
      { image: 'isthmus/proxy:latest', gateway: true },
      { image: 'istio/proxyv2', gateway: true },
      { image: 'istio/proxyv2:1.23.2', gateway: true },
      { image: 'docker.io/istio/proxyv2:1.23.2', gateway: true },
      { image: 'gcr.io/istio-release/proxyv2:1.22.0', gateway: true },
      { image: 'isthmus/bookinfo-details', gateway: false },
      { image: 'isthmus/proxy-extra', gateway: false },
      { image: 'istio/proxyv2-debug', gateway: false },
      { image: 'nginx:1.27', gateway: false },
    ];
    for (const c of cases)
      it(`${c.image} is ${c.gateway ? 'a gateway' : 'an app'}`, () => {
        assert.equal(isGatewayImage(c.image), c.gateway);
        const yaml = deployment({ name: 'gw', containers: `      - name: c\n        image: ${c.image}\n        ports:\n        - {containerPort: 8080, name: http2}` });
        const [p] = planPods(load(yaml)).pods;
        assert.equal(p?.role, c.gateway ? 'gateway' : 'app');
      });

    it('an image pinned by digest (istio/proxyv2@sha256:…) is a gateway', () => {
      assert.equal(isGatewayImage(`istio/proxyv2@sha256:${'a'.repeat(64)}`), true);
    });

    it('a pod with a proxy container next to another container is a gateway', () => {
      const yaml = deployment({
        name: 'ingress',
        containers: '      - name: istio-proxy\n        image: istio/proxyv2:1.23.2\n      - name: helper\n        image: busybox\n        command: [sleep, "1000"]',
      });
      const [p] = planPods(load(yaml)).pods;
      assert.equal(p?.role, 'gateway');
      assert.equal(p?.containers.length, 2);
    });
  });

  describe('problems', () => {
    it('reports env valueFrom naming the Deployment and the field, and still plans the pod without it', () => {
      const yaml = deployment({
        name: 'web',
        namespace: 'shop',
        containers: [
          '      - name: web',
          '        image: isthmus/bookinfo-details',
          '        env:',
          '        - {name: PLAIN, value: x}',
          '        - name: POD_IP',
          '          valueFrom: {fieldRef: {fieldPath: status.podIP}}',
        ].join('\n'),
      });
      const { pods, problems } = planPods(load(yaml));
      assert.equal(problems.length, 1);
      const [problem = ''] = problems;
      assert.ok(problem.startsWith('Deployment shop/web: '), problem);
      assert.match(problem, /spec\.template\.spec\.containers\[0\]\.env\[POD_IP\]\.valueFrom/);
      assert.match(problem, /not supported/);
      assert.equal(pods.length, 1);
      assert.deepEqual(pods[0]?.containers[0]?.env, { PLAIN: 'x' });
    });

    it('reports a Deployment without containers and plans no pod for it', () => {
      // Validation requires containers, so the loader never yields such an entry; planPods still guards
      // against one (e.g. a store filled by another source), so the entry is derived from a valid one.
      const [valid] = load(deployment({ name: 'empty', replicas: 2 }));
      assert.ok(valid !== undefined);
      const r = valid.resource as unknown as { spec: { template: { spec: Record<string, unknown> } } };
      const withoutContainers: ResourceEntry = {
        ...valid,
        resource: { ...valid.resource, spec: { ...r.spec, template: { ...r.spec.template, spec: { ...r.spec.template.spec, containers: [] } } } } as ResourceEntry['resource'],
      };
      const full = load(deployment({ name: 'full' }));
      const { pods, problems } = planPods([withoutContainers, ...full]);
      assert.deepEqual(problems, ['Deployment default/empty: spec.template.spec.containers: no containers to run']);
      assert.deepEqual(
        pods.map((p) => p.deployment),
        ['full'],
      );
    });
  });
});
