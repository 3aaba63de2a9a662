import { describe, it } from 'node:test';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { NAMESPACE } from './namespace.js';

const K = [NAMESPACE];
const ns = (rest: string, meta = '{name: bookinfo}'): string => `apiVersion: v1\nkind: Namespace\nmetadata: ${meta}\n${rest}`;

describe('Namespace', () => {
  it('accepts istio-injection and ambient namespaces', () => {
    expectValid(ns('', '{name: bookinfo, labels: {istio-injection: enabled}}'), K);
    expectValid(ns('', '{name: ambient, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}'), K);
  });

  it('accepts a namespace as the API server returns it (full-featured)', () => {
    expectValid(
      ns(
        'spec:\n  finalizers: [kubernetes, example.com/cleanup]\nstatus:\n  phase: Active\n  conditions: [{type: NamespaceDeletionDiscoveryFailure, status: "False", reason: ResourcesDiscovered, message: ok, lastTransitionTime: "2024-01-01T00:00:00Z"}]\n',
        '{name: istio-system, uid: abc, resourceVersion: "1", creationTimestamp: "2024-01-01T00:00:00Z", labels: {kubernetes.io/metadata.name: istio-system, topology.istio.io/network: network1}}',
      ),
      K,
    );
  });

  const invalid: { name: string; doc: string; path: string; message: string }[] = [
    { name: 'uppercase name', doc: ns('', '{name: BookInfo}'), path: 'metadata.name', message: 'Invalid value: "BookInfo": a lowercase RFC 1123 label must consist of' },
    { name: 'dotted name (not a label)', doc: ns('', '{name: book.info}'), path: 'metadata.name', message: 'a lowercase RFC 1123 label must consist of' },
    { name: 'a namespace on a cluster-scoped kind', doc: ns('', '{name: a, namespace: b}'), path: 'metadata.namespace', message: 'Forbidden: not allowed on this type' },
    {
      name: 'unqualified finalizer',
      doc: ns('spec: {finalizers: [cleanup]}\n'),
      path: 'spec.finalizers[0]',
      message: 'Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified',
    },
    {
      name: 'unsupported phase',
      doc: ns('status: {phase: Deleting}\n'),
      path: 'status.phase',
      message: 'Unsupported value: "Deleting": supported values: "Active", "Terminating"',
    },
    { name: 'unknown spec field', doc: ns('spec: {finalizer: [kubernetes]}\n'), path: 'spec.finalizer', message: 'unknown field "finalizer"' },
    { name: 'bad label value', doc: ns('', '{name: a, labels: {istio-injection: "yes please"}}'), path: 'metadata.labels.istio-injection', message: 'a valid label must be' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(c.doc, K, [{ path: c.path, message: c.message }]));
});
