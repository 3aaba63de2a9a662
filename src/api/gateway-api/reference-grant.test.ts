import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid, validateYaml } from '../../../test/support/kinds.js';
import { REFERENCE_GRANT, referenceGrantAllows, type ReferenceGrant } from './reference-grant.js';

const K = [REFERENCE_GRANT];
const doc = (spec: string, version = 'v1beta1'): string =>
  `apiVersion: gateway.networking.k8s.io/${version}\nkind: ReferenceGrant\nmetadata: {name: allow-routes, namespace: bar}\nspec:\n${spec}`;
const GOOD = '  from:\n  - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: foo}\n  to:\n  - {group: "", kind: Service}\n';

describe('ReferenceGrant', () => {
  it('accepts the Gateway API docs example (v1beta1 and v1) and a Secret grant with a name', () => {
    expectValid(doc(GOOD), K);
    expectValid(doc(GOOD, 'v1'), K);
    expectValid(doc('  from:\n  - {group: gateway.networking.k8s.io, kind: Gateway, namespace: istio-ingress}\n  to:\n  - {group: "", kind: Secret, name: cert}\n'), K);
  });

  it('answers whether a grant allows a reference', () => {
    const out = validateYaml(doc(GOOD), K);
    assert.ok(out.ok);
    const g = out.resource as ReferenceGrant;
    const from = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'foo' };
    assert.equal(referenceGrantAllows(g, from, { group: '', kind: 'Service', name: 'any' }), true);
    assert.equal(referenceGrantAllows(g, { ...from, namespace: 'baz' }, { group: '', kind: 'Service', name: 'any' }), false);
    assert.equal(referenceGrantAllows(g, from, { group: '', kind: 'Secret', name: 'any' }), false);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'missing from', spec: '  to:\n  - {group: "", kind: Service}\n', path: 'spec.from', message: 'required field is missing' },
    { name: 'empty to', spec: '  from:\n  - {group: "", kind: Service, namespace: a}\n  to: []\n', path: 'spec.to', message: 'must have at least 1 entries' },
    { name: 'from without group', spec: '  from:\n  - {kind: HTTPRoute, namespace: foo}\n  to:\n  - {group: "", kind: Service}\n', path: 'spec.from[0].group', message: 'required field is missing' },
    { name: 'bad namespace', spec: '  from:\n  - {group: "", kind: HTTPRoute, namespace: Foo_Bar}\n  to:\n  - {group: "", kind: Service}\n', path: 'spec.from[0].namespace', message: "should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'" },
    { name: 'bad kind', spec: '  from:\n  - {group: "", kind: 9Route, namespace: foo}\n  to:\n  - {group: "", kind: Service}\n', path: 'spec.from[0].kind', message: 'should match' },
    { name: 'empty to name', spec: '  from:\n  - {group: "", kind: HTTPRoute, namespace: foo}\n  to:\n  - {group: "", kind: Service, name: ""}\n', path: 'spec.to[0].name', message: 'must have at least 1 characters' },
    { name: 'unknown field', spec: GOOD + '  toNamespace: x\n', path: 'spec.toNamespace', message: 'unknown field "toNamespace"' },
    { name: 'more than 16 to entries', spec: '  from:\n  - {group: "", kind: HTTPRoute, namespace: foo}\n  to:\n' + '  - {group: "", kind: Service}\n'.repeat(17), path: 'spec.to', message: 'must have at most 16 entries' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(doc(c.spec), K, [{ path: c.path, message: c.message }]));
});
