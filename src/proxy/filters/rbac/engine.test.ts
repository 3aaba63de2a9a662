// The RBAC engine as Envoy's RBAC filter users see it: each permission rule and principal id kind,
// and/or/not nesting, ALLOW vs DENY vs LOG, empty policy maps, header matching details (invert_match,
// ignore_case, pseudo-headers, multi-value joins), CIDR v4/v6, port ranges, metadata matchers, the
// principal taken from the peer certificate, and compile problems that name their field.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { RBACSchema } from '../../../xds/gen/envoy/config/rbac/v3/rbac_pb.js';
import { compileRbac, evaluateRbac, type CompiledRbac, type RbacRequest } from './engine.js';

function rbac(json: JsonObject): CompiledRbac {
  const r = compileRbac(fromJson(RBACSchema, json), 'rules');
  if (!r.ok) assert.fail(`unexpected problems: ${r.problems.join('; ')}`);
  return r.value;
}

/** One ALLOW policy `p` with the given permission and principal. */
function allowOne(permission: JsonValue, principal: JsonValue = { any: true }): CompiledRbac {
  return rbac({ action: 'ALLOW', policies: { p: { permissions: [permission], principals: [principal] } } });
}

const BASE: RbacRequest = {
  method: 'GET',
  path: '/api/v1/items?id=7',
  host: 'shop.example.com',
  headers: () => undefined,
  directRemoteIp: '10.0.0.5',
  remoteIp: '10.0.0.5',
  sourcePort: 40000,
  destinationIp: '10.0.0.9',
  destinationPort: 8080,
  sni: '',
  metadata: {},
};

function req(over: Partial<RbacRequest> & { h?: Record<string, string> } = {}): RbacRequest {
  const { h, ...rest } = over;
  const r: RbacRequest = { ...BASE, ...rest };
  return h === undefined ? r : { ...r, headers: (n) => h[n] };
}

const MTLS = { uriSans: ['spiffe://cluster.local/ns/default/sa/sleep'], dnsSans: ['sleep.default.svc'], subject: 'CN=sleep,O=mesh' };

interface Case {
  readonly name: string;
  readonly permission: JsonValue;
  readonly principal?: JsonValue;
  readonly request: RbacRequest;
  readonly match: boolean;
}

const str = (m: JsonObject): JsonObject => m;

const CASES: readonly Case[] = [
  // permissions
  { name: 'any permission', permission: { any: true }, request: req(), match: true },
  { name: 'header exact (string_match)', permission: { header: { name: 'x-user', stringMatch: { exact: 'alice' } } }, request: req({ h: { 'x-user': 'alice' } }), match: true },
  { name: 'header exact, other value', permission: { header: { name: 'x-user', stringMatch: { exact: 'alice' } } }, request: req({ h: { 'x-user': 'bob' } }), match: false },
  { name: 'header name is case-insensitive', permission: { header: { name: 'X-User', exactMatch: 'alice' } }, request: req({ h: { 'x-user': 'alice' } }), match: true },
  { name: 'header prefix', permission: { header: { name: 'x-user', prefixMatch: 'al' } }, request: req({ h: { 'x-user': 'alice' } }), match: true },
  { name: 'header suffix', permission: { header: { name: 'x-user', suffixMatch: 'ce' } }, request: req({ h: { 'x-user': 'alice' } }), match: true },
  { name: 'header contains', permission: { header: { name: 'x-user', containsMatch: 'lic' } }, request: req({ h: { 'x-user': 'alice' } }), match: true },
  { name: 'header safe_regex is a full match', permission: { header: { name: 'x-user', safeRegexMatch: { regex: 'a.i' } } }, request: req({ h: { 'x-user': 'alice' } }), match: false },
  { name: 'header safe_regex matches', permission: { header: { name: 'x-user', safeRegexMatch: { regex: 'a.*e' } } }, request: req({ h: { 'x-user': 'alice' } }), match: true },
  { name: 'header present', permission: { header: { name: 'x-user', presentMatch: true } }, request: req({ h: { 'x-user': '' } }), match: true },
  { name: 'header present, absent', permission: { header: { name: 'x-user', presentMatch: true } }, request: req(), match: false },
  { name: 'header range [10,20) hits 15', permission: { header: { name: 'x-n', rangeMatch: { start: '10', end: '20' } } }, request: req({ h: { 'x-n': '15' } }), match: true },
  { name: 'header range end is exclusive', permission: { header: { name: 'x-n', rangeMatch: { start: '10', end: '20' } } }, request: req({ h: { 'x-n': '20' } }), match: false },
  { name: 'header invert_match on another value', permission: { header: { name: 'x-user', exactMatch: 'alice', invertMatch: true } }, request: req({ h: { 'x-user': 'bob' } }), match: true },
  { name: 'header invert_match on a missing header does not match', permission: { header: { name: 'x-user', exactMatch: 'alice', invertMatch: true } }, request: req(), match: false },
  { name: 'header ignore_case', permission: { header: { name: 'x-user', stringMatch: { exact: 'ALICE', ignoreCase: true } } }, request: req({ h: { 'x-user': 'Alice' } }), match: true },
  { name: 'header without ignore_case is case-sensitive', permission: { header: { name: 'x-user', stringMatch: { exact: 'ALICE' } } }, request: req({ h: { 'x-user': 'Alice' } }), match: false },
  { name: 'repeated header values are joined by ","', permission: { header: { name: 'x-tag', exactMatch: 'a,b' } }, request: req({ h: { 'x-tag': 'a,b' } }), match: true },
  { name: ':method pseudo-header', permission: { header: { name: ':method', exactMatch: 'GET' } }, request: req(), match: true },
  { name: ':authority pseudo-header (Istio hosts)', permission: { header: { name: ':authority', stringMatch: { exact: 'SHOP.example.com', ignoreCase: true } } }, request: req(), match: true },
  { name: 'url_path ignores the query', permission: { urlPath: { path: { exact: '/api/v1/items' } } }, request: req(), match: true },
  { name: 'url_path prefix', permission: { urlPath: { path: { prefix: '/api/' } } }, request: req(), match: true },
  { name: 'url_path other path', permission: { urlPath: { path: { exact: '/admin' } } }, request: req(), match: false },
  { name: 'destination_ip v4 CIDR', permission: { destinationIp: { addressPrefix: '10.0.0.0', prefixLen: 24 } }, request: req(), match: true },
  { name: 'destination_ip outside the CIDR', permission: { destinationIp: { addressPrefix: '10.1.0.0', prefixLen: 16 } }, request: req(), match: false },
  { name: 'destination_ip v6 CIDR', permission: { destinationIp: { addressPrefix: 'fd00::', prefixLen: 8 } }, request: req({ destinationIp: 'fd12::1' }), match: true },
  { name: 'a v4 range never matches a v6 address', permission: { destinationIp: { addressPrefix: '0.0.0.0', prefixLen: 0 } }, request: req({ destinationIp: 'fd12::1' }), match: false },
  { name: 'destination_port', permission: { destinationPort: 8080 }, request: req(), match: true },
  { name: 'destination_port other', permission: { destinationPort: 9090 }, request: req(), match: false },
  { name: 'destination_port_range includes start', permission: { destinationPortRange: { start: 8080, end: 8081 } }, request: req(), match: true },
  { name: 'destination_port_range excludes end', permission: { destinationPortRange: { start: 8000, end: 8080 } }, request: req(), match: false },
  { name: 'requested_server_name', permission: { requestedServerName: { suffix: '.example.com' } }, request: req({ sni: 'api.example.com' }), match: true },
  { name: 'requested_server_name without SNI', permission: { requestedServerName: { suffix: '.example.com' } }, request: req(), match: false },
  { name: 'and_rules all match', permission: { andRules: { rules: [{ destinationPort: 8080 }, { header: { name: ':method', exactMatch: 'GET' } }] } }, request: req(), match: true },
  { name: 'and_rules one fails', permission: { andRules: { rules: [{ destinationPort: 8080 }, { header: { name: ':method', exactMatch: 'POST' } }] } }, request: req(), match: false },
  { name: 'or_rules one matches', permission: { orRules: { rules: [{ destinationPort: 1 }, { destinationPort: 8080 }] } }, request: req(), match: true },
  { name: 'not_rule', permission: { notRule: { urlPath: { path: { prefix: '/admin' } } } }, request: req(), match: true },
  { name: 'nested not(and(or, not))', permission: { notRule: { andRules: { rules: [{ orRules: { rules: [{ destinationPort: 8080 }] } }, { notRule: { any: true } }] } } }, request: req(), match: true },
  { name: 'metadata string_match', permission: { metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: 'iss' }], value: { stringMatch: { exact: 'https://issuer' } } } }, request: req({ metadata: { 'envoy.filters.http.jwt_authn': { payload: { iss: 'https://issuer' } } } }), match: true },
  { name: 'metadata list_match one_of (Istio audiences)', permission: { metadata: { filter: 'jwt', path: [{ key: 'aud' }], value: { listMatch: { oneOf: { stringMatch: { exact: 'b' } } } } } }, request: req({ metadata: { jwt: { aud: ['a', 'b'] } } }), match: true },
  { name: 'metadata list_match on a scalar does not match', permission: { metadata: { filter: 'jwt', path: [{ key: 'aud' }], value: { listMatch: { oneOf: { stringMatch: { exact: 'b' } } } } } }, request: req({ metadata: { jwt: { aud: 'b' } } }), match: false },
  { name: 'metadata present_match on a missing path', permission: { metadata: { filter: 'jwt', path: [{ key: 'sub' }], value: { presentMatch: true } } }, request: req({ metadata: { jwt: {} } }), match: false },
  { name: 'metadata bool_match with invert', permission: { metadata: { filter: 'f', path: [{ key: 'ok' }], value: { boolMatch: true }, invert: true } }, request: req({ metadata: { f: { ok: false } } }), match: true },
  // principals
  { name: 'authenticated without principal_name needs TLS', permission: { any: true }, principal: { authenticated: {} }, request: req(), match: false },
  { name: 'authenticated without principal_name on TLS', permission: { any: true }, principal: { authenticated: {} }, request: req({ tls: MTLS }), match: true },
  { name: 'principal from the URI SAN', permission: { any: true }, principal: { authenticated: { principalName: str({ exact: 'spiffe://cluster.local/ns/default/sa/sleep' }) } }, request: req({ tls: MTLS }), match: true },
  { name: 'principal from a DNS SAN', permission: { any: true }, principal: { authenticated: { principalName: { exact: 'sleep.default.svc' } } }, request: req({ tls: MTLS }), match: true },
  { name: 'principal from the subject', permission: { any: true }, principal: { authenticated: { principalName: { prefix: 'CN=sleep' } } }, request: req({ tls: MTLS }), match: true },
  { name: 'principal_name on plaintext', permission: { any: true }, principal: { authenticated: { principalName: { prefix: 'spiffe://' } } }, request: req(), match: false },
  { name: 'source_ip is the peer', permission: { any: true }, principal: { sourceIp: { addressPrefix: '10.0.0.5', prefixLen: 32 } }, request: req({ remoteIp: '1.2.3.4' }), match: true },
  { name: 'direct_remote_ip ignores XFF', permission: { any: true }, principal: { directRemoteIp: { addressPrefix: '1.2.3.4', prefixLen: 32 } }, request: req({ remoteIp: '1.2.3.4' }), match: false },
  { name: 'remote_ip uses the trusted client address', permission: { any: true }, principal: { remoteIp: { addressPrefix: '1.2.3.0', prefixLen: 24 } }, request: req({ remoteIp: '1.2.3.4' }), match: true },
  { name: 'direct_remote_ip v6', permission: { any: true }, principal: { directRemoteIp: { addressPrefix: '2001:db8::', prefixLen: 32 } }, request: req({ directRemoteIp: '2001:db8:1::7' }), match: true },
  { name: 'IPv4-mapped peer address matches a v4 range', permission: { any: true }, principal: { directRemoteIp: { addressPrefix: '10.0.0.0', prefixLen: 8 } }, request: req({ directRemoteIp: '::ffff:10.0.0.5' }), match: true },
  { name: 'principal header', permission: { any: true }, principal: { header: { name: 'x-user', exactMatch: 'alice' } }, request: req({ h: { 'x-user': 'alice' } }), match: true },
  { name: 'principal url_path', permission: { any: true }, principal: { urlPath: { path: { exact: '/api/v1/items' } } }, request: req(), match: true },
  { name: 'principal metadata', permission: { any: true }, principal: { metadata: { filter: 'f', path: [{ key: 'k' }], value: { stringMatch: { exact: 'v' } } } }, request: req({ metadata: { f: { k: 'v' } } }), match: true },
  { name: 'and_ids', permission: { any: true }, principal: { andIds: { ids: [{ authenticated: {} }, { directRemoteIp: { addressPrefix: '10.0.0.0', prefixLen: 8 } }] } }, request: req({ tls: MTLS }), match: true },
  { name: 'or_ids', permission: { any: true }, principal: { orIds: { ids: [{ directRemoteIp: { addressPrefix: '192.168.0.0', prefixLen: 16 } }, { authenticated: {} }] } }, request: req({ tls: MTLS }), match: true },
  { name: 'not_id', permission: { any: true }, principal: { notId: { authenticated: {} } }, request: req(), match: true },
  // network RBAC: no HTTP facts
  { name: 'TCP: header value rules never match', permission: { header: { name: 'x-user', exactMatch: 'alice', invertMatch: true } }, request: { ...BASE, method: undefined, path: undefined, host: undefined, headers: undefined }, match: false },
  { name: 'TCP: absence checks see an empty header map', permission: { header: { name: 'x-user', presentMatch: false } }, request: { ...BASE, method: undefined, path: undefined, host: undefined, headers: undefined }, match: true },
  { name: 'TCP: url_path never matches', permission: { notRule: { urlPath: { path: { prefix: '/' } } } }, request: { ...BASE, path: undefined, headers: undefined }, match: true },
];

describe('RBAC engine: rules and ids', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const d = evaluateRbac(allowOne(c.permission, c.principal ?? { any: true }), c.request);
      assert.equal(d.allowed, c.match);
      assert.equal(d.matchedPolicy, c.match ? 'p' : undefined);
    });
  }
});

describe('RBAC engine: actions', () => {
  const policies = { 'deny-admin': { permissions: [{ urlPath: { path: { prefix: '/admin' } } }], principals: [{ any: true }] } };
  const cases: readonly { name: string; action: string; policies: JsonObject; path: string; allowed: boolean; matched?: string }[] = [
    { name: 'ALLOW with no policies denies everything', action: 'ALLOW', policies: {}, path: '/', allowed: false },
    { name: 'DENY with no policies allows everything', action: 'DENY', policies: {}, path: '/', allowed: true },
    { name: 'LOG with no policies allows', action: 'LOG', policies: {}, path: '/', allowed: true },
    { name: 'ALLOW: a matching policy allows', action: 'ALLOW', policies, path: '/admin/x', allowed: true, matched: 'deny-admin' },
    { name: 'ALLOW: no matching policy denies', action: 'ALLOW', policies, path: '/home', allowed: false },
    { name: 'DENY: a matching policy denies', action: 'DENY', policies, path: '/admin/x', allowed: false, matched: 'deny-admin' },
    { name: 'DENY: no matching policy allows', action: 'DENY', policies, path: '/home', allowed: true },
    { name: 'LOG: a matching policy is marked, still allowed', action: 'LOG', policies, path: '/admin/x', allowed: true, matched: 'deny-admin' },
    { name: 'LOG: no match, allowed and unmarked', action: 'LOG', policies, path: '/home', allowed: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = evaluateRbac(rbac({ action: c.action, policies: c.policies }), req({ path: c.path }));
      assert.deepEqual(d, c.matched === undefined ? { allowed: c.allowed, action: c.action } : { allowed: c.allowed, matchedPolicy: c.matched, action: c.action });
    });
  }

  it('a policy needs a permission AND a principal to match', () => {
    const c = rbac({ action: 'ALLOW', policies: { p: { permissions: [{ destinationPort: 1 }, { any: true }], principals: [{ authenticated: {} }] } } });
    assert.equal(evaluateRbac(c, req()).allowed, false);
    assert.equal(evaluateRbac(c, req({ tls: MTLS })).allowed, true);
  });

  it('the matched policy is the first in name order', () => {
    const any = { permissions: [{ any: true }], principals: [{ any: true }] };
    const c = rbac({ action: 'DENY', policies: { 'ns[b]-policy[z]': any, 'ns[a]-policy[y]': any, 'ns[a]-policy[x]-rule[1]': any } });
    assert.deepEqual(c.policyNames, ['ns[a]-policy[x]-rule[1]', 'ns[a]-policy[y]', 'ns[b]-policy[z]']);
    assert.equal(evaluateRbac(c, req()).matchedPolicy, 'ns[a]-policy[x]-rule[1]');
  });
});

describe('RBAC engine: compile problems name the field', () => {
  const P = 'policies["ns[default]-policy[x]-rule[0]"]';
  const problemsOf = (policy: JsonObject): string[] => {
    const r = compileRbac(fromJson(RBACSchema, { action: 'ALLOW', policies: { 'ns[default]-policy[x]-rule[0]': policy } }), 'rules');
    return r.ok ? [] : r.problems;
  };
  const cases: readonly { name: string; policy: JsonObject; problems: readonly (string | RegExp)[] }[] = [
    {
      name: 'uri_template without its typed_config',
      policy: { permissions: [{ uriTemplate: { name: 'envoy.path.match.uri_template.uri_template_matcher' } }], principals: [{ any: true }] },
      problems: [`rules.${P}.permissions[0].uri_template: typed_config is required`],
    },
    {
      name: 'a bad regex in a header matcher',
      policy: { permissions: [{ header: { name: 'x', safeRegexMatch: { regex: '(a' } } }], principals: [{ any: true }] },
      problems: [new RegExp(`^rules\\.${P.replace(/[[\]().]/g, '\\$&')}\\.permissions\\[0\\]\\.header\\.safe_regex_match\\.regex: invalid regex`)],
    },
    {
      name: 'a bad regex in a nested principal, a bad CIDR and an inverted port range, all reported',
      policy: {
        permissions: [{ andRules: { rules: [{ destinationPortRange: { start: 90, end: 80 } }] } }],
        principals: [{ orIds: { ids: [{ authenticated: { principalName: { safeRegex: { regex: '[' } } } }, { remoteIp: { addressPrefix: 'not-an-ip', prefixLen: 8 } }] } }],
      },
      problems: [
        `rules.${P}.permissions[0].and_rules.rules[0].destination_port_range: range start 90 cannot be greater or equal than range end 80`,
        /principals\[0\]\.or_ids\.ids\[0\]\.authenticated\.principal_name\.safe_regex\.regex: invalid regex/,
        `rules.${P}.principals[0].or_ids.ids[1].remote_ip.address_prefix: "not-an-ip" is not an IP address`,
      ],
    },
    { name: 'empty permissions and principals', policy: {}, problems: [`rules.${P}.permissions: value must contain at least 1 item(s)`, `rules.${P}.principals: value must contain at least 1 item(s)`] },
    { name: 'prefix_len too long', policy: { permissions: [{ destinationIp: { addressPrefix: '10.0.0.0', prefixLen: 33 } }], principals: [{ any: true }] }, problems: [`rules.${P}.permissions[0].destination_ip.prefix_len: 33 is longer than an IPv4 address (32)`] },
    { name: 'metadata matcher without a value', policy: { permissions: [{ any: true }], principals: [{ metadata: { filter: 'f', path: [{ key: 'k' }] } }] }, problems: [`rules.${P}.principals[0].metadata.value: value is required`] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = problemsOf(c.policy);
      assert.equal(got.length, c.problems.length, got.join('\n'));
      c.problems.forEach((want, i) => (typeof want === 'string' ? assert.equal(got[i], want) : assert.match(got[i] ?? '', want)));
    });
  }
});
