import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { seededRandom } from '../../lib/random.js';
import { compileRouteConfig } from './compile-route-config.js';
import type { RouteInput } from './types.js';

function redirect(match: JsonObject, action: JsonObject, r: Partial<RouteInput>): { status: number; location: string } {
  const rc = fromJson(RouteConfigurationSchema, { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match, redirect: action }] }] }, { registry: XDS_REGISTRY });
  const c = compileRouteConfig(rc);
  assert.ok(c.ok, c.ok ? '' : c.problems.join('\n'));
  const s = c.value.select({ authority: 'example.com', path: '/', method: 'GET', scheme: 'http', headers: {}, ...r }, seededRandom(3));
  assert.equal(s?.kind, 'redirect');
  return s?.kind === 'redirect' ? { status: s.status, location: s.location } : { status: 0, location: '' };
}

const cases: { name: string; match?: JsonObject; action: JsonObject; req: Partial<RouteInput>; location: string; status?: number }[] = [
  { name: 'default keeps everything, 301', action: { hostRedirect: 'new.example.com' }, req: { path: '/a?b=1' }, location: 'http://new.example.com/a?b=1', status: 301 },
  { name: 'https_redirect', action: { httpsRedirect: true }, req: { path: '/a' }, location: 'https://example.com/a' },
  { name: 'https_redirect drops the old scheme default port', action: { httpsRedirect: true }, req: { authority: 'example.com:80', path: '/a' }, location: 'https://example.com/a' },
  { name: 'https_redirect keeps a non-default port', action: { httpsRedirect: true }, req: { authority: 'example.com:8080', path: '/a' }, location: 'https://example.com:8080/a' },
  { name: 'scheme_redirect', action: { schemeRedirect: 'ftp' }, req: { path: '/a' }, location: 'ftp://example.com/a' },
  { name: 'same scheme keeps :80', action: { pathRedirect: '/b' }, req: { authority: 'example.com:80', path: '/a' }, location: 'http://example.com:80/b' },
  { name: 'host_redirect', action: { hostRedirect: 'other.org' }, req: { authority: 'example.com:8080', path: '/a' }, location: 'http://other.org/a' },
  { name: 'port_redirect replaces the port', action: { portRedirect: 8443 }, req: { authority: 'example.com:8080', path: '/a' }, location: 'http://example.com:8443/a' },
  { name: 'port_redirect with IPv6 authority', action: { portRedirect: 8443 }, req: { authority: '[::1]:8080', path: '/a' }, location: 'http://[::1]:8443/a' },
  { name: 'host_redirect and port_redirect', action: { hostRedirect: 'other.org', portRedirect: 9000 }, req: { path: '/a' }, location: 'http://other.org:9000/a' },
  { name: 'path_redirect keeps the request query', action: { pathRedirect: '/new' }, req: { path: '/old?x=1' }, location: 'http://example.com/new?x=1' },
  { name: 'path_redirect with its own query replaces it', action: { pathRedirect: '/new?y=2', stripQuery: true }, req: { path: '/old?x=1' }, location: 'http://example.com/new?y=2' },
  { name: 'path_redirect with strip_query', action: { pathRedirect: '/new', stripQuery: true }, req: { path: '/old?x=1' }, location: 'http://example.com/new' },
  { name: 'strip_query alone', action: { stripQuery: true }, req: { path: '/a?x=1' }, location: 'http://example.com/a' },
  { name: 'prefix_rewrite', match: { prefix: '/old/' }, action: { prefixRewrite: '/new/' }, req: { path: '/old/x?q=1' }, location: 'http://example.com/new/x?q=1' },
  { name: 'prefix_rewrite with strip_query', match: { prefix: '/old/' }, action: { prefixRewrite: '/new/', stripQuery: true }, req: { path: '/old/x?q=1' }, location: 'http://example.com/new/x' },
  { name: 'regex_rewrite with groups keeps the query', action: { regexRewrite: { pattern: { regex: '^/item/(\\d+)$' }, substitution: '/items/\\1' } }, req: { path: '/item/42?v=1' }, location: 'http://example.com/items/42?v=1' },
  { name: 'a path without leading / gets one', action: { pathRedirect: 'x' }, req: { path: '/a' }, location: 'http://example.com/x' },
  { name: 'FOUND is 302', action: { responseCode: 'FOUND' }, req: {}, location: 'http://example.com/', status: 302 },
  { name: 'SEE_OTHER is 303', action: { responseCode: 'SEE_OTHER' }, req: {}, location: 'http://example.com/', status: 303 },
  { name: 'TEMPORARY_REDIRECT is 307', action: { responseCode: 'TEMPORARY_REDIRECT' }, req: {}, location: 'http://example.com/', status: 307 },
  { name: 'PERMANENT_REDIRECT is 308', action: { responseCode: 'PERMANENT_REDIRECT' }, req: {}, location: 'http://example.com/', status: 308 },
];

for (const c of cases) {
  test(`redirect: ${c.name}`, () => {
    const r = redirect(c.match ?? { prefix: '/' }, c.action, c.req);
    assert.equal(r.location, c.location);
    if (c.status !== undefined) assert.equal(r.status, c.status);
  });
}

const tlsCases: { name: string; requireTls: string; req: Partial<RouteInput>; redirect: string | undefined }[] = [
  { name: 'ALL redirects http', requireTls: 'ALL', req: { authority: 'example.com:8080', path: '/a?b' }, redirect: 'https://example.com:8080/a?b' },
  { name: 'ALL lets https through', requireTls: 'ALL', req: { scheme: 'https' }, redirect: undefined },
  { name: 'EXTERNAL_ONLY redirects external requests', requireTls: 'EXTERNAL_ONLY', req: { path: '/a' }, redirect: 'https://example.com/a' },
  { name: 'EXTERNAL_ONLY lets internal requests through', requireTls: 'EXTERNAL_ONLY', req: { headers: { 'x-envoy-internal': 'true' } }, redirect: undefined },
];

for (const c of tlsCases) {
  test(`require_tls: ${c.name}`, () => {
    const rc = fromJson(
      RouteConfigurationSchema,
      { virtualHosts: [{ name: 'vh', domains: ['*'], requireTls: c.requireTls, routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] }] },
      { registry: XDS_REGISTRY },
    );
    const compiled = compileRouteConfig(rc);
    assert.ok(compiled.ok);
    const s = compiled.value.select({ authority: 'example.com', path: '/', method: 'GET', scheme: 'http', headers: {}, ...c.req }, seededRandom(1));
    if (c.redirect === undefined) assert.equal(s?.kind, 'route');
    else {
      assert.equal(s?.kind, 'redirect');
      if (s?.kind === 'redirect') {
        assert.equal(s.status, 301);
        assert.equal(s.location, c.redirect);
      }
    }
  });
}

// Envoy's HTTP_HEADER_VALUE check on the redirect fields (route_components.proto): NUL, CR or LF would split the
// Location header.
for (const [field, action] of [
  ['host_redirect', { hostRedirect: 'evil.example\r\nset-cookie: a=b' }],
  ['path_redirect', { pathRedirect: '/x\nset-cookie: a=b' }],
  ['prefix_rewrite', { prefixRewrite: '/x\u0000' }],
] as const) {
  test(`redirect problem: a control character in ${field}`, () => {
    const rc = fromJson(RouteConfigurationSchema, { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, redirect: action }] }] }, { registry: XDS_REGISTRY });
    const c = compileRouteConfig(rc);
    assert.equal(c.ok, false);
    if (!c.ok) assert.ok(c.problems.some((p) => p.endsWith(`.redirect.${field}: value does not match regex pattern "^[^\\x00\\n\\r]*$"`)), c.problems.join('\n'));
  });
}
