import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import { HeaderValueOptionSchema } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { seededRandom } from '../../lib/random.js';
import { compileRouteConfig } from './compile-route-config.js';
import { applyHeaderMutations, compileHeaderMutationLevel } from './header-mutation.js';
import type { HeaderFormatContext, HeaderMap, RouteSelection } from './types.js';

const CTX: HeaderFormatContext = { downstreamRemoteIp: '10.0.0.7', downstreamRemotePort: 51000, upstreamRemoteAddress: '10.1.2.3:9080', protocol: 'HTTP/1.1', hostname: 'proxy-0' };

function mutate(adds: JsonObject[], removes: string[], initial: HeaderMap, ctx: HeaderFormatContext = CTX): HeaderMap {
  const problems: string[] = [];
  const level = compileHeaderMutationLevel(
    adds.map((a) => fromJson(HeaderValueOptionSchema, a)),
    removes,
    'request_headers_to_add',
    'request_headers_to_remove',
    problems,
  );
  assert.deepEqual(problems, []);
  const headers = { ...initial };
  applyHeaderMutations(level === undefined ? [] : [level], headers, ctx, headers);
  return headers;
}

const actionCases: { name: string; add: JsonObject; initial: HeaderMap; want: string | string[] | undefined }[] = [
  { name: 'APPEND_IF_EXISTS_OR_ADD (default) appends', add: { header: { key: 'x-a', value: 'b' } }, initial: { 'x-a': 'a' }, want: ['a', 'b'] },
  { name: 'APPEND_IF_EXISTS_OR_ADD adds', add: { header: { key: 'x-a', value: 'b' } }, initial: {}, want: 'b' },
  { name: 'APPEND_IF_EXISTS_OR_ADD onto several values', add: { header: { key: 'x-a', value: 'c' } }, initial: { 'x-a': ['a', 'b'] }, want: ['a', 'b', 'c'] },
  { name: 'ADD_IF_ABSENT keeps an existing value', add: { header: { key: 'x-a', value: 'b' }, appendAction: 'ADD_IF_ABSENT' }, initial: { 'x-a': 'a' }, want: 'a' },
  { name: 'ADD_IF_ABSENT adds', add: { header: { key: 'x-a', value: 'b' }, appendAction: 'ADD_IF_ABSENT' }, initial: {}, want: 'b' },
  { name: 'OVERWRITE_IF_EXISTS_OR_ADD overwrites', add: { header: { key: 'x-a', value: 'b' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }, initial: { 'x-a': ['a', 'z'] }, want: 'b' },
  { name: 'OVERWRITE_IF_EXISTS_OR_ADD adds', add: { header: { key: 'x-a', value: 'b' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }, initial: {}, want: 'b' },
  { name: 'OVERWRITE_IF_EXISTS overwrites', add: { header: { key: 'x-a', value: 'b' }, appendAction: 'OVERWRITE_IF_EXISTS' }, initial: { 'x-a': 'a' }, want: 'b' },
  { name: 'OVERWRITE_IF_EXISTS does not add', add: { header: { key: 'x-a', value: 'b' }, appendAction: 'OVERWRITE_IF_EXISTS' }, initial: {}, want: undefined },
  { name: 'legacy append: true appends', add: { header: { key: 'x-a', value: 'b' }, append: true }, initial: { 'x-a': 'a' }, want: ['a', 'b'] },
  { name: 'legacy append: false overwrites', add: { header: { key: 'x-a', value: 'b' }, append: false }, initial: { 'x-a': 'a' }, want: 'b' },
  { name: 'an empty value is skipped', add: { header: { key: 'x-a', value: '' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }, initial: { 'x-a': 'a' }, want: 'a' },
  { name: 'keep_empty_value sets an empty value', add: { header: { key: 'x-a', value: '' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD', keepEmptyValue: true }, initial: { 'x-a': 'a' }, want: '' },
  { name: 'a formatter yielding nothing is skipped', add: { header: { key: 'x-a', value: '%REQ(x-missing)%' } }, initial: {}, want: undefined },
  { name: 'header keys are lower-cased', add: { header: { key: 'X-A', value: 'b' } }, initial: {}, want: 'b' },
];

for (const c of actionCases) {
  test(`append action: ${c.name}`, () => {
    assert.deepEqual(mutate([c.add], [], c.initial)['x-a'], c.want);
  });
}

test('removals happen before additions', () => {
  assert.deepEqual(mutate([{ header: { key: 'x-a', value: 'new' } }], ['x-a', 'X-B'], { 'x-a': 'old', 'x-b': 'gone', 'x-c': 'kept' }), { 'x-a': 'new', 'x-c': 'kept' });
});

test('values and conditions of one level read the headers as they were before it', () => {
  const out = mutate(
    [
      { header: { key: 'x-a', value: 'new' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      { header: { key: 'x-copy', value: '%REQ(x-a)%' } },
      { header: { key: 'x-b', value: '1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      { header: { key: 'x-b', value: '2' }, appendAction: 'OVERWRITE_IF_EXISTS' },
    ],
    [],
    { 'x-a': 'old' },
  );
  assert.equal(out['x-a'], 'new');
  assert.equal(out['x-copy'], 'old');
  assert.equal(out['x-b'], '1');
});

const formatCases: { name: string; value: string; ctx?: HeaderFormatContext; want: string | undefined }[] = [
  { name: 'plain value', value: 'v1', want: 'v1' },
  { name: '%% is a literal %', value: '100%%', want: '100%' },
  { name: 'DOWNSTREAM_REMOTE_ADDRESS', value: '%DOWNSTREAM_REMOTE_ADDRESS%', want: '10.0.0.7:51000' },
  { name: 'DOWNSTREAM_REMOTE_ADDRESS of IPv6', value: '%DOWNSTREAM_REMOTE_ADDRESS%', ctx: { downstreamRemoteIp: '::1', downstreamRemotePort: 80 }, want: '[::1]:80' },
  { name: 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT in text', value: 'for=%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%;x', want: 'for=10.0.0.7;x' },
  { name: 'UPSTREAM_REMOTE_ADDRESS', value: '%UPSTREAM_REMOTE_ADDRESS%', want: '10.1.2.3:9080' },
  { name: 'UPSTREAM_REMOTE_ADDRESS unknown yet', value: '%UPSTREAM_REMOTE_ADDRESS%', ctx: {}, want: undefined },
  { name: 'REQ', value: '%REQ(X-Req)%', want: 'r1' },
  { name: 'REQ alternative', value: '%REQ(x-missing?x-req)%', want: 'r1' },
  { name: 'REQ truncated', value: '%REQ(x-req):1%', want: 'r' },
  { name: 'REQ of :authority reads host', value: '%REQ(:authority)%', want: 'example.com' },
  { name: 'PROTOCOL', value: '%PROTOCOL%', want: 'HTTP/1.1' },
  { name: 'HOSTNAME', value: '%HOSTNAME%', want: 'proxy-0' },
];

for (const c of formatCases) {
  test(`formatter: ${c.name}`, () => {
    const out = mutate([{ header: { key: 'x-out', value: c.value } }], [], { 'x-req': 'r1', host: 'example.com' }, c.ctx ?? CTX);
    assert.equal(out['x-out'], c.want);
  });
}

const badOptions: { name: string; add?: JsonObject; remove?: string; problem: string }[] = [
  { name: 'unsupported command', add: { header: { key: 'x', value: '%START_TIME%' } }, problem: 'request_headers_to_add[0].header.value: unsupported command %START_TIME%' },
  { name: 'a lone %', add: { header: { key: 'x', value: '50%' } }, problem: 'request_headers_to_add[0].header.value: no valid command at position 2 of "50%" (write %% for a literal %)' },
  { name: 'pseudo-header', add: { header: { key: ':path', value: '/x' } }, problem: 'request_headers_to_add[0].header.key: ":path": :-prefixed or host headers may not be modified' },
  { name: 'host', add: { header: { key: 'Host', value: 'x' } }, problem: 'request_headers_to_add[0].header.key: "Host": :-prefixed or host headers may not be modified' },
  { name: 'append with append_action', add: { header: { key: 'x', value: 'v' }, append: true, appendAction: 'ADD_IF_ABSENT' }, problem: "request_headers_to_add[0]: both append and append_action are set and it's not allowed" },
  { name: 'removing host', remove: 'host', problem: 'request_headers_to_remove[0]: "host": :-prefixed or host headers may not be removed' },
  // HeaderValue's protoc-gen-validate rules (base.proto), in PGV's words.
  { name: 'CRLF in a value', add: { header: { key: 'x', value: 'a\r\nset-cookie: s' } }, problem: 'request_headers_to_add[0].header.value: value does not match regex pattern "^[^\\x00\\n\\r]*$"' },
  { name: 'LF in a key', add: { header: { key: 'x\ny', value: 'v' } }, problem: 'request_headers_to_add[0].header.key: value does not match regex pattern "^[^\\x00\\n\\r]*$"' },
  { name: 'an empty key', add: { header: { key: '', value: 'v' } }, problem: 'request_headers_to_add[0].header.key: value length must be at least 1 characters' },
  { name: 'a value over 16 KiB', add: { header: { key: 'x', value: 'v'.repeat(16385) } }, problem: 'request_headers_to_add[0].header.value: value length must be at most 16384 bytes' },
];

for (const c of badOptions) {
  test(`header mutation problem: ${c.name}`, () => {
    const problems: string[] = [];
    compileHeaderMutationLevel(c.add === undefined ? [] : [fromJson(HeaderValueOptionSchema, c.add)], c.remove === undefined ? [] : [c.remove], 'request_headers_to_add', 'request_headers_to_remove', problems);
    assert.deepEqual(problems, [c.problem]);
  });
}

/** A route configuration with the same two headers at every level, `tag` telling the level. */
function levels(tag: string): JsonObject {
  return {
    requestHeadersToAdd: [{ header: { key: 'x-order', value: tag } }, { header: { key: 'x-win', value: tag }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
    responseHeadersToAdd: [{ header: { key: 'x-order', value: tag } }, { header: { key: 'x-win', value: tag }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
  };
}

function selectAllLevels(mostSpecificWins: boolean): RouteSelection {
  const rc = fromJson(
    RouteConfigurationSchema,
    {
      ...levels('config'),
      mostSpecificHeaderMutationsWins: mostSpecificWins,
      virtualHosts: [
        {
          name: 'vh',
          domains: ['*'],
          ...levels('vhost'),
          routes: [{ match: { prefix: '/' }, ...levels('route'), route: { weightedClusters: { clusters: [{ name: 'c', weight: 1, ...levels('cluster') }] } } }],
        },
      ],
    },
    { registry: XDS_REGISTRY },
  );
  const c = compileRouteConfig(rc);
  assert.ok(c.ok, c.ok ? '' : c.problems.join('\n'));
  const s = c.value.select({ authority: 'a', path: '/', method: 'GET', scheme: 'http', headers: {} }, seededRandom(1));
  assert.ok(s !== undefined);
  return s;
}

const orderCases: { name: string; mostSpecificWins: boolean; order: string[]; winner: string }[] = [
  { name: 'default: weighted cluster, then route, virtual host, route configuration', mostSpecificWins: false, order: ['cluster', 'route', 'vhost', 'config'], winner: 'config' },
  { name: 'most_specific_header_mutations_wins: weighted cluster, then route configuration, virtual host, route', mostSpecificWins: true, order: ['cluster', 'config', 'vhost', 'route'], winner: 'route' },
];

for (const c of orderCases) {
  test(`mutation order: ${c.name}`, () => {
    const s = selectAllLevels(c.mostSpecificWins);
    const req: HeaderMap = {};
    s.applyRequestHeaders(req, CTX);
    assert.deepEqual(req['x-order'], c.order);
    assert.equal(req['x-win'], c.winner);
    const resp: HeaderMap = {};
    s.applyResponseHeaders(resp, CTX);
    assert.deepEqual(resp['x-order'], c.order);
    assert.equal(resp['x-win'], c.winner);
  });
}

test('response mutations read %REQ()% from the request headers in the context', () => {
  const rc = fromJson(
    RouteConfigurationSchema,
    { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, directResponse: { status: 200 }, responseHeadersToAdd: [{ header: { key: 'x-echo', value: '%REQ(x-id)%' } }] }] }] },
    { registry: XDS_REGISTRY },
  );
  const c = compileRouteConfig(rc);
  assert.ok(c.ok);
  const s = c.value.select({ authority: 'a', path: '/', method: 'GET', scheme: 'http', headers: {} }, seededRandom(1));
  const resp: HeaderMap = { 'x-id': 'response-side' };
  s?.applyResponseHeaders(resp, { requestHeaders: { 'x-id': 'abc' } });
  assert.deepEqual(resp['x-echo'], 'abc');
});
