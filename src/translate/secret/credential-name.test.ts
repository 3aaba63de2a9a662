import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCredentialRequest, type CredentialRequest } from './credential-name.js';

const ROUTER = { namespace: 'istio-system', router: true };
const SIDECAR = { namespace: 'istio-system', router: false };

describe('parseCredentialRequest', () => {
  const cases: [string, typeof ROUTER, CredentialRequest | RegExp][] = [
    ['kubernetes://web', ROUTER, { kind: 'secret', resourceName: 'kubernetes://web', namespace: 'istio-system', name: 'web', caOnly: false }],
    ['kubernetes://web-cacert', ROUTER, { kind: 'secret', resourceName: 'kubernetes://web-cacert', namespace: 'istio-system', name: 'web-cacert', caOnly: true }],
    ['kubernetes://istio-system/web', ROUTER, { kind: 'secret', resourceName: 'kubernetes://istio-system/web', namespace: 'istio-system', name: 'web', caOnly: false }],
    ['kubernetes://default/web', ROUTER, /cross namespace secret reference requires ReferenceGrant/],
    ['kubernetes://web', SIDECAR, /only gateways are authorized/],
    ['kubernetes://web-cacert', SIDECAR, { kind: 'secret', resourceName: 'kubernetes://web-cacert', namespace: 'istio-system', name: 'web-cacert', caOnly: true }],
    ['kubernetes-gateway://default/web', ROUTER, { kind: 'secret', resourceName: 'kubernetes-gateway://default/web', namespace: 'default', name: 'web', caOnly: false }],
    ['kubernetes-gateway://web', ROUTER, /Expected namespace and name/],
    ['configmap://default/ca-cacert', ROUTER, /ConfigMap credentials are not supported/],
    ['invalid://', ROUTER, { kind: 'ignored', resourceName: 'invalid://' }],
    ['vault://x', ROUTER, /unknown resource type: vault:\/\/x/],
  ];
  for (const [name, who, want] of cases) {
    it(`${name} for a ${who.router ? 'router' : 'sidecar'}`, () => {
      const got = parseCredentialRequest(name, who);
      if (want instanceof RegExp) {
        assert.equal(got.kind, 'denied');
        assert.match(got.kind === 'denied' ? got.reason : '', want);
      } else assert.deepEqual(got, want);
    });
  }
});
