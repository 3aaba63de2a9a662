// The session state encodings as Envoy's cookie and header extensions write and read them, and the configs
// that choose them (compile errors with Envoy's messages).

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { StatefulSessionPerRouteSchema, StatefulSessionSchema } from '../../../xds/gen/envoy/extensions/filters/http/stateful_session/v3/stateful_session_pb.js';
import { HeaderBasedSessionStateSchema } from '../../../xds/gen/envoy/extensions/http/stateful_session/header/v3/header_pb.js';
import { CookieBasedSessionStateSchema } from '../../../xds/gen/envoy/extensions/http/stateful_session/cookie/v3/cookie_pb.js';
import { pack } from '../../../xds/codec.js';
import type { HeaderMap } from '../../http/headers.js';
import { addressFromCookie, cookieForAddress, sessionAddress, writeSession } from './session-state.js';
import { compileStatefulSession, compileStatefulSessionPerRoute, cookiePathMatcher, type SessionStateConfig } from './config.js';

it('cookie values: an envoy.Cookie message in base64, with an expiry only under a TTL; the old plain form still reads', () => {
  const v = cookieForAddress('10.0.0.7:8080', 0, 1000);
  // Field 1 (address), length 13: bytes 0a 0d, then the address; nothing else without a TTL.
  assert.deepEqual(Buffer.from(v, 'base64'), Buffer.concat([Buffer.from([0x0a, 13]), Buffer.from('10.0.0.7:8080')]));
  assert.equal(addressFromCookie(v, 1_000_000), '10.0.0.7:8080', 'no expiry: valid at any time');
  const ttl = cookieForAddress('[::1]:80', 60, 1000);
  assert.equal(addressFromCookie(ttl, 1060), '[::1]:80');
  assert.equal(addressFromCookie(ttl, 1061), undefined, 'expired: the balancer picks again');
  assert.equal(addressFromCookie(Buffer.from('127.0.0.1:8080').toString('base64'), 0), '127.0.0.1:8080');
  // As in Envoy, the old form is tried only when the bytes do not parse as a message: '10.0.0.7:8080' does
  // (field 6 fixed64 "0.0.0.7:", then two varints of field 7), as a message without an address.
  assert.equal(addressFromCookie(Buffer.from('10.0.0.7:8080').toString('base64'), 0), undefined);
  assert.equal(addressFromCookie('', 0), undefined);
  assert.equal(addressFromCookie('not base64!', 0), undefined);
  assert.equal(addressFromCookie(Buffer.from([0x12, 0x00]).toString('base64'), 0), undefined, 'a message without an address names none');
});

it("cookie path matching as Envoy's: '/' everything, 'p/' a prefix, 'p' itself and what follows /, ? or #", () => {
  assert.equal(cookiePathMatcher('')('/x'), true);
  assert.equal(cookiePathMatcher('/')('/x'), true);
  const dir = cookiePathMatcher('/foo/');
  assert.deepEqual(['/foo/bar', '/foo/', '/foo', '/foobar'].map(dir), [true, true, false, false]);
  const p = cookiePathMatcher('/foo');
  assert.deepEqual(['/foo', '/foo/bar', '/foo?a=1', '/foo#x', '/foobar', '/fo'].map(p), [true, true, true, true, false, false]);
});

it('responses carry the session only when the host changed: Set-Cookie appended, the header replaced', () => {
  const cookie: SessionStateConfig = { kind: 'cookie', name: 'sid', path: '/', ttlSeconds: 30, matchesPath: () => true };
  const h: HeaderMap = { 'set-cookie': 'app=1' };
  writeSession(cookie, '10.0.0.1:80', '10.0.0.1:80', h, 5);
  assert.deepEqual(h, { 'set-cookie': 'app=1' });
  writeSession(cookie, undefined, '10.0.0.2:80', h, 5);
  const cookies: unknown = h['set-cookie'];
  assert.ok(Array.isArray(cookies) && cookies.length === 2 && cookies[0] === 'app=1');
  const made = String(cookies[1]);
  assert.match(made, /^sid="[^"]+"; Max-Age=30; Path=\/; HttpOnly$/);
  assert.equal(addressFromCookie(/"([^"]+)"/.exec(made)?.[1], 35), '10.0.0.2:80');
  const header: SessionStateConfig = { kind: 'header', name: 'x-s' };
  const hh: HeaderMap = { 'x-s': 'stale' };
  writeSession(header, '10.0.0.1:80', '10.0.0.2:80', hh, 0);
  assert.equal(hh['x-s'], Buffer.from('10.0.0.2:80').toString('base64'));
  assert.equal(sessionAddress(header, { 'x-s': hh['x-s'] }, 0), '10.0.0.2:80');
  assert.equal(sessionAddress(header, { 'x-s': '%%%' }, 0), undefined);
});

it('configs: empty (no session), cookie, header; bad ones name the field and the reason', () => {
  assert.deepEqual(compileStatefulSession(create(StatefulSessionSchema), 'f'), { ok: true, value: { state: undefined, strict: false } });
  const cookie = (name: string) => create(StatefulSessionSchema, { sessionState: { name: 'c', typedConfig: pack(CookieBasedSessionStateSchema, create(CookieBasedSessionStateSchema, { cookie: { name, path: '/a', ttl: { seconds: 120n } } })) }, strict: true });
  const ok = compileStatefulSession(cookie('sid'), 'f');
  assert.ok(ok.ok && ok.value.state?.kind === 'cookie' && ok.value.state.ttlSeconds === 120 && ok.value.state.path === '/a' && ok.value.strict);
  assert.deepEqual(compileStatefulSession(cookie(''), 'f'), { ok: false, problems: ['f.session_state.typed_config.cookie.name: Cookie key cannot be empty for cookie based stateful sessions'] });
  const header = (name: string) => create(StatefulSessionSchema, { sessionState: { name: 'h', typedConfig: pack(HeaderBasedSessionStateSchema, create(HeaderBasedSessionStateSchema, { name })) } });
  const h = compileStatefulSession(header('X-Session'), 'f');
  assert.ok(h.ok && h.value.state?.kind === 'header' && h.value.state.name === 'x-session');
  assert.deepEqual(compileStatefulSession(header(''), 'f'), { ok: false, problems: ['f.session_state.typed_config.name: Header name cannot be empty for header based stateful sessions'] });
  assert.deepEqual(compileStatefulSession(create(StatefulSessionSchema, { sessionState: { name: 'x' } }), 'f'), {
    ok: false,
    problems: ['f.session_state.typed_config: unsupported session state (no typed_config) (envoy.http.stateful_session.cookie and envoy.http.stateful_session.header are)'],
  });
  assert.deepEqual(compileStatefulSessionPerRoute(create(StatefulSessionPerRouteSchema), 'r'), { ok: false, problems: ['r.override: value is required (disabled or stateful_session)'] });
  assert.deepEqual(compileStatefulSessionPerRoute(create(StatefulSessionPerRouteSchema, { override: { case: 'disabled', value: true } }), 'r'), { ok: true, value: { disabled: true } });
});
