// Token parsing, time and audience checks as jwt_verify_lib answers them: each malformed part of a token
// maps to the status (and so the 401 body) Envoy would send; clock skew applies on both ends; audiences
// compare without scheme and trailing slash; header value prefixes and token characters are found as
// Envoy's extractor finds them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { audiencesAllowed, checkJwtTime, compileAudiences, parseJwt, type ParsedJwt } from './jwt.js';
import { compileExtractor, extractTokens } from './extractor.js';
import { JwtStatus, jwtStatusText } from './status.js';

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const tok = (header: unknown, payload: unknown, sig = 'c2ln'): string => `${b64(header)}.${b64(payload)}.${sig}`;
const H = { alg: 'RS256', kid: 'k' };

describe('parseJwt', () => {
  const cases: readonly { name: string; token: string; want: JwtStatus }[] = [
    { name: 'one dot', token: 'a.b', want: JwtStatus.JwtBadFormat },
    { name: 'empty middle section', token: 'a..b', want: JwtStatus.JwtBadFormat },
    { name: 'four sections', token: 'a.b.c.d', want: JwtStatus.JwtBadFormat },
    { name: 'header not base64url', token: `a*b.${b64({})}.c2ln`, want: JwtStatus.JwtHeaderParseErrorBadBase64 },
    { name: 'header not an object', token: tok([1], {}), want: JwtStatus.JwtHeaderParseErrorBadJson },
    { name: 'no alg', token: tok({ kid: 'k' }, {}), want: JwtStatus.JwtHeaderBadAlg },
    { name: 'alg not a string', token: tok({ alg: 256 }, {}), want: JwtStatus.JwtHeaderBadAlg },
    { name: 'alg none', token: tok({ alg: 'none' }, {}), want: JwtStatus.JwtHeaderNotImplementedAlg },
    { name: 'kid not a string', token: tok({ alg: 'RS256', kid: 1 }, {}), want: JwtStatus.JwtHeaderBadKid },
    { name: 'payload not JSON', token: `${b64(H)}.${b64('x')}.c2ln`, want: JwtStatus.JwtPayloadParseErrorBadJson },
    { name: 'iss not a string', token: tok(H, { iss: 1 }), want: JwtStatus.JwtPayloadParseErrorIssNotString },
    { name: 'sub not a string', token: tok(H, { sub: {} }), want: JwtStatus.JwtPayloadParseErrorSubNotString },
    { name: 'exp a string', token: tok(H, { exp: '1' }), want: JwtStatus.JwtPayloadParseErrorExpNotInteger },
    { name: 'nbf negative', token: tok(H, { nbf: -1 }), want: JwtStatus.JwtPayloadParseErrorNbfOutOfRange },
    { name: 'aud list with a number', token: tok(H, { aud: ['a', 1] }), want: JwtStatus.JwtPayloadParseErrorAudNotString },
    { name: 'signature not base64url', token: `${b64(H)}.${b64({})}.s!g`, want: JwtStatus.JwtSignatureParseErrorBadBase64 },
  ];
  for (const c of cases)
    it(`${c.name} -> ${jwtStatusText(c.want)}`, () => {
      assert.equal(parseJwt(c.token), c.want);
    });

  it('a trailing dot is tolerated (empty sections are skipped) and claims are read', () => {
    const j = parseJwt(tok(H, { iss: 'i', aud: 'a', exp: 10.7, nbf: 2 }) + '.') as ParsedJwt;
    assert.equal(typeof j, 'object');
    assert.deepEqual([j.alg, j.kid, j.iss, j.audiences, j.exp, j.nbf], ['RS256', 'k', 'i', ['a'], 10, 2]);
  });
});

describe('time and audiences', () => {
  const j = (claims: object): ParsedJwt => parseJwt(tok(H, claims)) as ParsedJwt;
  it('clock skew applies to exp and nbf', () => {
    assert.equal(checkJwtTime(j({ exp: 100 }), 160, 60), JwtStatus.Ok);
    assert.equal(checkJwtTime(j({ exp: 100 }), 161, 60), JwtStatus.JwtExpired);
    assert.equal(checkJwtTime(j({ nbf: 200 }), 140, 60), JwtStatus.Ok);
    assert.equal(checkJwtTime(j({ nbf: 200 }), 139, 60), JwtStatus.JwtNotYetValid);
    assert.equal(checkJwtTime(j({}), 1e12, 60), JwtStatus.Ok);
  });
  it('audiences ignore http(s):// and one trailing slash; none configured allows all', () => {
    assert.equal(audiencesAllowed(compileAudiences(['https://api.example.com/']), ['api.example.com']), true);
    assert.equal(audiencesAllowed(compileAudiences(['api']), ['http://api']), true);
    assert.equal(audiencesAllowed(compileAudiences(['api']), ['other']), false);
    assert.equal(audiencesAllowed(compileAudiences([]), []), true);
  });
});

describe('token extraction', () => {
  const p = { issuer: 'i', fromHeaders: [], fromParams: [], fromCookies: [], forwardPayloadHeader: '', claimToHeaders: [] };
  it('default locations: the Bearer token after the prefix (up to the first non-token character), then access_token', () => {
    const x = compileExtractor([p]);
    const got = extractTokens(x, { authorization: 'Bearer aa.bb.cc, other' }, '/p?access_token=x.y.z&q=1');
    assert.deepEqual(
      got.map((l) => [l.token, l.header]),
      [
        ['aa.bb.cc', 'authorization'],
        ['x.y.z', undefined],
      ],
    );
  });
  it('a header without the configured prefix yields nothing; the prefix is case-sensitive', () => {
    const x = compileExtractor([p]);
    assert.deepEqual(extractTokens(x, { authorization: 'bearer aa.bb.cc' }, '/'), []);
  });
  it('quoted cookies are unquoted; the first occurrence wins', () => {
    const x = compileExtractor([{ ...p, fromCookies: ['jwt'] }]);
    assert.deepEqual(
      extractTokens(x, { cookie: ['a=1; jwt="t.o.k"', 'jwt=later'] }, '/').map((l) => l.token),
      ['t.o.k'],
    );
  });
});
