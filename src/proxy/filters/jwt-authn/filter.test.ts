// The jwt_authn filter as a client sees it, with real tokens signed by RS256 and ES256 keys made here:
// valid tokens pass with the payload in dynamic metadata; expired, not-yet-valid, badly signed, foreign,
// wrongly addressed, unknown-key and malformed tokens get Envoy's 401 (403 for audiences) with its body,
// www-authenticate header and details; missing tokens depend on allow_missing; tokens are found in custom
// headers, query parameters and cookies; forward, forward_payload_header and claim_to_headers edit the
// request; configs that cannot be honoured are refused.

import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testStream } from '../../../../test/support/http-stream.js';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { JwtAuthenticationSchema } from '../../../xds/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import type { HttpStream } from '../../http/http-stream.js';
import { RBACSchema } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import type { CompiledHcm } from '../../runtime/compile-hcm.js';
import { compileRbacFilter } from '../rbac/config.js';
import { runRbacFilter } from '../rbac/filter.js';
import { compileJwtAuthn, type JwtAuthnConfig } from './config.js';
import { runJwtAuthnFilter } from './filter.js';

const NOW_S = 1_800_000_000;
const nowMs = (): number => NOW_S * 1000;
const ISS = 'https://issuer.example.com';

const stream = testStream;

/** Runs the filter to its decision: 'continue' (synchronously or via resume) or 'replied'. */
async function run(cfg: JwtAuthnConfig, s: HttpStream): Promise<'continue' | 'replied'> {
  let resolve!: (v: 'continue' | 'replied') => void;
  const done = new Promise<'continue' | 'replied'>((r) => (resolve = r));
  const st = runJwtAuthnFilter(cfg, s, () => resolve('continue'), { nowMs });
  if (st === 'continue') return 'continue';
  const deadline = Date.now() + 5000;
  while (s.responseHeaders === undefined && Date.now() < deadline) {
    const r = await Promise.race([done, new Promise<undefined>((res) => setImmediate(() => res(undefined)))]);
    if (r !== undefined) return r;
  }
  return s.responseHeaders !== undefined ? 'replied' : assert.fail('filter neither resumed nor replied');
}

function compile(json: JsonObject): JwtAuthnConfig {
  const r = compileJwtAuthn(fromJson(JwtAuthenticationSchema, json), 'typed_config');
  if (!r.ok) assert.fail(r.problems.join('; '));
  return r.value;
}

let rsa: { priv: CryptoKey; jwk: JWK };
let ec: { priv: CryptoKey; jwk: JWK };
let other: { priv: CryptoKey };

async function token(claims: Record<string, unknown>, o: { key?: CryptoKey; alg?: string; kid?: string } = {}): Promise<string> {
  const alg = o.alg ?? 'RS256';
  return new SignJWT(claims).setProtectedHeader({ alg, kid: o.kid ?? (alg === 'ES256' ? 'ec-1' : 'rsa-1') }).sign(o.key ?? (alg === 'ES256' ? ec.priv : rsa.priv));
}

const good = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ iss: ISS, sub: 'alice', aud: 'bookinfo', exp: NOW_S + 600, scope: 'read write', ...extra });

/** Istio's shape: one provider, requires_any {provider, allow_missing}. */
function istioConfig(provider: JsonObject = {}, allowMissing = true): JwtAuthnConfig {
  const jwks = JSON.stringify({ keys: [rsa.jwk, ec.jwk] });
  const requirements: JsonObject[] = [{ providerName: 'origins-0' }];
  if (allowMissing) requirements.push({ allowMissing: {} });
  return compile({
    providers: { 'origins-0': { issuer: ISS, audiences: ['bookinfo'], localJwks: { inlineString: jwks }, payloadInMetadata: 'payload', normalizePayloadInMetadata: { spaceDelimitedClaims: ['permission', 'scope'] }, ...provider } },
    rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements } } }],
    bypassCorsPreflight: true,
  });
}

before(async () => {
  const r = await generateKeyPair('RS256', { extractable: true });
  rsa = { priv: r.privateKey, jwk: { ...(await exportJWK(r.publicKey)), kid: 'rsa-1', alg: 'RS256' } };
  const e = await generateKeyPair('ES256', { extractable: true });
  ec = { priv: e.privateKey, jwk: { ...(await exportJWK(e.publicKey)), kid: 'ec-1', alg: 'ES256' } };
  other = { priv: (await generateKeyPair('RS256')).privateKey };
});

describe('jwt_authn filter: verification outcomes', () => {
  const denied = (status: number, body: string, missing = false) => ({ status, body, missing });
  const cases: readonly { name: string; tok: () => Promise<string>; want: 'ok' | ReturnType<typeof denied> }[] = [
    { name: 'valid RS256 token', tok: () => token(good()), want: 'ok' },
    { name: 'valid ES256 token', tok: () => token(good(), { alg: 'ES256' }), want: 'ok' },
    { name: 'expired beyond the 60s skew', tok: () => token(good({ exp: NOW_S - 61 })), want: denied(401, 'Jwt is expired') },
    { name: 'expired within the skew', tok: () => token(good({ exp: NOW_S - 30 })), want: 'ok' },
    { name: 'nbf in the future', tok: () => token(good({ nbf: NOW_S + 3600 })), want: denied(401, 'Jwt not yet valid') },
    { name: 'signed by another key with a known kid', tok: () => token(good(), { key: other.priv }), want: denied(401, 'Jwt verification fails') },
    { name: 'issuer not configured', tok: () => token(good({ iss: 'https://evil.example.com' })), want: denied(401, 'Jwt issuer is not configured') },
    { name: 'audience not allowed (403)', tok: () => token(good({ aud: ['other'] })), want: denied(403, 'Audiences in Jwt are not allowed') },
    { name: 'audience matched after scheme/slash sanitizing', tok: () => token(good({ aud: 'https://bookinfo/' })), want: 'ok' },
    { name: 'unknown kid', tok: () => token(good(), { kid: 'rotated-away' }), want: denied(401, "Jwks doesn't have key to match kid or alg from Jwt") },
    { name: 'malformed: two sections', tok: async () => 'abc.def', want: denied(401, 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections') },
    { name: 'malformed: header not JSON', tok: async () => `${Buffer.from('nope').toString('base64url')}.e30.c2ln`, want: denied(401, 'Jwt header is an invalid JSON') },
    { name: 'alg none', tok: async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.c2ln`, want: denied(401, 'Jwt header [alg] is not supported') },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const { s, sent } = stream({ authorization: `Bearer ${await c.tok()}` }, '/api/v1?x=1');
      const got = await run(istioConfig(), s);
      if (c.want === 'ok') {
        assert.equal(got, 'continue');
        const md = s.info.dynamicMetadata['envoy.filters.http.jwt_authn'] as { payload: Record<string, unknown> } | undefined;
        assert.equal(md?.payload['sub'], 'alice');
        assert.deepEqual(md?.payload['scope'], ['read', 'write'], 'space-delimited claims normalized');
        assert.equal(s.request.headers['authorization'], undefined, 'forward: false removes the token header');
        return;
      }
      assert.equal(got, 'replied');
      assert.deepEqual([sent.status, sent.body], [c.want.status, c.want.body]);
      assert.equal(sent.headers?.['www-authenticate'], 'Bearer realm="http://app.example.com/api/v1?x=1", error="invalid_token"');
      assert.equal(s.info.details, `jwt_authn_access_denied{${c.want.body.replace(/ /g, '_')}}`);
      assert.equal(s.info.flags, 0);
      assert.equal(s.info.dynamicMetadata['envoy.filters.http.jwt_authn'], undefined);
    });
});

describe('jwt_authn filter: missing tokens', () => {
  it('allow_missing lets a request without a token through, with no metadata', async () => {
    const { s } = stream({});
    assert.equal(runJwtAuthnFilter(istioConfig(), s, () => assert.fail('no resume expected'), { nowMs }), 'continue');
    assert.equal(s.info.dynamicMetadata['envoy.filters.http.jwt_authn'], undefined);
  });

  it('a required provider answers 401 `Jwt is missing` without error="invalid_token"', async () => {
    const { s, sent } = stream({}, '/x');
    assert.equal(await run(istioConfig({}, false), s), 'replied');
    assert.deepEqual([sent.status, sent.body, sent.headers?.['www-authenticate']], [401, 'Jwt is missing', 'Bearer realm="http://app.example.com/x"']);
    assert.equal(s.info.details, 'jwt_authn_access_denied{Jwt_is_missing}');
  });

  it('a non-Bearer authorization header is no token', async () => {
    const { s } = stream({ authorization: 'Basic YWxpY2U6c2VjcmV0' });
    assert.equal(await run(istioConfig(), s), 'continue');
  });

  it('allow_missing_or_failed lets a bad token through without metadata', async () => {
    const cfg = compile({
      providers: { p: { issuer: ISS, localJwks: { inlineString: JSON.stringify({ keys: [rsa.jwk] }) }, payloadInMetadata: 'payload' } },
      rules: [{ match: { prefix: '/' }, requires: { allowMissingOrFailed: {} } }],
    });
    const { s } = stream({ authorization: `Bearer ${await token(good({ exp: NOW_S - 1000 }))}` });
    assert.equal(await run(cfg, s), 'continue');
    assert.equal(s.info.dynamicMetadata['envoy.filters.http.jwt_authn'], undefined);
  });

  it('CORS preflights bypass the check', async () => {
    const { s } = stream({ origin: 'https://a.example', 'access-control-request-method': 'POST' }, '/', 'OPTIONS');
    assert.equal(runJwtAuthnFilter(istioConfig({}, false), s, () => undefined, { nowMs }), 'continue');
  });
});

describe('jwt_authn filter: token locations and request edits', () => {
  it('custom header with a prefix, forwarded when forward is true', async () => {
    const cfg = istioConfig({ fromHeaders: [{ name: 'X-Jwt-Assertion', valuePrefix: 'Token ' }], forward: true });
    const t = await token(good());
    const { s } = stream({ 'x-jwt-assertion': `Token ${t}` });
    assert.equal(await run(cfg, s), 'continue');
    assert.equal(s.request.headers['x-jwt-assertion'], `Token ${t}`);
    const bad = stream({ 'x-jwt-assertion': `Token ${await token(good({ exp: 1 }))}` });
    assert.equal(await run(cfg, bad.s), 'replied');
    assert.equal(bad.sent.body, 'Jwt is expired');
  });

  it('query parameter (the default access_token, and a configured one)', async () => {
    const t = await token(good());
    const d = stream({}, `/p?access_token=${t}`);
    assert.equal(await run(istioConfig(), d.s), 'continue');
    const bad = stream({}, `/p?token=${await token(good(), { key: other.priv })}`);
    assert.equal(await run(istioConfig({ fromParams: ['token'] }), bad.s), 'replied');
    assert.equal(bad.sent.body, 'Jwt verification fails');
  });

  it('cookie', async () => {
    const cfg = istioConfig({ fromCookies: ['session'] });
    const { s } = stream({ cookie: `a=b; session=${await token(good())}` });
    assert.equal(await run(cfg, s), 'continue');
    assert.equal((s.info.dynamicMetadata['envoy.filters.http.jwt_authn'] as { payload: { sub: string } }).payload.sub, 'alice');
    const bad = stream({ cookie: `session=${await token(good({ iss: 'x' }))}` });
    assert.equal(await run(cfg, bad.s), 'replied');
  });

  it('claim_to_headers and forward_payload_header set request headers; spoofed copies are removed first', async () => {
    const cfg = istioConfig({ claimToHeaders: [{ headerName: 'x-sub', claimName: 'sub' }, { headerName: 'x-level', claimName: 'org.level' }], forwardPayloadHeader: 'x-jwt-payload' });
    const t = await token(good({ org: { level: 3 } }));
    const { s } = stream({ authorization: `Bearer ${t}`, 'x-sub': 'mallory', 'x-jwt-payload': 'forged' });
    assert.equal(await run(cfg, s), 'continue');
    assert.equal(s.request.headers['x-sub'], 'alice');
    assert.equal(s.request.headers['x-level'], '3');
    assert.equal(s.request.headers['x-jwt-payload'], t.split('.')[1]);
  });

  it('a downstream reset during verification neither resumes nor replies', async () => {
    const cfg = istioConfig();
    const t = await token(good());
    const { s, sent, reset } = stream({ authorization: `Bearer ${t}` });
    let resumed = false;
    assert.equal(runJwtAuthnFilter(cfg, s, () => (resumed = true), { nowMs }), 'stop');
    reset();
    // A twin request started after it has finished verifying: the reset one is done by now too.
    assert.equal(await run(cfg, stream({ authorization: `Bearer ${t}` }).s), 'continue');
    await new Promise((r) => setImmediate(r));
    assert.equal(resumed, false);
    assert.equal(sent.status, undefined);
  });
});

describe('jwt_authn filter: Istio multi-provider shape and configuration', () => {
  it('two issuers: each valid token passes, an invalid one fails with its own error', async () => {
    const jwks = JSON.stringify({ keys: [rsa.jwk] });
    const p = (issuer: string): JsonObject => ({ issuer, localJwks: { inlineString: jwks }, payloadInMetadata: 'payload' });
    const inner = (n: string): JsonObject => ({ requiresAny: { requirements: [{ providerName: n }, { allowMissing: {} }] } });
    const cfg = compile({
      providers: { 'origins-0': p(ISS), 'origins-1': p('https://second.example.com') },
      rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'origins-0' }, { providerName: 'origins-1' }, { requiresAll: { requirements: [inner('origins-0'), inner('origins-1')] } }] } } }],
    });
    assert.equal(await run(cfg, stream({ authorization: `Bearer ${await token(good({ iss: 'https://second.example.com' }))}` }).s), 'continue');
    assert.equal(await run(cfg, stream({}).s), 'continue');
    const bad = stream({ authorization: `Bearer ${await token(good({ exp: 5 }))}` });
    assert.equal(await run(cfg, bad.s), 'replied');
    assert.equal(bad.sent.body, 'Jwt is expired');
  });

  it('an invalid JWKS fails every token with "Jwks doesn\'t have any valid public key"', async () => {
    const { s, sent } = stream({ authorization: `Bearer ${await token(good())}` });
    assert.equal(await run(istioConfig({ localJwks: { inlineString: '{"keys":[]}' } }), s), 'replied');
    assert.equal(sent.body, "Jwks doesn't have any valid public key");
  });

  it('rules pick the requirement by path; unmatched paths are not checked', async () => {
    const cfg = compile({
      providers: { p: { issuer: ISS, localJwks: { inlineString: JSON.stringify({ keys: [rsa.jwk] }) } } },
      rules: [{ match: { path: '/healthz' } }, { match: { prefix: '/api' }, requires: { providerName: 'p' } }],
    });
    assert.equal(runJwtAuthnFilter(cfg, stream({}, '/healthz').s, () => undefined, { nowMs }), 'continue');
    assert.equal(runJwtAuthnFilter(cfg, stream({}, '/other').s, () => undefined, { nowMs }), 'continue');
    assert.equal(await run(cfg, stream({}, '/api/x').s), 'replied');
  });

  it('refuses what it cannot honour, naming the field', () => {
    const r = compileJwtAuthn(
      fromJson(JwtAuthenticationSchema, {
        providers: { p: { issuer: ISS, remoteJwks: { httpUri: { uri: 'https://x/jwks', cluster: 'c', timeout: '1s' } } } },
        rules: [{ match: { prefix: '/' }, requires: { providerName: 'q' } }],
      }),
      'typed_config',
    );
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.ok(r.problems.some((p) => p.startsWith('typed_config.providers[p].remote_jwks')));
      assert.ok(r.problems.includes("typed_config.rules[0].requires: Required provider ['q'] is not configured."));
    }
  });
});

describe('jwt_authn filter: what RBAC reads next', () => {
  it('an Istio requestPrincipals-style metadata rule sees the verified iss and sub', async () => {
    const r = compileRbacFilter(
      fromJson(RBACSchema, {
        rules: {
          action: 'ALLOW',
          policies: {
            p: {
              permissions: [{ any: true }],
              principals: [{ metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: 'sub' }], value: { stringMatch: { exact: 'alice' } } } }],
            },
          },
        },
      }),
      'rbac',
    );
    if (!r.ok) assert.fail(r.problems.join('; '));
    const hcm = { statPrefix: 'in', useRemoteAddress: false, xffNumTrustedHops: 0, skipXffAppend: false } as CompiledHcm;
    const ok = stream({ authorization: `Bearer ${await token(good())}` });
    assert.equal(await run(istioConfig(), ok.s), 'continue');
    assert.equal(runRbacFilter(r.value, ok.s, hcm, undefined), 'continue');
    const anon = stream({});
    assert.equal(await run(istioConfig(), anon.s), 'continue');
    assert.equal(runRbacFilter(r.value, anon.s, hcm, undefined), 'stop');
    assert.equal(anon.sent.status, 403);
  });
});
