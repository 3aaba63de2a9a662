import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { PEER_AUTHENTICATION } from './peer-authentication.js';

const K = [PEER_AUTHENTICATION];
const head = (spec: string): string =>
  `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: pa, namespace: foo}\nspec:\n${spec}`;

describe('PeerAuthentication', () => {
  it('accepts mesh-wide STRICT and workload port-level modes', () => {
    expectValid(head('  mtls: {mode: STRICT}\n'), K);
    expectValid(head('  selector: {matchLabels: {app: reviews}}\n  mtls: {mode: PERMISSIVE}\n  portLevelMtls:\n    "8080": {mode: DISABLE}\n'), K);
  });

  it('accepts a missing spec (mode UNSET inherits) and the v1beta1 alias', () => {
    expectValid('apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default}\n', K);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'port-level without selector', spec: '  portLevelMtls:\n    "80": {mode: STRICT}\n', path: 'spec.portLevelMtls', message: 'mesh/namespace peer authentication cannot have port level mTLS' },
    { name: 'empty port-level map', spec: '  selector: {matchLabels: {app: a}}\n  portLevelMtls: {}\n', path: 'spec.portLevelMtls', message: 'port level mTLS, if defined, must have at least one element' },
    { name: 'port out of range', spec: '  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    "70000": {mode: STRICT}\n', path: 'spec.portLevelMtls["70000"]', message: 'port must be in range 1..65535' },
    { name: 'unknown mode', spec: '  mtls: {mode: STRICTER}\n', path: 'spec.mtls.mode', message: 'must be one of UNSET, DISABLE, PERMISSIVE, STRICT' },
    { name: 'wildcard selector', spec: '  selector: {matchLabels: {app: "*"}}\n', path: 'spec.selector.matchLabels.app', message: 'wildcard is not supported in selector: "app=*"' },
    { name: 'unknown field', spec: '  mtl: {mode: STRICT}\n', path: 'spec.mtl', message: 'unknown field "mtl"' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('warns on a selector without labels', () => {
    const w = expectValid(head('  selector: {}\n'), K);
    assert.deepEqual(w.map((i) => i.message), ['workload selector specified without labels']);
  });

  it('reports every problem at once, structural and semantic', () => {
    const issues = expectInvalid(head('  mtls: {mode: NOPE}\n  portLevelMtls:\n    "0": {mode: STRICT}\n  extra: 1\n'), K, [
      { path: 'spec.mtls.mode', message: 'must be one of' },
      { path: 'spec.extra', message: 'unknown field "extra"' },
      { path: 'spec.portLevelMtls', message: 'cannot have port level mTLS' },
      { path: 'spec.portLevelMtls["0"]', message: 'port must be in range 1..65535' },
    ]);
    assert.equal(issues.length, 4);
  });
});
