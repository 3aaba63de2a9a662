// Translation issues surfaced on ProxyResources: what the listener builder dropped and the credentials that
// could not be served, for the proxy that is affected, sorted by path and without repeats.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { translate, sortIssues } from '../../../src/translate/translate.js';
import { warning } from '../../../src/lib/issue.js';
import { meshFromYaml, testProxy } from '../../support/mesh.js';

const GW = { type: 'router', name: 'istio-ingressgateway-0', namespace: 'istio-system', ip: '10.1.0.200', labels: { istio: 'ingressgateway' } } as const;

const YAML = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-a, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a-credential}
  - port: {number: 443, name: https-a-again, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: other-credential}
  - port: {number: 443, name: https-b, protocol: HTTPS}
    hosts: [b.example.com]
    tls: {mode: SIMPLE, credentialName: a-credential}
`;

describe('translation issues', () => {
  const { snapshot } = meshFromYaml(YAML);

  it('a router sees the dropped duplicate server and each server whose credential is missing, sorted by path', () => {
    const res = translate(snapshot, testProxy(GW));
    assert.deepEqual(
      res.issues.map((i) => [i.path, i.message.replace(/ \(server .*$/, '')]),
      [
        ['Gateway istio-system/web spec.servers[0].tls.credentialName', 'failed to fetch key and certificate for kubernetes://a-credential: secret istio-system/a-credential not found'],
        ['Gateway istio-system/web spec.servers[1]', 'skipping server on gateway istio-system/web, duplicate host names: a.example.com'],
        ['Gateway istio-system/web spec.servers[2].tls.credentialName', 'failed to fetch key and certificate for kubernetes://a-credential: secret istio-system/a-credential not found'],
      ],
    );
    // The dropped server's credential is not asked for, so it is not reported either.
    assert.ok(!res.issues.some((i) => i.message.includes('other-credential')));
  });

  it('a proxy the Gateway does not select has no issues', () => {
    assert.deepEqual(translate(snapshot, testProxy({ name: 'app-0', namespace: 'default', labels: { app: 'x' } })).issues, []);
  });

  it('sortIssues orders by path, then message, and drops exact repeats', () => {
    const a = warning('b', 'x');
    const b = warning('a', 'y');
    const c = warning('a', 'x');
    assert.deepEqual(sortIssues([a, b, c, { ...a }, b]), [c, b, a]);
  });
});
