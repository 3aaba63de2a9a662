// CORS as a browser behind Envoy sees it: preflights from allowed origins are answered by the proxy,
// others go upstream; responses to allowed origins carry the CORS headers; route policies override virtual
// host ones field by field; bad policies are rejected with field paths.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { CorsPolicySchema } from '../../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { CorsPolicySchema as RouteCorsPolicySchema } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { seededRandom, type Random } from '../../lib/random.js';
import { compileCorsPolicy, mergeCorsPolicies, type CorsPolicyConfig } from './config.js';
import { corsOriginStat, corsPreflight, corsResponseHeaders, type HeaderMap } from './engine.js';

function policy(json: JsonObject): CorsPolicyConfig {
  const r = compileCorsPolicy(fromJson(CorsPolicySchema, json));
  if (!r.ok) assert.fail(`unexpected problems: ${r.problems.join('; ')}`);
  return r.value;
}

const noRandom: Random = { next: () => assert.fail('random consulted') };

/** What Istio emits for a VirtualService corsPolicy. */
const istio = (extra: JsonObject): JsonObject => ({
  filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
  forward_not_matching_preflights: true,
  ...extra,
});

const preflight = (origin: string, extra: HeaderMap = {}): HeaderMap => ({ origin, 'access-control-request-method': 'PUT', ...extra });

describe('preflight', () => {
  const cases: { name: string; policy: JsonObject; method?: string; headers: HeaderMap; want: Record<string, string> | undefined }[] = [
    {
      name: 'exact origin allowed: answered with 200 and the policy',
      policy: istio({
        allow_origin_string_match: [{ exact: 'https://a.example' }],
        allow_methods: 'GET,PUT',
        allow_headers: 'content-type,x-token',
        max_age: '86400',
      }),
      headers: preflight('https://a.example'),
      want: {
        'access-control-allow-origin': 'https://a.example',
        'access-control-allow-methods': 'GET,PUT',
        'access-control-allow-headers': 'content-type,x-token',
        'access-control-max-age': '86400',
      },
    },
    {
      name: 'exact origin denied: forwarded upstream',
      policy: istio({ allow_origin_string_match: [{ exact: 'https://a.example' }], allow_methods: 'GET' }),
      headers: preflight('https://evil.example'),
      want: undefined,
    },
    {
      name: 'prefix origin allowed',
      policy: istio({ allow_origin_string_match: [{ prefix: 'https://app.' }] }),
      headers: preflight('https://app.example.com'),
      want: { 'access-control-allow-origin': 'https://app.example.com' },
    },
    {
      name: 'prefix origin denied',
      policy: istio({ allow_origin_string_match: [{ prefix: 'https://app.' }] }),
      headers: preflight('http://app.example.com'),
      want: undefined,
    },
    {
      name: 'regex origin allowed (whole value)',
      policy: istio({ allow_origin_string_match: [{ safe_regex: { regex: 'https://[a-z]+\\.example\\.com' } }] }),
      headers: preflight('https://shop.example.com'),
      want: { 'access-control-allow-origin': 'https://shop.example.com' },
    },
    {
      name: 'regex origin denied when only a substring matches',
      policy: istio({ allow_origin_string_match: [{ safe_regex: { regex: 'https://[a-z]+\\.example\\.com' } }] }),
      headers: preflight('https://shop.example.com.evil.net'),
      want: undefined,
    },
    {
      name: 'exact * allows every origin and echoes it',
      policy: istio({ allow_origin_string_match: [{ exact: '*' }] }),
      headers: preflight('https://anything.example'),
      want: { 'access-control-allow-origin': 'https://anything.example' },
    },
    {
      name: 'ignore_case exact',
      policy: istio({ allow_origin_string_match: [{ exact: 'https://A.example', ignore_case: true }] }),
      headers: preflight('https://a.EXAMPLE'),
      want: { 'access-control-allow-origin': 'https://a.EXAMPLE' },
    },
    {
      name: 'credentials and expose headers',
      policy: istio({ allow_origin_string_match: [{ exact: 'https://a.example' }], allow_credentials: true, expose_headers: 'x-request-id' }),
      headers: preflight('https://a.example'),
      want: {
        'access-control-allow-origin': 'https://a.example',
        'access-control-allow-credentials': 'true',
        'access-control-expose-headers': 'x-request-id',
      },
    },
    {
      name: 'allow_methods and allow_headers * echo the request',
      policy: istio({ allow_origin_string_match: [{ exact: 'https://a.example' }], allow_methods: '*', allow_headers: '*' }),
      headers: preflight('https://a.example', { 'access-control-request-headers': 'x-a,x-b' }),
      want: {
        'access-control-allow-origin': 'https://a.example',
        'access-control-allow-methods': 'PUT',
        'access-control-allow-headers': 'x-a,x-b',
      },
    },
    {
      name: 'private network access',
      policy: istio({ allow_origin_string_match: [{ exact: 'https://a.example' }], allow_private_network_access: true }),
      headers: preflight('https://a.example', { 'access-control-request-private-network': 'true' }),
      want: { 'access-control-allow-origin': 'https://a.example', 'access-control-allow-private-network': 'true' },
    },
    {
      name: 'denied origin with forward_not_matching_preflights false: answered without allow-origin',
      policy: istio({ allow_origin_string_match: [{ exact: 'https://a.example' }], allow_methods: 'GET', forward_not_matching_preflights: false }),
      headers: preflight('https://evil.example'),
      want: { 'access-control-allow-methods': 'GET' },
    },
    {
      name: 'no allowed origins at all: forwarded',
      policy: istio({ allow_methods: 'GET' }),
      headers: preflight('https://a.example'),
      want: undefined,
    },
    { name: 'not OPTIONS: not a preflight', policy: istio({ allow_origin_string_match: [{ exact: '*' }] }), method: 'GET', headers: preflight('https://a.example'), want: undefined },
    { name: 'no access-control-request-method: not a preflight', policy: istio({ allow_origin_string_match: [{ exact: '*' }] }), headers: { origin: 'https://a.example' }, want: undefined },
    { name: 'empty origin: not CORS', policy: istio({ allow_origin_string_match: [{ exact: '*' }] }), headers: preflight(''), want: undefined },
    {
      name: 'filter_enabled 0%: forwarded',
      policy: { allow_origin_string_match: [{ exact: '*' }], filter_enabled: { default_value: { numerator: 0 } } },
      headers: preflight('https://a.example'),
      want: undefined,
    },
    {
      name: 'shadow only: forwarded',
      policy: { allow_origin_string_match: [{ exact: '*' }], filter_enabled: { default_value: { numerator: 0 } }, shadow_enabled: { default_value: { numerator: 100 } } },
      headers: preflight('https://a.example'),
      want: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = corsPreflight(policy(c.policy), c.method ?? 'OPTIONS', c.headers, noRandom);
      if (c.want === undefined) assert.equal(got, undefined);
      else assert.deepEqual(got, { status: 200, headers: c.want });
    });
  }
});

describe('headers on responses to requests that went upstream', () => {
  const p = policy(istio({ allow_origin_string_match: [{ exact: 'https://a.example' }], allow_credentials: true, expose_headers: 'x-a,x-b', allow_methods: 'GET' }));
  const cases: { name: string; headers: HeaderMap; want: Record<string, string> }[] = [
    {
      name: 'allowed origin: allow-origin echoed, credentials, expose headers (no allow-methods)',
      headers: { origin: 'https://a.example' },
      want: { 'access-control-allow-origin': 'https://a.example', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-a,x-b' },
    },
    { name: 'disallowed origin: no CORS headers', headers: { origin: 'https://evil.example' }, want: {} },
    { name: 'no origin: no CORS headers', headers: {}, want: {} },
    { name: 'forwarded preflight from a disallowed origin: no CORS headers', headers: preflight('https://evil.example'), want: {} },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual({ ...corsResponseHeaders(p, c.headers, noRandom) }, c.want));
  it('no policy on the route: nothing', () => assert.deepEqual({ ...corsResponseHeaders(undefined, { origin: 'x' }) }, {}));
});

describe('filter_enabled as a fraction', () => {
  it('answers about half of preflights at 50%', () => {
    const p = policy({ allow_origin_string_match: [{ exact: '*' }], filter_enabled: { default_value: { numerator: 50 } } });
    const random = seededRandom(7);
    let answered = 0;
    for (let i = 0; i < 10_000; i++) if (corsPreflight(p, 'OPTIONS', preflight('https://a.example'), random) !== undefined) answered++;
    assert.ok(Math.abs(answered / 100 - 50) <= 2, `${answered / 100}%`);
  });
});

describe('origin stats', () => {
  const cases: { name: string; policy: JsonObject; origin?: string; want: string | undefined }[] = [
    { name: 'allowed', policy: { allow_origin_string_match: [{ exact: 'o' }] }, origin: 'o', want: 'origin_valid' },
    { name: 'not allowed', policy: { allow_origin_string_match: [{ exact: 'o' }] }, origin: 'p', want: 'origin_invalid' },
    { name: 'no origin', policy: { allow_origin_string_match: [{ exact: 'o' }] }, want: undefined },
    {
      name: 'counted in shadow mode',
      policy: { allow_origin_string_match: [{ exact: 'o' }], filter_enabled: { default_value: { numerator: 0 } }, shadow_enabled: { default_value: { numerator: 100 } } },
      origin: 'o',
      want: 'origin_valid',
    },
    { name: 'not counted when disabled', policy: { allow_origin_string_match: [{ exact: 'o' }], filter_enabled: { default_value: { numerator: 0 } } }, origin: 'o', want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(corsOriginStat(policy(c.policy), c.origin === undefined ? {} : { origin: c.origin }, noRandom), c.want));
});

describe('policies of one route', () => {
  const vhost = policy({ allow_origin_string_match: [{ exact: 'https://a.example' }], allow_methods: 'GET', max_age: '60', allow_credentials: true, expose_headers: 'x-v' });
  const route = policy({ allow_methods: 'POST', allow_credentials: false, filter_enabled: { default_value: { numerator: 100 } } });

  it('the route overrides the virtual host field by field', () => {
    const eff = mergeCorsPolicies([route, vhost]);
    assert.deepEqual(corsPreflight(eff, 'OPTIONS', preflight('https://a.example'), noRandom), {
      status: 200,
      headers: {
        'access-control-allow-origin': 'https://a.example',
        'access-control-allow-methods': 'POST',
        'access-control-max-age': '60',
        'access-control-expose-headers': 'x-v',
      },
    });
  });
  it('filter_enabled comes from the most specific policy only', () => {
    const off = policy({ filter_enabled: { default_value: { numerator: 0 } } });
    assert.equal(corsPreflight(mergeCorsPolicies([route, off]), 'OPTIONS', preflight('https://a.example'), noRandom), undefined);
    assert.equal(corsPreflight(mergeCorsPolicies([off, vhost]), 'OPTIONS', preflight('https://a.example'), noRandom), undefined);
  });
  it('legacy route/vhost cors fields apply only when no typed_per_filter_config policy does', () => {
    const legacy = compileCorsPolicy(fromJson(RouteCorsPolicySchema, { allow_origin_string_match: [{ exact: 'https://legacy.example' }] }));
    assert.ok(legacy.ok);
    assert.equal(mergeCorsPolicies([vhost], [legacy.value]), vhost);
    const eff = mergeCorsPolicies([], [legacy.value]);
    assert.deepEqual({ ...corsResponseHeaders(eff, { origin: 'https://legacy.example' }, noRandom) }, { 'access-control-allow-origin': 'https://legacy.example' });
    assert.equal(mergeCorsPolicies([], []), undefined);
  });
  it('legacy filter_enabled (in its oneof) is honoured', () => {
    const legacy = compileCorsPolicy(fromJson(RouteCorsPolicySchema, { allow_origin_string_match: [{ exact: '*' }], filter_enabled: { default_value: { numerator: 0 } } }));
    assert.ok(legacy.ok);
    assert.equal(corsPreflight(legacy.value, 'OPTIONS', preflight('https://a.example'), noRandom), undefined);
  });
});

describe('compile problems', () => {
  const cases: { name: string; policy: JsonObject; want: string[] }[] = [
    { name: 'empty prefix', policy: { allow_origin_string_match: [{ prefix: '' }] }, want: ['allow_origin_string_match[0].prefix: value length must be at least 1 characters'] },
    { name: 'ignore_case with a regex', policy: { allow_origin_string_match: [{ safe_regex: { regex: 'a' }, ignore_case: true }] }, want: ['allow_origin_string_match[0].ignore_case: ignore_case has no effect for safe_regex.'] },
    { name: 'matcher with nothing set', policy: { allow_origin_string_match: [{}] }, want: ['allow_origin_string_match[0].match_pattern: value is required'] },
    {
      name: 'invalid regex and missing default_value, together',
      policy: { allow_origin_string_match: [{ safe_regex: { regex: '[' } }], filter_enabled: { runtime_key: 'k' } },
      want: ['allow_origin_string_match[0].safe_regex.regex: invalid regex "["', 'filter_enabled.default_value: value is required'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = compileCorsPolicy(fromJson(CorsPolicySchema, c.policy), '');
      assert.deepEqual(r.ok ? [] : r.problems.map((p) => p.replace(/(invalid regex "[^"]*"):.*$/, '$1')), c.want);
    });
  }
  it('prefixes problems with where the policy sits', () => {
    const r = compileCorsPolicy(fromJson(CorsPolicySchema, { allow_origin_string_match: [{ suffix: '' }] }), 'virtual_hosts[0].typed_per_filter_config["envoy.filters.http.cors"]');
    assert.deepEqual(r.ok ? [] : r.problems, ['virtual_hosts[0].typed_per_filter_config["envoy.filters.http.cors"].allow_origin_string_match[0].suffix: value length must be at least 1 characters']);
  });
});
