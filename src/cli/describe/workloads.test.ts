// How `x describe` finds the workload a name designates: registered workloads read from the workload
// API's JSON (malformed entries skipped), Pods and WorkloadEntries of the config, exact names before
// unique prefixes, and errors that list what there is.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKindRegistry } from '../../api/kind.js';
import { ALL_KINDS } from '../../api/kinds.js';
import { loadText } from '../../api/load.js';
import { validateDocuments } from '../../config/validate-documents.js';
import { configWorkloads, parseWorkloadList, pickWorkload, unknownWorkload } from './workloads.js';
import type { WorkloadInfo } from './types.js';

const w = (name: string, namespace = 'default'): WorkloadInfo => ({ name, namespace, labels: {}, address: '', serviceAccount: 'default', ports: {} });
const LIST = [w('reviews-v1-7f9c-x2k4p'), w('reviews-v2-5b6c-q8j2m'), w('ratings-v1-1'), w('reviews-v1-aaaa-bbbbb', 'shop')];

describe('pickWorkload', () => {
  const cases: { name: string; arg: string; ns?: string; want: string | undefined }[] = [
    { name: 'an exact name', arg: 'ratings-v1-1', want: 'ratings-v1-1.default' },
    { name: 'a unique prefix', arg: 'reviews-v2', want: 'reviews-v2-5b6c-q8j2m.default' },
    { name: 'name.namespace', arg: 'reviews-v1.shop', want: 'reviews-v1-aaaa-bbbbb.shop' },
    { name: '-n', arg: 'reviews', ns: 'shop', want: 'reviews-v1-aaaa-bbbbb.shop' },
    { name: 'no match', arg: 'details', want: undefined },
  ];
  for (const c of cases)
    it(c.name, () => {
      const got = pickWorkload(LIST, c.arg, c.ns ?? 'default');
      assert.equal(got === undefined ? undefined : `${got.name}.${got.namespace}`, c.want);
    });

  it('refuses a prefix several workloads share, naming them', () => {
    assert.throws(() => pickWorkload(LIST, 'reviews', 'default'), { code: 'ISM_NOT_FOUND', message: '"reviews" matches several workloads in namespace default: reviews-v1-7f9c-x2k4p, reviews-v2-5b6c-q8j2m; name one' });
  });

  it('an unknown name lists the workloads there are', () => {
    assert.equal(unknownWorkload(LIST, 'ghost', 'default').message, 'no workload "ghost" in namespace default; known: ratings-v1-1.default, reviews-v1-7f9c-x2k4p.default, reviews-v1-aaaa-bbbbb.shop, reviews-v2-5b6c-q8j2m.default');
    assert.equal(unknownWorkload([], 'ghost.shop', 'default').message, 'no workload "ghost.shop" in namespace shop: the mesh has no workloads');
  });
});

describe('parseWorkloadList', () => {
  it('reads the workload API answer and skips what is not a workload', () => {
    const body = [
      { kind: 'Local', name: 'reviews-v1', namespace: 'default', labels: { app: 'reviews', n: 1 }, address: '127.10.0.3', serviceAccount: 'bookinfo-reviews', ports: { http: 9080, bad: 'x' } },
      { name: 'bare' },
      { namespace: 'no-name' },
      'junk',
    ];
    assert.deepEqual(parseWorkloadList(body), [
      { name: 'reviews-v1', namespace: 'default', labels: { app: 'reviews' }, address: '127.10.0.3', serviceAccount: 'bookinfo-reviews', ports: { http: 9080 }, source: 'workload API' },
      { name: 'bare', namespace: 'default', labels: {}, address: '', serviceAccount: 'default', ports: {}, source: 'workload API' },
    ]);
    assert.deepEqual(parseWorkloadList({ not: 'a list' }), []);
  });
});

describe('configWorkloads', () => {
  it('takes Pods with an IP and WorkloadEntries from the config', () => {
    const yaml = `apiVersion: v1
kind: Pod
metadata: {name: ratings-v1-abc, labels: {app: ratings}}
spec:
  containers: [{name: ratings, image: x, ports: [{name: http, containerPort: 9080}]}]
status: {podIP: 10.0.0.7}
---
apiVersion: v1
kind: Pod
metadata: {name: pending}
spec:
  containers: [{name: x, image: x}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: vms}
spec: {address: 10.1.0.1, labels: {app: legacy}, serviceAccount: legacy}
`;
    const loaded = loadText(yaml, 'w.yaml');
    const v = validateDocuments(loaded.documents, createKindRegistry(ALL_KINDS), {}, loaded.problems);
    assert.deepEqual(v.invalid, []);
    assert.deepEqual(
      configWorkloads(v.entries).map((x) => [x.name, x.namespace, x.address, x.labels, x.ports, x.source]),
      [
        ['ratings-v1-abc', 'default', '10.0.0.7', { app: 'ratings' }, { http: 9080 }, 'config'],
        ['vm-1', 'vms', '10.1.0.1', { app: 'legacy' }, {}, 'config'],
      ],
    );
  });
});
