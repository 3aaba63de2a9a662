import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { loadText } from '../load.js';
import { createKindRegistry } from '../kind.js';
import { validateObject } from '../validate.js';
import { DEPLOYMENT } from './deployment.js';
import { SERVICE } from './service.js';
import { SERVICE_ACCOUNT } from './service-account.js';

const K = [DEPLOYMENT];
const dep = (spec: string): string => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reviews-v1, labels: {app: reviews, version: v1}}\nspec:\n${spec}`;
const TEMPLATE = '  template:\n    metadata: {labels: {app: reviews, version: v1}}\n    spec:\n      containers: [{name: reviews, image: reviews:v1, ports: [{containerPort: 9080}]}]\n';
const SELECTOR = '  selector: {matchLabels: {app: reviews, version: v1}}\n';

describe('Deployment', () => {
  it('accepts a bookinfo-style deployment', () => {
    expectValid(dep('  replicas: 1\n' + SELECTOR + TEMPLATE), K);
  });

  it('accepts a full-featured deployment (strategy, expressions, status)', () => {
    expectValid(
      dep(
        [
          '  replicas: 3',
          '  minReadySeconds: 5',
          '  revisionHistoryLimit: 5',
          '  progressDeadlineSeconds: 300',
          '  paused: false',
          '  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: "50%"}}',
          '  selector:',
          '    matchLabels: {app: reviews}',
          '    matchExpressions: [{key: version, operator: In, values: [v1, v2]}, {key: canary, operator: DoesNotExist}]',
          '  template:',
          '    metadata:',
          '      labels: {app: reviews, version: v1}',
          '      annotations: {sidecar.istio.io/inject: "true", proxy.istio.io/config: "holdApplicationUntilProxyStarts: true"}',
          '    spec:',
          '      serviceAccountName: bookinfo-reviews',
          '      terminationGracePeriodSeconds: 45',
          '      containers:',
          '      - name: reviews',
          '        image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3',
          '        imagePullPolicy: IfNotPresent',
          '        ports: [{containerPort: 9080, name: http}]',
          '        readinessProbe: {httpGet: {path: /health, port: http}, initialDelaySeconds: 2}',
          '        env: [{name: LOG_DIR, value: /tmp/logs}]',
          '        volumeMounts: [{name: tmp, mountPath: /tmp}]',
          '        securityContext: {runAsUser: 1000}',
          '      volumes: [{name: tmp, emptyDir: {}}]',
          'status:',
          '  observedGeneration: 2',
          '  replicas: 3',
          '  readyReplicas: 3',
          '  availableReplicas: 3',
          '  updatedReplicas: 3',
          '  conditions: [{type: Available, status: "True", reason: MinimumReplicasAvailable, message: ok, lastUpdateTime: "2024-01-01T00:00:00Z", lastTransitionTime: "2024-01-01T00:00:00Z"}]',
          '',
        ].join('\n'),
      ),
      K,
    );
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'no selector', spec: TEMPLATE, path: 'spec.selector', message: 'Required value' },
    { name: 'an empty selector', spec: '  selector: {}\n' + TEMPLATE, path: 'spec.selector', message: 'empty selector is invalid for deployment' },
    {
      name: 'a selector that does not match the template',
      spec: '  selector: {matchLabels: {app: ratings}}\n' + TEMPLATE,
      path: 'spec.template.metadata.labels',
      message: '`selector` does not match template `labels`',
    },
    { name: 'negative replicas', spec: '  replicas: -1\n' + SELECTOR + TEMPLATE, path: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' },
    {
      name: 'a template without containers',
      spec: SELECTOR + '  template:\n    metadata: {labels: {app: reviews, version: v1}}\n    spec: {}\n',
      path: 'spec.template.spec.containers',
      message: 'Required value',
    },
    {
      name: 'a container port out of range in the template',
      spec: SELECTOR + TEMPLATE.replace('9080', '90800'),
      path: 'spec.template.spec.containers[0].ports[0].containerPort',
      message: 'Invalid value: 90800: must be between 1 and 65535, inclusive',
    },
    {
      name: 'restartPolicy other than Always',
      spec: SELECTOR + TEMPLATE + '      restartPolicy: OnFailure\n',
      path: 'spec.template.spec.restartPolicy',
      message: 'Unsupported value: "OnFailure": supported values: "Always"',
    },
    {
      name: 'maxSurge and maxUnavailable both 0',
      spec: SELECTOR + TEMPLATE + '  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: "0%"}}\n',
      path: 'spec.strategy.rollingUpdate.maxUnavailable',
      message: 'Invalid value: "0%": may not be 0 when `maxSurge` is 0',
    },
    {
      name: 'a malformed percentage',
      spec: SELECTOR + TEMPLATE + '  strategy: {rollingUpdate: {maxSurge: "25"}}\n',
      path: 'spec.strategy.rollingUpdate.maxSurge',
      message: "a valid percent string must be a numeric string followed by an ending '%'",
    },
    {
      name: 'rollingUpdate with Recreate',
      spec: SELECTOR + TEMPLATE + '  strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}\n',
      path: 'spec.strategy.rollingUpdate',
      message: "Forbidden: may not be specified when strategy `type` is 'Recreate'",
    },
    {
      name: 'unsupported selector operator',
      spec: '  selector: {matchExpressions: [{key: app, operator: Equals, values: [reviews]}]}\n' + TEMPLATE,
      path: 'spec.selector.matchExpressions[0].operator',
      message: 'Invalid value: "Equals": not a valid selector operator',
    },
    {
      name: 'progressDeadlineSeconds not above minReadySeconds',
      spec: SELECTOR + TEMPLATE + '  minReadySeconds: 30\n  progressDeadlineSeconds: 30\n',
      path: 'spec.progressDeadlineSeconds',
      message: 'Invalid value: 30: must be greater than minReadySeconds',
    },
    { name: 'unknown template field', spec: SELECTOR + TEMPLATE + '    replicas: 2\n', path: 'spec.template.replicas', message: 'unknown field "replicas"' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(dep(c.spec), K, [{ path: c.path, message: c.message }]));
});

describe('Istio bookinfo corpus (Service, ServiceAccount, Deployment)', () => {
  const registry = createKindRegistry([SERVICE, SERVICE_ACCOUNT, DEPLOYMENT]);
  const kube = fileURLToPath(new URL('../../../../shared/corpus/istio-bookinfo/platform/kube/', import.meta.url));
  for (const file of ['bookinfo.yaml', 'bookinfo-versions.yaml']) {
    it(`validates every document of ${file}`, () => {
      const loaded = loadText(readFileSync(kube + file, 'utf8'), file);
      assert.deepEqual(loaded.problems, []);
      assert.ok(loaded.documents.length >= 6);
      for (const d of loaded.documents) {
        const out = validateObject(d.raw, registry);
        assert.ok(out.ok, `${file}:${d.origin.line}: ${out.ok ? '' : out.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
        assert.deepEqual(out.warnings, []);
      }
    });
  }
});
