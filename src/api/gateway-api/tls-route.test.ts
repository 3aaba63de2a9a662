import { describe, it } from 'node:test';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { TLS_ROUTE } from './tls-route.js';

const K = [TLS_ROUTE];
const doc = (spec: string, version = 'v1'): string =>
  `apiVersion: gateway.networking.k8s.io/${version}\nkind: TLSRoute\nmetadata: {name: tls, namespace: default}\nspec:\n${spec}`;
const RULE = '  rules:\n  - backendRefs:\n    - {name: nginx, port: 443}\n';

describe('TLSRoute', () => {
  it("accepts Istio's TLS passthrough example (v1, v1alpha3) and a v1alpha2 route without hostnames", () => {
    const spec = '  parentRefs:\n  - {name: gateway, namespace: istio-ingress}\n  hostnames: ["nginx.example.com"]\n' + RULE;
    expectValid(doc(spec), K);
    expectValid(doc(spec, 'v1alpha3'), K);
    expectValid(doc('  parentRefs: [{name: gateway}]\n' + RULE + '  - backendRefs: [{name: b, port: 443}]\n', 'v1alpha2'), K);
  });

  it('accepts wildcard hostnames', () => {
    expectValid(doc('  hostnames: ["*.example.com", "a.b.c"]\n' + RULE), K);
  });

  const invalid: { name: string; spec: string; version?: string; path: string; message: string }[] = [
    { name: 'missing hostnames in v1', spec: RULE, path: 'spec.hostnames', message: 'required field is missing' },
    { name: 'empty hostnames in v1alpha3', version: 'v1alpha3', spec: '  hostnames: []\n' + RULE, path: 'spec.hostnames', message: 'must have at least 1 entries' },
    { name: 'an IP as hostname', spec: '  hostnames: ["10.0.0.1"]\n' + RULE, path: 'spec.hostnames', message: 'Hostnames cannot contain an IP' },
    { name: 'a partial wildcard', spec: '  hostnames: ["foo*.example.com"]\n' + RULE, path: 'spec.hostnames[0]', message: "should match '^(\\*\\.)?[a-z0-9]" },
    { name: 'two rules in v1', spec: '  hostnames: [a.com]\n' + RULE + '  - backendRefs: [{name: b, port: 443}]\n', path: 'spec.rules', message: 'must have at most 1 entries' },
    { name: 'Service backend without port', spec: '  hostnames: [a.com]\n  rules:\n  - backendRefs: [{name: nginx}]\n', path: 'spec.rules[0].backendRefs[0]', message: 'Must have port for Service reference' },
    { name: 'unknown field', spec: '  hostnames: [a.com]\n  sniHosts: [a.com]\n' + RULE, path: 'spec.sniHosts', message: 'unknown field "sniHosts"' },
    { name: 'bad sectionName', spec: '  parentRefs: [{name: gw, sectionName: TLS_Pass}]\n  hostnames: [a.com]\n' + RULE, path: 'spec.parentRefs[0].sectionName', message: 'should match' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(doc(c.spec, c.version), K, [{ path: c.path, message: c.message }]));
});
