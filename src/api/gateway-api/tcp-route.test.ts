import { describe, it } from 'node:test';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { TCP_ROUTE } from './tcp-route.js';

const K = [TCP_ROUTE];
const doc = (spec: string, version = 'v1'): string =>
  `apiVersion: gateway.networking.k8s.io/${version}\nkind: TCPRoute\nmetadata: {name: tcp-app, namespace: default}\nspec:\n${spec}`;
const RULE = '  rules:\n  - backendRefs:\n    - {name: tcp-echo, port: 9000}\n';

describe('TCPRoute', () => {
  it('accepts the Istio TCP traffic-shifting example and a v1alpha2 route with two rules', () => {
    expectValid(
      doc('  parentRefs:\n  - {name: tcp-echo-gateway, sectionName: tcp-31400}\n  rules:\n  - backendRefs:\n    - {name: tcp-echo-v1, port: 9000, weight: 80}\n    - {name: tcp-echo-v2, port: 9000, weight: 20}\n'),
      K,
    );
    expectValid(
      doc('  parentRefs:\n  - {name: gw, port: 8080}\n  - {name: gw, port: 8081}\n  rules:\n  - name: a\n    backendRefs: [{name: a, port: 1}]\n  - name: b\n    backendRefs: [{name: b, port: 2}]\n', 'v1alpha2'),
      K,
    );
  });

  it('accepts a non-Service backend without a port', () => {
    expectValid(doc('  rules:\n  - backendRefs:\n    - {group: networking.istio.io, kind: Hostname, name: example.com}\n'), K);
  });

  const invalid: { name: string; spec: string; version?: string; path: string; message: string }[] = [
    { name: 'missing rules', spec: '  parentRefs: [{name: gw}]\n', path: 'spec.rules', message: 'required field is missing' },
    { name: 'Service backend without port', spec: '  rules:\n  - backendRefs: [{name: tcp-echo}]\n', path: 'spec.rules[0].backendRefs[0]', message: 'Must have port for Service reference' },
    { name: 'two rules in v1', spec: RULE + '  - backendRefs: [{name: b, port: 1}]\n', path: 'spec.rules', message: 'must have at most 1 entries' },
    { name: 'empty backendRefs', spec: '  rules:\n  - backendRefs: []\n', path: 'spec.rules[0].backendRefs', message: 'must have at least 1 entries' },
    { name: 'weight above 1000000', spec: '  rules:\n  - backendRefs: [{name: a, port: 1, weight: 1000001}]\n', path: 'spec.rules[0].backendRefs[0].weight', message: 'must be <= 1000000' },
    { name: 'port out of range', spec: '  rules:\n  - backendRefs: [{name: a, port: 70000}]\n', path: 'spec.rules[0].backendRefs[0].port', message: 'must be <= 65535' },
    { name: 'same parent twice without sectionName', spec: '  parentRefs: [{name: gw}, {name: gw, sectionName: tcp}]\n' + RULE, path: 'spec.parentRefs[1]', message: 'sectionName must be specified when parentRefs includes 2 or more references to the same parent' },
    { name: 'same parent and section twice', spec: '  parentRefs: [{name: gw, sectionName: tcp}, {name: gw, sectionName: tcp, kind: Gateway}]\n' + RULE, path: 'spec.parentRefs[1]', message: 'sectionName must be unique when parentRefs includes 2 or more references to the same parent' },
    { name: 'duplicate rule names in v1alpha2', version: 'v1alpha2', spec: '  rules:\n  - {name: a, backendRefs: [{name: a, port: 1}]}\n  - {name: a, backendRefs: [{name: b, port: 1}]}\n', path: 'spec.rules', message: 'Rule name must be unique within the route' },
    { name: 'same parent and port twice in v1alpha2', version: 'v1alpha2', spec: '  parentRefs: [{name: gw, port: 80}, {name: gw, port: 80}]\n' + RULE, path: 'spec.parentRefs[1]', message: 'sectionName or port must be unique when parentRefs includes 2 or more references to the same parent' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(doc(c.spec, c.version), K, [{ path: c.path, message: c.message }]));
});
