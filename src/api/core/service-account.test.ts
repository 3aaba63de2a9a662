import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { SERVICE_ACCOUNT, serviceAccountSpiffeId } from './service-account.js';

const K = [SERVICE_ACCOUNT];
const sa = (rest: string, meta = '{name: bookinfo-reviews, labels: {account: reviews}}'): string =>
  `apiVersion: v1\nkind: ServiceAccount\nmetadata: ${meta}\n${rest}`;

describe('ServiceAccount', () => {
  it('accepts the bookinfo account and a full-featured one', () => {
    expectValid(sa(''), K);
    expectValid(
      sa(
        'automountServiceAccountToken: false\nsecrets:\n- {name: reviews-token-x7k2p, namespace: default, kind: Secret, apiVersion: v1}\nimagePullSecrets:\n- {name: registry-credentials}\n',
        '{name: istio-ingressgateway-service-account, namespace: istio-system, annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/x"}}',
      ),
      K,
    );
  });

  it('builds the SPIFFE identity', () => {
    assert.equal(serviceAccountSpiffeId('cluster.local', 'default', 'bookinfo-reviews'), 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
  });

  it('warns on an image pull secret name that can never resolve', () => {
    const w = expectValid(sa('imagePullSecrets: [{name: My_Secret}]\n'), K);
    assert.equal(w.length, 1);
    assert.equal(w[0]?.path, 'imagePullSecrets[0].name');
  });

  const invalid: { name: string; doc: string; path: string; message: string }[] = [
    { name: 'a spec (ServiceAccount has none)', doc: sa('spec: {automountServiceAccountToken: false}\n'), path: 'spec', message: 'unknown field "spec"' },
    { name: 'a name that is not a subdomain', doc: sa('', '{name: Bookinfo_Reviews}'), path: 'metadata.name', message: 'a lowercase RFC 1123 subdomain must consist of' },
    { name: 'automount as a string', doc: sa('automountServiceAccountToken: "no"\n'), path: 'automountServiceAccountToken', message: 'must be a boolean' },
    { name: 'secrets as a map', doc: sa('secrets: {name: x}\n'), path: 'secrets', message: 'must be a list' },
    { name: 'unknown secret reference field', doc: sa('secrets: [{secretName: x}]\n'), path: 'secrets[0].secretName', message: 'unknown field "secretName"' },
    { name: 'misspelt imagePullSecrets', doc: sa('imagePullSecret: [{name: x}]\n'), path: 'imagePullSecret', message: 'unknown field "imagePullSecret"' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(c.doc, K, [{ path: c.path, message: c.message }]));
});
