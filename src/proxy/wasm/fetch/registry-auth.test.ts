import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkRealm, credentialsFor, parseChallenges } from './registry-auth.js';

const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('credentialsFor (docker config JSON)', () => {
  const cases = [
    { name: 'auths + auth', secret: { auths: { 'ghcr.io': { auth: b64('u:p:w') } } }, registry: 'ghcr.io', want: { username: 'u', password: 'p:w' } },
    { name: 'username/password', secret: { auths: { 'ghcr.io': { username: 'a', password: 'b' } } }, registry: 'ghcr.io', want: { username: 'a', password: 'b' } },
    { name: 'key with scheme and path', secret: { auths: { 'https://ghcr.io/v2/': { auth: b64('a:b') } } }, registry: 'ghcr.io', want: { username: 'a', password: 'b' } },
    { name: 'Docker Hub legacy key', secret: { auths: { 'https://index.docker.io/v1/': { auth: b64('a:b') } } }, registry: 'docker.io', want: { username: 'a', password: 'b' } },
    { name: 'legacy .dockercfg shape', secret: { 'ghcr.io': { auth: b64('a:b') } }, registry: 'ghcr.io', want: { username: 'a', password: 'b' } },
    { name: 'registry token', secret: { auths: { 'ghcr.io': { registrytoken: 't' } } }, registry: 'ghcr.io', want: { registryToken: 't' } },
    { name: 'other registry', secret: { auths: { 'quay.io': { auth: b64('a:b') } } }, registry: 'ghcr.io', want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(credentialsFor(enc(c.secret), c.registry), c.want));
  it('refuses a secret that is not JSON', () => {
    assert.throws(() => credentialsFor(new TextEncoder().encode('nope'), 'ghcr.io'), { code: 'UNAUTHORIZED' });
  });
});

describe('parseChallenges', () => {
  it('reads a Bearer challenge with quoted params', () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/x:pull"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/x:pull' } },
    ]);
  });
  it('reads several challenges', () => {
    const got = parseChallenges('Basic realm="r", Bearer realm="https://t/x", error=invalid_token');
    assert.deepEqual(got.map((c) => c.scheme), ['basic', 'bearer']);
    assert.equal(got[1]?.params['error'], 'invalid_token');
  });
});

describe('checkRealm (SSRF guard, Istio pkg/wasm imagefetcher.go)', () => {
  const cases = [
    { name: 'public https realm', realm: 'https://auth.example.com/token', registry: 'ghcr.io', ok: true },
    { name: 'file scheme', realm: 'file:///etc/passwd', registry: 'ghcr.io', ok: false },
    { name: 'metadata address', realm: 'http://169.254.169.254/latest', registry: 'ghcr.io', ok: false },
    { name: 'metadata name', realm: 'http://metadata.google.internal/', registry: 'ghcr.io', ok: false },
    { name: 'loopback realm for a public registry', realm: 'http://127.0.0.1:8080/token', registry: 'ghcr.io', ok: false },
    { name: 'private realm for a public registry', realm: 'http://10.0.0.8/token', registry: 'ghcr.io', ok: false },
    { name: 'loopback realm for a loopback registry', realm: 'http://127.0.0.1:8080/token', registry: '127.0.0.1:5000', ok: true },
    { name: 'metadata realm even for a private registry', realm: 'http://169.254.169.254/', registry: '10.1.1.1:5000', ok: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.ok) checkRealm(c.realm, c.registry);
      else assert.throws(() => checkRealm(c.realm, c.registry), { code: 'UNAUTHORIZED' });
    });
  }
});
