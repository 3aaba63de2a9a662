import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromJson, type JsonObject } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import { TypedExtensionConfigSchema } from '../../../xds/gen/envoy/config/core/v3/extension_pb.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { seededRandom } from '../../lib/random.js';
import { compileRouteConfig } from './compile-route-config.js';
import type { ForwardSelection, RouteInput } from './types.js';
import { URI_TEMPLATE_MATCH_TYPE, URI_TEMPLATE_REWRITE_TYPE } from './uri-template.js';

function config(match: JsonObject, route: JsonObject): RouteConfiguration {
  return fromJson(RouteConfigurationSchema, { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match, route: { ...('weightedClusters' in route ? {} : { cluster: 'c' }), ...route } }] }] }, { registry: XDS_REGISTRY });
}

function forward(rc: RouteConfiguration, r: Partial<RouteInput>): ForwardSelection {
  const c = compileRouteConfig(rc);
  assert.ok(c.ok, c.ok ? '' : c.problems.join('\n'));
  const s = c.value.select({ authority: 'example.com', path: '/', method: 'GET', scheme: 'http', headers: {}, ...r }, seededRandom(7));
  assert.equal(s?.kind, 'route');
  return s as ForwardSelection;
}

const pathCases: { name: string; match: JsonObject; route: JsonObject; path: string; want: string | undefined }[] = [
  { name: 'no rewrite keeps the path', match: { prefix: '/' }, route: {}, path: '/a?b=1', want: undefined },
  { name: 'prefix_rewrite replaces the matched prefix and keeps the query', match: { prefix: '/v1/' }, route: { prefixRewrite: '/api/' }, path: '/v1/users?id=3', want: '/api/users?id=3' },
  { name: 'prefix_rewrite to /', match: { prefix: '/prefix' }, route: { prefixRewrite: '/' }, path: '/prefix/x', want: '//x' },
  { name: 'prefix_rewrite on a case-insensitive prefix', match: { prefix: '/V1', caseSensitive: false }, route: { prefixRewrite: '/v2' }, path: '/v1/x', want: '/v2/x' },
  { name: 'prefix_rewrite on an exact path', match: { path: '/old' }, route: { prefixRewrite: '/new' }, path: '/old?x', want: '/new?x' },
  { name: 'prefix_rewrite on a regex route replaces the whole path', match: { safeRegex: { regex: '/a/.*' } }, route: { prefixRewrite: '/b' }, path: '/a/c?q', want: '/b?q' },
  { name: 'regex_rewrite with a capture group', match: { prefix: '/v2/' }, route: { regexRewrite: { pattern: { regex: '^/v2/(.*)$' }, substitution: '/api/\\1' } }, path: '/v2/x/y?z=1', want: '/api/x/y?z=1' },
  { name: 'regex_rewrite reorders groups', match: { prefix: '/' }, route: { regexRewrite: { pattern: { regex: '^/service/([^/]+)(/.*)$' }, substitution: '\\2/instance/\\1' } }, path: '/service/foo/v1/api', want: '/v1/api/instance/foo' },
  { name: 'regex_rewrite replaces every match', match: { prefix: '/' }, route: { regexRewrite: { pattern: { regex: 'one' }, substitution: 'two' } }, path: '/xxx/one/yyy/one/zzz', want: '/xxx/two/yyy/two/zzz' },
  { name: 'regex_rewrite with no match leaves the path', match: { prefix: '/' }, route: { regexRewrite: { pattern: { regex: 'nothing' }, substitution: 'x' } }, path: '/a?b', want: '/a?b' },
  { name: 'regex_rewrite of .* replaces once', match: { prefix: '/' }, route: { regexRewrite: { pattern: { regex: '.*' }, substitution: '/x' } }, path: '/a', want: '/x' },
  { name: 'regex_rewrite to empty leaves the path', match: { prefix: '/' }, route: { regexRewrite: { pattern: { regex: '.*' }, substitution: '' } }, path: '/a', want: undefined },
  { name: 'regex_rewrite with \\0 and \\\\', match: { prefix: '/' }, route: { regexRewrite: { pattern: { regex: '/a' }, substitution: '\\0\\\\' } }, path: '/a', want: '/a\\' },
];

for (const c of pathCases) {
  test(`path rewrite: ${c.name}`, () => {
    assert.equal(forward(config(c.match, c.route), { path: c.path }).path, c.want);
  });
}

function stringAny(typeUrl: string, value: string) {
  return create(AnySchema, { typeUrl, value: new BinaryWriter().tag(1, WireType.LengthDelimited).string(value).finish() });
}

function templateConfig(match: string, rewrite: string): RouteConfiguration {
  const rc = config({ prefix: '/' }, {});
  const route = rc.virtualHosts[0]?.routes[0];
  assert.ok(route?.match && route.action.case === 'route');
  route.match.pathSpecifier = { case: 'pathMatchPolicy', value: create(TypedExtensionConfigSchema, { name: 'envoy.path.match.uri_template.uri_template_matcher', typedConfig: stringAny(URI_TEMPLATE_MATCH_TYPE, match) }) };
  route.action.value.pathRewritePolicy = create(TypedExtensionConfigSchema, { name: 'envoy.path.rewrite.uri_template.uri_template_rewriter', typedConfig: stringAny(URI_TEMPLATE_REWRITE_TYPE, rewrite) });
  return rc;
}

const templateCases: { name: string; match: string; rewrite: string; path: string; want: string }[] = [
  { name: 'variables are substituted and the query kept', match: '/videos/{id}/{file=**}', rewrite: '/v2/{file}/{id}', path: '/videos/42/a/b.mp4?t=1', want: '/v2/a/b.mp4/42?t=1' },
  { name: 'a variable may be left out', match: '/{country}/{lang}/{rest=**}', rewrite: '/{lang}/{rest}', path: '/us/en/docs/x', want: '/en/docs/x' },
  { name: 'suffix templates', match: '/static/{name}.css', rewrite: '/assets/{name}', path: '/static/site.css', want: '/assets/site' },
];

for (const c of templateCases) {
  test(`path template rewrite: ${c.name}`, () => {
    assert.equal(forward(templateConfig(c.match, c.rewrite), { path: c.path }).path, c.want);
  });
}

test('path template rewrite: a variable the match does not define is a problem', () => {
  const r = compileRouteConfig(templateConfig('/videos/{id}', '/{file}'));
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : (r.problems[0] ?? ''), /^virtual_hosts\[0\]\.routes\[0\]\.route\.path_rewrite_policy\.typed_config\.path_template_rewrite: .*"file" is not in the match template/);
});

const hostCases: { name: string; route: JsonObject; req: Partial<RouteInput>; host: string | undefined; auto?: boolean }[] = [
  { name: 'no host rewrite', route: {}, req: {}, host: undefined },
  { name: 'host_rewrite_literal', route: { hostRewriteLiteral: 'internal.svc' }, req: {}, host: 'internal.svc' },
  { name: 'host_rewrite_header uses the header', route: { hostRewriteHeader: 'X-Host' }, req: { headers: { 'x-host': 'from-header' } }, host: 'from-header' },
  { name: 'host_rewrite_header takes the first value', route: { hostRewriteHeader: 'x-host' }, req: { headers: { 'x-host': ['a', 'b'] } }, host: 'a' },
  { name: 'host_rewrite_header without the header', route: { hostRewriteHeader: 'x-host' }, req: {}, host: undefined },
  { name: 'host_rewrite_path_regex', route: { hostRewritePathRegex: { pattern: { regex: '^/([^/]+)/.*$' }, substitution: '\\1.svc' } }, req: { path: '/shop/items?x=1' }, host: 'shop.svc' },
  { name: 'auto_host_rewrite is a flag for the router', route: { autoHostRewrite: true }, req: {}, host: undefined, auto: true },
];

for (const c of hostCases) {
  test(`host rewrite: ${c.name}`, () => {
    const s = forward(config({ prefix: '/' }, c.route), c.req);
    assert.equal(s.host, c.host);
    assert.equal(s.action.autoHostRewrite, c.auto ?? false);
  });
}

test('host rewrite: a weighted cluster literal applies unless the route rewrites the host', () => {
  const wc = { clusters: [{ name: 'a', weight: 1, hostRewriteLiteral: 'a.internal' }] };
  assert.equal(forward(config({ prefix: '/' }, { weightedClusters: wc }), {}).host, 'a.internal');
  assert.equal(forward(config({ prefix: '/' }, { weightedClusters: wc, hostRewriteLiteral: 'route.internal' }), {}).host, 'route.internal');
});

const badRewrites: { name: string; match: JsonObject; route: JsonObject; problem: RegExp }[] = [
  { name: 'prefix and regex rewrite together', match: { prefix: '/' }, route: { prefixRewrite: '/a', regexRewrite: { pattern: { regex: 'a' }, substitution: 'b' } }, problem: /\.route: specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy/ },
  { name: 'invalid rewrite regex', match: { prefix: '/' }, route: { regexRewrite: { pattern: { regex: '(?<=a)b' }, substitution: 'b' } }, problem: /\.route\.regex_rewrite\.pattern\.regex: invalid regex/ },
  { name: 'substitution refers to a missing group', match: { prefix: '/' }, route: { regexRewrite: { pattern: { regex: '(a)' }, substitution: '\\2' } }, problem: /\.route\.regex_rewrite\.substitution: .*\\2 but the regex has 1 capture group/ },
  { name: 'invalid host regex', match: { prefix: '/' }, route: { hostRewritePathRegex: { pattern: { regex: '[' }, substitution: 'x' } }, problem: /\.route\.host_rewrite_path_regex\.pattern\.regex: / },
  // Envoy's HTTP_HEADER_VALUE check on these fields: NUL, CR or LF would split the request line or a header.
  { name: 'CRLF in prefix_rewrite', match: { prefix: '/' }, route: { prefixRewrite: '/a HTTP/1.1\r\nx: y' }, problem: /\.route\.prefix_rewrite: value does not match regex pattern "\^\[\^\\x00\\n\\r\]\*\$"$/ },
  { name: 'LF in a regex substitution', match: { prefix: '/' }, route: { regexRewrite: { pattern: { regex: 'a' }, substitution: 'b\nc' } }, problem: /\.route\.regex_rewrite\.substitution: value does not match regex pattern/ },
  { name: 'NUL in host_rewrite_literal', match: { prefix: '/' }, route: { hostRewriteLiteral: 'a\u0000b' }, problem: /\.route\.host_rewrite_literal: value does not match regex pattern/ },
];

for (const c of badRewrites) {
  test(`rewrite problem: ${c.name}`, () => {
    const r = compileRouteConfig(config(c.match, c.route));
    assert.equal(r.ok, false);
    if (!r.ok) assert.ok(r.problems.some((p) => c.problem.test(p)), r.problems.join('\n'));
  });
}
