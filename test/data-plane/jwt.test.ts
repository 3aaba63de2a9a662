// RequestAuthentication end to end: the control plane fetches the issuer's JWKS from a real HTTP server
// (istiod's default: keys go to the proxy inline), the server's sidecar verifies tokens with Envoy's
// jwt_authn semantics and answers Envoy's messages, and an AuthorizationPolicy on requestPrincipals decides
// what a request without a token may do (Istio: a request without a token passes authentication and is left
// to authorization). A JWKS endpoint that is down makes every token of that issuer fail, as in Istio.
// https://istio.io/latest/docs/reference/config/security/request_authentication/

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { freePort, send, startMesh, startTestProxy, startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

const ISSUER = 'https://issuer.example';
const DOWN_ISSUER = 'https://down.example';

async function jwksServer(t: { after(f: () => Promise<void> | void): void }, keys: object): Promise<string> {
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(keys)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
}

interface Claims {
  iss?: string;
  aud?: string;
  sub?: string;
  exp?: number;
  groups?: string[];
}

async function token(key: CryptoKey, kid: string, c: Claims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const j = new SignJWT(c.groups !== undefined ? { groups: c.groups } : {}).setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt(now).setSubject(c.sub ?? 'alice');
  j.setIssuer(c.iss ?? ISSUER).setAudience(c.aud ?? 'reviews').setExpirationTime(c.exp ?? now + 600);
  return j.sign(key);
}

describe('RequestAuthentication through a real sidecar, keys fetched by the control plane', () => {
  it('verifies tokens as Envoy does and leaves token-less requests to authorization', async (t) => {
    const good = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(good.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const jwksUri = await jwksServer(t, { keys: [jwk] });
    const downPort = await freePort();
    const target = await freePort();
    await startUpstream(t, 'reviews', '127.0.0.1', target);
    const mesh = await startMesh(t, {
      'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: ${target}}]
`,
      'ra.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  jwtRules:
  - issuer: ${ISSUER}
    jwksUri: ${jwksUri}
    audiences: [reviews]
  - issuer: ${DOWN_ISSUER}
    jwksUri: http://127.0.0.1:${downPort}/jwks
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: secure-needs-a-token, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  action: DENY
  rules:
  - from: [{source: {notRequestPrincipals: ["*"]}}]
    to: [{operation: {paths: ["/secure*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: admins-only, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  rules:
  - to: [{operation: {notPaths: ["/admin*"]}}]
  - from: [{source: {requestPrincipals: ["${ISSUER}/alice"]}}]
    to: [{operation: {paths: ["/admin*"]}}]
    when: [{key: "request.auth.claims[groups]", values: [admins]}]
`,
    });
    mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: '127.0.6.1', labels: { app: 'reviews' }, ports: { http: target }, tlsMode: 'disabled' });
    await startTestProxy(t, mesh, { node: 'reviews-v1', ip: '127.0.6.1', labels: { app: 'reviews' } });
    const get = (path: string, jwt?: string) => send('127.0.6.1', target, { path, authority: 'reviews:9080', ...(jwt !== undefined ? { headers: { authorization: `Bearer ${jwt}` } } : {}) });

    const valid = await token(good.privateKey, 'k1', {});
    // The keys arrive once the control plane has fetched them (a push after the fetch).
    await waitFor(async () => (await get('/secure', valid)).status === 200, 'a valid token accepted', 10_000);

    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string, string | undefined, number, string][] = [
      ['no token, public path', '/public', undefined, 200, 'reviews'],
      ['no token, path needing a principal', '/secure', undefined, 403, 'RBAC: access denied'],
      ['valid token', '/secure', valid, 200, 'reviews'],
      ['expired', '/secure', await token(good.privateKey, 'k1', { exp: now - 3600 }), 401, 'Jwt is expired'],
      ['bad signature', '/secure', await token(other.privateKey, 'k1', {}), 401, 'Jwt verification fails'],
      ['wrong issuer', '/secure', await token(good.privateKey, 'k1', { iss: 'https://someone.else' }), 401, 'Jwt issuer is not configured'],
      ['wrong audience', '/secure', await token(good.privateKey, 'k1', { aud: 'ratings' }), 403, 'Audiences in Jwt are not allowed'],
      ['key not in the JWKS', '/secure', await token(other.privateKey, 'k2', {}), 401, "Jwks doesn't have key to match kid or alg from Jwt"],
      ['header not JSON', '/public', 'not.a.jwt', 401, 'Jwt header is an invalid JSON'],
      ['malformed (no dots)', '/public', 'notajwt', 401, 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections'],
    ];
    const got = [];
    for (const [name, path, jwt, , ] of cases) {
      const r = await get(path, jwt);
      got.push([name, r.status, r.body]);
    }
    assert.deepEqual(got, cases.map(([name, , , status, body]) => [name, status, body]));

    // Authorization on the verified token: request principal (iss/sub) and a list claim.
    const admin = [
      ['alice in admins', await token(good.privateKey, 'k1', { groups: ['dev', 'admins'] }), 200],
      ['alice, not in admins', await token(good.privateKey, 'k1', { groups: ['dev'] }), 403],
      ['bob in admins', await token(good.privateKey, 'k1', { sub: 'bob', groups: ['admins'] }), 403],
      ['no token', undefined, 403],
    ] as const;
    const adminGot = [];
    for (const [name, jwt] of admin) adminGot.push([name, (await get('/admin/x', jwt)).status]);
    assert.deepEqual(adminGot, admin.map(([name, , status]) => [name, status]));

    // An invalid token is refused with Envoy's challenge header.
    const expired = await get('/public', await token(good.privateKey, 'k1', { exp: now - 3600 }));
    assert.match(String(expired.headers['www-authenticate']), /^Bearer realm="http:\/\/reviews:9080\/public", error="invalid_token"$/);

    // The second issuer's JWKS endpoint is down: its tokens can never verify.
    const down = await get('/secure', await token(good.privateKey, 'k1', { iss: DOWN_ISSUER }));
    assert.equal(down.status, 401);
    assert.notEqual(down.body, 'reviews');
  });
});
