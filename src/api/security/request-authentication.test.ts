import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { checkJwks, effectiveJwksTimeoutMs, jwksUriError, REQUEST_AUTHENTICATION } from './request-authentication.js';

const K = [REQUEST_AUTHENTICATION];
const head = (spec: string, meta = ''): string =>
  `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: ra, namespace: foo${meta}}\nspec:\n${spec}`;

const PUBLIC_JWKS = '{"keys":[{"kty":"RSA","e":"AQAB","n":"xAE7eB6qugXyCAG3yhh7pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQO1MV_xFj9VswgsCg4R6otmg5PV2He95lZdHtOcU5DXIg_pbhLdKXbi66GlVeK6ABZOUW3WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5oLbyVpmW6x9cfa7vs2WTfURiCrBoUqgBo_-4WTiULmmHSGZHOjzwa8WtrtOQGsAFjIbno85jp6MnGGGZPYZbDAa_b3y5u-YpW7ypZrvD8BgtKVjgtQgZhLAGezMt0ua3DRrWnKqTZ0BJ_EyxOGuHJrLsn00fnMQ"}]}';

describe('RequestAuthentication', () => {
  it('accepts the Istio docs examples', () => {
    expectValid(
      head(`  selector:
    matchLabels: {app: httpbin}
  jwtRules:
  - issuer: "issuer-foo"
    jwksUri: https://example.com/.well-known/jwks.json
    audiences: [bookstore_android.apps.example.com]
    fromHeaders:
    - name: x-jwt-assertion
      prefix: "Bearer "
    fromParams: [my_token]
    fromCookies: [auth-token]
    outputPayloadToHeader: x-jwt-payload
    forwardOriginalToken: true
    outputClaimToHeaders:
    - {header: x-my-company-jwt-group, claim: my-group}
    - {header: x-my-company-jwt-nested, claim: nested.key.group}
    timeout: 10s
    spaceDelimitedClaims: [custom_scope, roles]
  - issuer: "issuer-bar"
    jwks: '${PUBLIC_JWKS}'
`),
      K,
    );
    expectValid(
      `apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: {name: waypoint}
spec:
  targetRefs:
  - {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}
  jwtRules:
  - {jwks_uri: "http://keycloak.auth:8080/realms/x/protocol/openid-connect/certs"}
`,
      K,
    );
    expectValid(head('  {}\n'), K);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'empty audience', spec: '  jwtRules:\n  - {issuer: a, audiences: [""]}\n', path: 'spec.jwtRules[0].audiences[0]', message: 'audience must be non-empty string' },
    { name: 'no issuer or jwksUri', spec: '  jwtRules:\n  - {audiences: [a]}\n', path: 'spec.jwtRules[0].issuer', message: 'issuer or jwksUri must be non-empty string' },
    { name: 'jwksUri scheme', spec: '  jwtRules:\n  - {issuer: a, jwksUri: "ftp://x.com/keys"}\n', path: 'spec.jwtRules[0].jwksUri', message: 'URI scheme "ftp" is not supported' },
    { name: 'jwksUri without scheme', spec: '  jwtRules:\n  - {issuer: a, jwksUri: "example.com/keys"}\n', path: 'spec.jwtRules[0].jwksUri', message: 'URI scheme "" is not supported' },
    {
      name: 'jwksUri bad port',
      spec: '  jwtRules:\n  - {issuer: a, jwksUri: "https://x.com:port/keys"}\n',
      path: 'spec.jwtRules[0].jwksUri',
      message: 'parse "https://x.com:port/keys": invalid port ":port" after host',
    },
    {
      name: 'jwks and jwksUri',
      spec: `  jwtRules:\n  - {issuer: a, jwksUri: "https://x.com/k", jwks: '${PUBLIC_JWKS}'}\n`,
      path: 'spec.jwtRules[0]',
      message: 'only one of jwks or jwksUri can be set',
    },
    { name: 'unparsable jwks', spec: "  jwtRules:\n  - {issuer: a, jwks: '{\"keys\": [{\"kty\": \"XX\"}]}'}\n", path: 'spec.jwtRules[0].jwks', message: 'jwks parse error: ' },
    { name: 'header without name', spec: '  jwtRules:\n  - {issuer: a, fromHeaders: [{prefix: "Bearer "}]}\n', path: 'spec.jwtRules[0].fromHeaders[0].name', message: 'location header name must be non-empty string' },
    { name: 'empty query param', spec: '  jwtRules:\n  - {issuer: a, fromParams: [""]}\n', path: 'spec.jwtRules[0].fromParams[0]', message: 'location query must be non-empty string' },
    { name: 'empty cookie', spec: '  jwtRules:\n  - {issuer: a, fromCookies: [""]}\n', path: 'spec.jwtRules[0].fromCookies[0]', message: 'cookie name must be non-empty string' },
    {
      name: 'claim to header without claim',
      spec: '  jwtRules:\n  - {issuer: a, outputClaimToHeaders: [{header: x-a}]}\n',
      path: 'spec.jwtRules[0].outputClaimToHeaders[0]',
      message: 'outputClaimToHeaders header and claim value must be non-empty string',
    },
    {
      name: 'invalid claim header name',
      spec: '  jwtRules:\n  - {issuer: a, outputClaimToHeaders: [{header: "x:a", claim: sub}]}\n',
      path: 'spec.jwtRules[0].outputClaimToHeaders[0].header',
      message: 'header name x:a is not a valid header name',
    },
    { name: 'sub-millisecond timeout', spec: '  jwtRules:\n  - {issuer: a, timeout: 100us}\n', path: 'spec.jwtRules[0].timeout', message: 'duration must be greater than 1ms' },
    { name: 'bad timeout', spec: '  jwtRules:\n  - {issuer: a, timeout: "5"}\n', path: 'spec.jwtRules[0].timeout', message: 'bad Duration: time: missing unit in duration "5"' },
    { name: 'targetRef to a Deployment', spec: '  targetRef: {kind: Deployment, name: d}\n', path: 'spec.targetRef', message: 'targetRef must be to one of' },
    { name: 'unknown field', spec: '  jwtRules:\n  - {issuer: a, jwksUrl: "https://x"}\n', path: 'spec.jwtRules[0].jwksUrl', message: 'unknown field "jwksUrl"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('rejects the dry-run annotation', () => {
    expectInvalid(head('  {}\n', ', annotations: {"istio.io/dry-run": "true"}'), K, [
      { path: 'metadata.annotations["istio.io/dry-run"]', message: 'foo/ra has unsupported annotation istio.io/dry-run, please remove the annotation' },
    ]);
  });

  it('warns about private key material in inline jwks', () => {
    const jwks = '{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"},{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}]}';
    const w = expectValid(head(`  jwtRules:\n  - {issuer: a, jwks: '${jwks}'}\n`), K);
    assert.deepEqual(
      w.map((i) => [i.path, i.message]),
      [['spec.jwtRules[0].jwks', 'jwks key at index 1 contains private key material; only public keys are used for verification']],
    );
  });

  it('exposes helpers', () => {
    assert.equal(jwksUriError('https://[::1]:8443/keys'), undefined);
    assert.equal(jwksUriError('http://a b/keys'), 'parse "http://a b/keys": invalid character " " in host name');
    assert.equal(checkJwks('{"kty":"oct","k":"x"}').privateKeys.length, 1);
    assert.match(checkJwks('not json').parseError ?? '', /^failed to unmarshal JSON/);
    assert.equal(effectiveJwksTimeoutMs({}), 5000);
    assert.equal(effectiveJwksTimeoutMs({ timeout: '1.5s' }), 1500);
  });
});
