import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromJson, type JsonObject } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import { TypedExtensionConfigSchema } from '../../../xds/gen/envoy/config/core/v3/extension_pb.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import type { Random } from '../../lib/random.js';
import { compileRouteConfig } from './compile-route-config.js';
import type { RouteInput } from './types.js';
import { URI_TEMPLATE_MATCH_TYPE } from './uri-template.js';

const fixed = (u: number): Random => ({ next: () => u });

function config(match: JsonObject, extra: JsonObject = {}): RouteConfiguration {
  return fromJson(
    RouteConfigurationSchema,
    { name: 'rc', virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match, route: { cluster: 'hit' } }] }], ...extra },
    { registry: XDS_REGISTRY },
  );
}

function request(r: Partial<RouteInput>): RouteInput {
  return { authority: 'example.com', path: '/', method: 'GET', scheme: 'http', headers: {}, ...r };
}

function matches(rc: RouteConfiguration, r: Partial<RouteInput>, random: Random = fixed(0)): boolean {
  const c = compileRouteConfig(rc);
  assert.ok(c.ok, c.ok ? '' : c.problems.join('\n'));
  return c.value.select(request(r), random) !== undefined;
}

function templateAny(template: string) {
  return create(AnySchema, { typeUrl: URI_TEMPLATE_MATCH_TYPE, value: new BinaryWriter().tag(1, WireType.LengthDelimited).string(template).finish() });
}

function templateConfig(template: string): RouteConfiguration {
  const rc = config({ prefix: '/' });
  const route = rc.virtualHosts[0]?.routes[0];
  assert.ok(route?.match);
  route.match.pathSpecifier = { case: 'pathMatchPolicy', value: create(TypedExtensionConfigSchema, { name: 'envoy.path.match.uri_template.uri_template_matcher', typedConfig: templateAny(template) }) };
  return rc;
}

const pathCases: { name: string; match: JsonObject; req: Partial<RouteInput>; want: boolean; extra?: JsonObject }[] = [
  { name: 'prefix matches', match: { prefix: '/api' }, req: { path: '/api/v1' }, want: true },
  { name: 'prefix does not match', match: { prefix: '/api' }, req: { path: '/ap' }, want: false },
  { name: 'prefix is matched without the query', match: { prefix: '/a?x' }, req: { path: '/a?x=1' }, want: false },
  { name: 'prefix is case sensitive by default', match: { prefix: '/API' }, req: { path: '/api/v1' }, want: false },
  { name: 'prefix with case_sensitive false', match: { prefix: '/API', caseSensitive: false }, req: { path: '/Api/v1' }, want: true },
  { name: 'path is exact', match: { path: '/foo' }, req: { path: '/foo/' }, want: false },
  { name: 'path ignores the query string', match: { path: '/foo' }, req: { path: '/foo?bar=1' }, want: true },
  { name: 'path ignores a fragment', match: { path: '/foo' }, req: { path: '/foo#top' }, want: true },
  { name: 'path with case_sensitive false', match: { path: '/Foo', caseSensitive: false }, req: { path: '/fOO' }, want: true },
  { name: 'safe_regex is a full match', match: { safeRegex: { regex: '/v[0-9]+/.*' } }, req: { path: '/v12/x' }, want: true },
  { name: 'safe_regex is anchored', match: { safeRegex: { regex: '/v[0-9]+/.*' } }, req: { path: '/xv12/x' }, want: false },
  { name: 'safe_regex ignores case_sensitive', match: { safeRegex: { regex: '/abc' }, caseSensitive: false }, req: { path: '/ABC' }, want: false },
  { name: 'safe_regex runs outside the query', match: { safeRegex: { regex: '/a' } }, req: { path: '/a?b' }, want: true },
  { name: 'path_separated_prefix exact', match: { pathSeparatedPrefix: '/api' }, req: { path: '/api' }, want: true },
  { name: 'path_separated_prefix segment', match: { pathSeparatedPrefix: '/api' }, req: { path: '/api/v1' }, want: true },
  { name: 'path_separated_prefix query', match: { pathSeparatedPrefix: '/api' }, req: { path: '/api?x=1' }, want: true },
  { name: 'path_separated_prefix not a segment', match: { pathSeparatedPrefix: '/api' }, req: { path: '/apix' }, want: false },
  { name: 'path_separated_prefix ignoring case', match: { pathSeparatedPrefix: '/API', caseSensitive: false }, req: { path: '/api/x' }, want: true },
  { name: 'connect_matcher takes CONNECT', match: { connectMatcher: {} }, req: { method: 'CONNECT', path: '' }, want: true },
  { name: 'connect_matcher refuses GET', match: { connectMatcher: {} }, req: { method: 'GET' }, want: false },
  { name: 'path parameters count by default', match: { path: '/foo' }, req: { path: '/foo;v=1' }, want: false },
  { name: 'ignore_path_parameters_in_path_matching', match: { path: '/foo' }, req: { path: '/foo;v=1?q' }, want: true, extra: { ignorePathParametersInPathMatching: true } },
];

for (const c of pathCases) {
  test(`path: ${c.name}`, () => {
    assert.equal(matches(config(c.match, c.extra), c.req), c.want);
  });
}

const templateCases: { name: string; template: string; path: string; want: boolean }[] = [
  { name: '{x} is one segment', template: '/videos/{id}', path: '/videos/42', want: true },
  { name: '{x} does not span segments', template: '/videos/{id}', path: '/videos/4/2', want: false },
  { name: '{x=**} spans segments', template: '/videos/{id}/{file=**}', path: '/videos/1/a/b.mp4', want: true },
  { name: '{x=*} needs a non-empty segment', template: '/videos/{id=*}/x', path: '/videos//x', want: false },
  { name: 'suffix after the last segment', template: '/videos/{file}.m3u8', path: '/videos/a.m3u8', want: true },
  { name: 'query is ignored', template: '/videos/{id}', path: '/videos/42?t=1', want: true },
];

for (const c of templateCases) {
  test(`uri template: ${c.name}`, () => {
    assert.equal(matches(templateConfig(c.template), { path: c.path }), c.want);
  });
}

test('uri template: an invalid template is a problem', () => {
  const r = compileRouteConfig(templateConfig('/videos/{id}/{id}'));
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : (r.problems[0] ?? ''), /^virtual_hosts\[0\]\.routes\[0\]\.match\.path_match_policy\.typed_config\.path_template: .*repeated variable name/);
});

const headerCases: { name: string; header: JsonObject; headers: RouteInput['headers']; want: boolean }[] = [
  { name: 'exact (legacy field)', header: { name: 'x-a', exactMatch: 'v' }, headers: { 'x-a': 'v' }, want: true },
  { name: 'exact mismatch', header: { name: 'x-a', exactMatch: 'v' }, headers: { 'x-a': 'w' }, want: false },
  { name: 'prefix (legacy field)', header: { name: 'x-a', prefixMatch: 'ab' }, headers: { 'x-a': 'abc' }, want: true },
  { name: 'suffix (legacy field)', header: { name: 'x-a', suffixMatch: 'bc' }, headers: { 'x-a': 'abc' }, want: true },
  { name: 'contains (legacy field)', header: { name: 'x-a', containsMatch: 'b' }, headers: { 'x-a': 'abc' }, want: true },
  { name: 'safe_regex (legacy field)', header: { name: 'x-a', safeRegexMatch: { regex: '\\d{3}' } }, headers: { 'x-a': '123' }, want: true },
  { name: 'safe_regex is a full match', header: { name: 'x-a', safeRegexMatch: { regex: '\\d{3}' } }, headers: { 'x-a': '1234' }, want: false },
  { name: 'string_match exact', header: { name: 'x-a', stringMatch: { exact: 'v' } }, headers: { 'x-a': 'v' }, want: true },
  { name: 'string_match ignore_case', header: { name: 'x-a', stringMatch: { exact: 'Jason', ignoreCase: true } }, headers: { 'x-a': 'jASON' }, want: true },
  { name: 'string_match is case sensitive by default', header: { name: 'x-a', stringMatch: { exact: 'Jason' } }, headers: { 'x-a': 'jason' }, want: false },
  { name: 'string_match prefix', header: { name: 'x-a', stringMatch: { prefix: 'ab' } }, headers: { 'x-a': 'abc' }, want: true },
  { name: 'string_match suffix', header: { name: 'x-a', stringMatch: { suffix: 'bc' } }, headers: { 'x-a': 'abc' }, want: true },
  { name: 'string_match contains ignore_case', header: { name: 'x-a', stringMatch: { contains: 'B', ignoreCase: true } }, headers: { 'x-a': 'abc' }, want: true },
  { name: 'string_match safe_regex', header: { name: 'x-a', stringMatch: { safeRegex: { regex: 'a.c' } } }, headers: { 'x-a': 'abc' }, want: true },
  { name: 'multiple values are joined with a comma', header: { name: 'x-a', exactMatch: 'a,b' }, headers: { 'x-a': ['a', 'b'] }, want: true },
  { name: 'present_match true, present', header: { name: 'x-a', presentMatch: true }, headers: { 'x-a': '' }, want: true },
  { name: 'present_match true, missing', header: { name: 'x-a', presentMatch: true }, headers: {}, want: false },
  { name: 'present_match false, missing', header: { name: 'x-a', presentMatch: false }, headers: {}, want: true },
  { name: 'present_match false, present', header: { name: 'x-a', presentMatch: false }, headers: { 'x-a': 'v' }, want: false },
  { name: 'present_match true inverted, missing', header: { name: 'x-a', presentMatch: true, invertMatch: true }, headers: {}, want: true },
  { name: 'no specifier is a presence check', header: { name: 'x-a' }, headers: { 'x-a': 'v' }, want: true },
  { name: 'range inside', header: { name: 'x-v', rangeMatch: { start: '1', end: '11' } }, headers: { 'x-v': '10' }, want: true },
  { name: 'range end is exclusive', header: { name: 'x-v', rangeMatch: { start: '1', end: '11' } }, headers: { 'x-v': '11' }, want: false },
  { name: 'range negative', header: { name: 'x-v', rangeMatch: { start: '-10', end: '0' } }, headers: { 'x-v': '-1' }, want: true },
  { name: 'range not a number', header: { name: 'x-v', rangeMatch: { start: '0', end: '10' } }, headers: { 'x-v': '1.5' }, want: false },
  { name: 'invert_match', header: { name: 'x-a', exactMatch: 'v', invertMatch: true }, headers: { 'x-a': 'w' }, want: true },
  { name: 'invert_match, missing header fails', header: { name: 'x-a', exactMatch: 'v', invertMatch: true }, headers: {}, want: false },
  { name: 'invert + treat_missing_header_as_empty, missing', header: { name: 'x-a', stringMatch: { exact: 'v' }, invertMatch: true, treatMissingHeaderAsEmpty: true }, headers: {}, want: true },
  { name: 'treat_missing_header_as_empty matches empty', header: { name: 'x-a', exactMatch: '', treatMissingHeaderAsEmpty: true }, headers: {}, want: true },
  { name: 'header names are case-insensitive', header: { name: 'X-A', exactMatch: 'v' }, headers: { 'x-a': 'v' }, want: true },
  { name: ':authority pseudo-header', header: { name: ':authority', exactMatch: 'example.com' }, headers: {}, want: true },
  { name: 'host is :authority', header: { name: 'host', exactMatch: 'example.com' }, headers: {}, want: true },
  { name: ':method pseudo-header', header: { name: ':method', exactMatch: 'GET' }, headers: {}, want: true },
];

for (const c of headerCases) {
  test(`headers: ${c.name}`, () => {
    assert.equal(matches(config({ prefix: '/', headers: [c.header] }), { headers: c.headers }), c.want);
  });
}

const queryCases: { name: string; q: JsonObject; path: string; want: boolean }[] = [
  { name: 'string_match exact', q: { name: 'a', stringMatch: { exact: '1' } }, path: '/?a=1', want: true },
  { name: 'string_match mismatch', q: { name: 'a', stringMatch: { exact: '1' } }, path: '/?a=2', want: false },
  { name: 'first value wins', q: { name: 'a', stringMatch: { exact: '1' } }, path: '/?a=1&a=2', want: true },
  { name: 'values are not decoded', q: { name: 'a', stringMatch: { exact: 'x y' } }, path: '/?a=x%20y', want: false },
  { name: 'string_match on a missing parameter', q: { name: 'a', stringMatch: { exact: '' } }, path: '/?b=1', want: false },
  { name: 'a bare key has the empty value', q: { name: 'a', stringMatch: { exact: '' } }, path: '/?a&b=1', want: true },
  { name: 'present_match true', q: { name: 'a', presentMatch: true }, path: '/x?b=2&a', want: true },
  { name: 'present_match true, missing', q: { name: 'a', presentMatch: true }, path: '/x', want: false },
  { name: 'present_match false, missing', q: { name: 'a', presentMatch: false }, path: '/x?b=1', want: true },
  { name: 'present_match false, present', q: { name: 'a', presentMatch: false }, path: '/x?a=1', want: false },
];

for (const c of queryCases) {
  test(`query parameters: ${c.name}`, () => {
    assert.equal(matches(config({ prefix: '/', queryParameters: [c.q] }), { path: c.path }), c.want);
  });
}

test('runtime_fraction: default_value against the request random value', () => {
  const rc = config({ prefix: '/', runtimeFraction: { defaultValue: { numerator: 50, denominator: 'HUNDRED' }, runtimeKey: 'k' } });
  const at = (value: number): Random => fixed(value / 2 ** 32);
  assert.equal(matches(rc, {}, at(49)), true);
  assert.equal(matches(rc, {}, at(50)), false);
  assert.equal(matches(rc, {}, at(149)), true);
});

const grpcCases: { name: string; ct: string | undefined; want: boolean }[] = [
  { name: 'application/grpc', ct: 'application/grpc', want: true },
  { name: 'application/grpc+proto', ct: 'application/grpc+proto', want: true },
  { name: 'application/grpc-web is not gRPC', ct: 'application/grpc-web', want: false },
  { name: 'no content-type', ct: undefined, want: false },
];

for (const c of grpcCases) {
  test(`grpc match: ${c.name}`, () => {
    const headers = c.ct === undefined ? {} : { 'content-type': c.ct };
    assert.equal(matches(config({ prefix: '/', grpc: {} }), { headers }), c.want);
  });
}

test('the first matching route wins', () => {
  const rc = fromJson(
    RouteConfigurationSchema,
    {
      virtualHosts: [
        {
          name: 'vh',
          domains: ['*'],
          routes: [
            { match: { prefix: '/a', headers: [{ name: 'x-v', exactMatch: '2' }] }, route: { cluster: 'v2' } },
            { match: { prefix: '/a' }, route: { cluster: 'v1' } },
            { match: { prefix: '/' }, route: { cluster: 'rest' } },
          ],
        },
      ],
    },
    { registry: XDS_REGISTRY },
  );
  const c = compileRouteConfig(rc);
  assert.ok(c.ok);
  const cluster = (r: Partial<RouteInput>) => {
    const s = c.value.select(request(r), fixed(0));
    return s?.kind === 'route' ? s.cluster : s?.kind;
  };
  assert.equal(cluster({ path: '/a', headers: { 'x-v': '2' } }), 'v2');
  assert.equal(cluster({ path: '/a' }), 'v1');
  assert.equal(cluster({ path: '/b' }), 'rest');
});

const badMatches: { name: string; match: JsonObject; problem: RegExp }[] = [
  { name: 'invalid path regex', match: { safeRegex: { regex: '(?=x)' } }, problem: /^virtual_hosts\[0\]\.routes\[0\]\.match\.safe_regex\.regex: invalid regex/ },
  { name: 'backreference', match: { safeRegex: { regex: '(a)\\1' } }, problem: /^virtual_hosts\[0\]\.routes\[0\]\.match\.safe_regex\.regex: invalid regex/ },
  { name: 'invalid header regex', match: { prefix: '/', headers: [{ name: 'x', safeRegexMatch: { regex: '[' } }] }, problem: /^virtual_hosts\[0\]\.routes\[0\]\.match\.headers\[0\]\.safe_regex_match\.regex: / },
  { name: 'invalid query regex', match: { prefix: '/', queryParameters: [{ name: 'q', stringMatch: { safeRegex: { regex: 'a{2,1}' } } }] }, problem: /^virtual_hosts\[0\]\.routes\[0\]\.match\.query_parameters\[0\]\.string_match\.safe_regex\.regex: / },
  { name: 'path_separated_prefix ending in /', match: { pathSeparatedPrefix: '/api/' }, problem: /\.match\.path_separated_prefix: / },
  { name: 'no path specifier', match: { headers: [{ name: 'x', presentMatch: true }] }, problem: /^virtual_hosts\[0\]\.routes\[0\]\.match: one of prefix/ },
  { name: 'TLS context match', match: { prefix: '/', tlsContext: { presented: true } }, problem: /\.match\.tls_context: / },
];

for (const c of badMatches) {
  test(`bad match: ${c.name}`, () => {
    const r = compileRouteConfig(config(c.match));
    assert.equal(r.ok, false);
    if (!r.ok) assert.ok(r.problems.some((p) => c.problem.test(p)), r.problems.join('\n'));
  });
}
