import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { seededRandom, type Random } from '../../lib/random.js';
import { compileRouteConfig } from './compile-route-config.js';
import type { CompiledRouteConfig, ForwardSelection, RouteInput, RouteSelection } from './types.js';

function parse(json: JsonObject): RouteConfiguration {
  return fromJson(RouteConfigurationSchema, json, { registry: XDS_REGISTRY });
}

function compile(json: JsonObject): CompiledRouteConfig {
  const r = compileRouteConfig(parse(json));
  assert.ok(r.ok, r.ok ? '' : r.problems.join('\n'));
  return r.value;
}

function oneRoute(route: JsonObject, vhost: JsonObject = {}, config: JsonObject = {}): CompiledRouteConfig {
  return compile({ name: 'rc', ...config, virtualHosts: [{ name: 'vh', domains: ['*'], ...vhost, routes: [{ name: 'r', match: { prefix: '/' }, ...route }] }] });
}

function select(c: CompiledRouteConfig, r: Partial<RouteInput> = {}, random: Random = seededRandom(1)): RouteSelection | undefined {
  return c.select({ authority: 'example.com', path: '/', method: 'GET', scheme: 'http', headers: {}, ...r }, random);
}

function forward(c: CompiledRouteConfig, r: Partial<RouteInput> = {}, random?: Random): ForwardSelection {
  const s = select(c, r, random);
  assert.equal(s?.kind, 'route');
  return s as ForwardSelection;
}

const distributions: { name: string; clusters: [string, number][]; totalWeight?: number }[] = [
  { name: '70/20/10', clusters: [['a', 70], ['b', 20], ['c', 10]] },
  { name: '50/50 with total_weight', clusters: [['a', 50], ['b', 50]], totalWeight: 100 },
  { name: 'a zero weight is never picked', clusters: [['a', 1], ['b', 0], ['c', 3]] },
];

for (const d of distributions) {
  test(`weighted clusters: ${d.name}`, () => {
    const c = oneRoute({ route: { weightedClusters: { clusters: d.clusters.map(([name, weight]) => ({ name, weight })), ...(d.totalWeight === undefined ? {} : { totalWeight: d.totalWeight }) } } });
    const random = seededRandom(42);
    const n = 20_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const s = forward(c, {}, random);
      counts.set(s.cluster, (counts.get(s.cluster) ?? 0) + 1);
    }
    const total = d.clusters.reduce((t, [, w]) => t + w, 0);
    for (const [name, weight] of d.clusters) {
      const share = (counts.get(name) ?? 0) / n;
      assert.ok(Math.abs(share - weight / total) < 0.02, `${name}: ${share} vs ${weight / total}`);
    }
  });
}

test('weighted clusters: the same seed gives the same picks', () => {
  const c = oneRoute({ route: { weightedClusters: { clusters: [{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }] } } });
  const run = (seed: number) => {
    const r = seededRandom(seed);
    return Array.from({ length: 20 }, () => forward(c, {}, r).cluster).join();
  };
  assert.equal(run(9), run(9));
});

test('weighted clusters: header_name supplies the random value', () => {
  const c = oneRoute({ route: { weightedClusters: { headerName: 'x-rv', clusters: [{ name: 'a', weight: 50 }, { name: 'b', weight: 50 }] } } });
  assert.equal(forward(c, { headers: { 'x-rv': '75' } }).cluster, 'b');
  assert.equal(forward(c, { headers: { 'x-rv': '149' } }).cluster, 'a');
  assert.equal(forward(c, { headers: { 'x-rv': '18446744073709551615' } }).cluster, 'a'); // 2^64 - 1 = ...615, % 100 = 15
});

test('weighted clusters: per-cluster typed_per_filter_config is the most specific', () => {
  const fault = (delay: string) => ({ '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', delay: { fixedDelay: delay, percentage: { numerator: 100 } } });
  const c = compile({
    typedPerFilterConfig: { 'envoy.filters.http.fault': fault('4s'), 'x.config-only': fault('5s') },
    virtualHosts: [
      {
        name: 'vh',
        domains: ['*'],
        typedPerFilterConfig: { 'envoy.filters.http.fault': fault('3s'), 'x.vhost-only': fault('6s') },
        routes: [
          {
            match: { prefix: '/' },
            typedPerFilterConfig: { 'envoy.filters.http.fault': fault('2s') },
            route: { weightedClusters: { clusters: [{ name: 'a', weight: 1, typedPerFilterConfig: { 'envoy.filters.http.fault': fault('1s') } }, { name: 'b', weight: 1 }] } },
          },
        ],
      },
    ],
  });
  const delays = new Map<string, string>();
  const random = seededRandom(5);
  for (let i = 0; i < 50; i++) {
    const s = forward(c, {}, random);
    const any = s.perFilterConfig('envoy.filters.http.fault');
    assert.ok(any);
    delays.set(s.cluster, any.value.join());
    assert.ok(s.perFilterConfig('x.config-only'));
    assert.ok(s.perFilterConfig('x.vhost-only'));
    assert.equal(s.perFilterConfig('x.none'), undefined);
  }
  assert.equal(delays.size, 2);
  assert.notEqual(delays.get('a'), delays.get('b'));
});

test('cluster_header: the first value names the cluster; absent is ""', () => {
  const c = oneRoute({ route: { clusterHeader: 'X-Cluster', clusterNotFoundResponseCode: 'NOT_FOUND' } });
  assert.equal(forward(c, { headers: { 'x-cluster': ['one', 'two'] } }).cluster, 'one');
  const missing = forward(c);
  assert.equal(missing.cluster, '');
  assert.equal(missing.action.clusterNotFoundStatus, 404);
});

test('static routes hand out one shared selection', () => {
  const c = oneRoute({ route: { cluster: 'c' } });
  assert.equal(select(c, { path: '/a' }), select(c, { path: '/b' }));
});

test('route action: timeouts and defaults', () => {
  const d = forward(oneRoute({ route: { cluster: 'c' } })).action;
  assert.equal(d.timeoutMs, 15_000);
  assert.equal(d.idleTimeoutMs, undefined);
  assert.equal(d.clusterNotFoundStatus, 503);
  const a = forward(
    oneRoute({ route: { cluster: 'c', timeout: '0s', idleTimeout: '30s', maxStreamDuration: { maxStreamDuration: '60s', grpcTimeoutHeaderMax: '0s' }, maxGrpcTimeout: '5s', upgradeConfigs: [{ upgradeType: 'WebSocket' }, { upgradeType: 'CONNECT', enabled: false }] } }),
  ).action;
  assert.equal(a.timeoutMs, 0);
  assert.equal(a.idleTimeoutMs, 30_000);
  assert.equal(a.maxStreamDurationMs, 60_000);
  assert.equal(a.grpcTimeoutHeaderMaxMs, 0);
  assert.equal(a.maxGrpcTimeoutMs, 5000);
  assert.deepEqual([...a.upgrades], [['websocket', true], ['connect', false]]);
});

test('route action: hash policies in order', () => {
  const a = forward(
    oneRoute({
      route: {
        cluster: 'c',
        hashPolicy: [
          { header: { headerName: 'X-User', regexRewrite: { pattern: { regex: '^user-(.*)$' }, substitution: '\\1' } } },
          { cookie: { name: 'session', ttl: '10s', path: '/' }, terminal: true },
          { connectionProperties: { sourceIp: true } },
          { connectionProperties: { sourceIp: false } },
          { queryParameter: { name: 'id' } },
          { filterState: { key: 'k' } },
        ],
      },
    }),
  ).action;
  assert.deepEqual(
    a.hashPolicies.map((h) => h.kind),
    ['header', 'cookie', 'sourceIp', 'queryParameter', 'filterState'],
  );
  const h = a.hashPolicies[0];
  assert.equal(h?.kind === 'header' ? h.rewrite?.('user-42') : undefined, '42');
  const cookie = a.hashPolicies[1];
  assert.equal(cookie?.kind === 'cookie' ? cookie.ttlMs : undefined, 10_000);
  assert.equal(cookie?.terminal, true);
});

test('request mirror policies: route, else virtual host, else route configuration', () => {
  const rcMirror = { requestMirrorPolicies: [{ cluster: 'from-config' }] };
  const vhMirror = { requestMirrorPolicies: [{ cluster: 'from-vhost', runtimeFraction: { defaultValue: { numerator: 10, denominator: 'TEN_THOUSAND' } } }] };
  const mirrorOf = (c: CompiledRouteConfig) => forward(c).action.mirrorPolicies.map((m) => `${m.cluster}:${m.fraction.numerator}/${m.fraction.denominator}`);
  assert.deepEqual(mirrorOf(oneRoute({ route: { cluster: 'c' } }, {}, rcMirror)), ['from-config:100/100']);
  assert.deepEqual(mirrorOf(oneRoute({ route: { cluster: 'c' } }, vhMirror, rcMirror)), ['from-vhost:10/10000']);
  assert.deepEqual(mirrorOf(oneRoute({ route: { cluster: 'c', requestMirrorPolicies: [{ cluster: 'from-route' }] } }, vhMirror, rcMirror)), ['from-route:100/100']);
});

test('cors: the typed per-filter config wins, else the legacy field', () => {
  const typed = { 'envoy.filters.http.cors': { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy', allowMethods: 'GET' } };
  const legacy = { allowOriginStringMatch: [{ exact: 'https://a.example' }], allowMethods: 'POST' };
  assert.equal(forward(oneRoute({ route: { cluster: 'c' } })).cors, undefined);
  assert.equal(forward(oneRoute({ route: { cluster: 'c' } }, { cors: legacy })).cors?.kind, 'legacy');
  const fromRoute = forward(oneRoute({ route: { cluster: 'c', cors: { allowMethods: 'PUT' } } }, { cors: legacy })).cors;
  assert.equal(fromRoute?.kind === 'legacy' ? fromRoute.policy.allowMethods : undefined, 'PUT');
  assert.equal(forward(oneRoute({ route: { cluster: 'c' } }, { cors: legacy, typedPerFilterConfig: typed })).cors?.kind, 'typed');
});

const directCases: { name: string; body?: JsonObject; status: number; want: string | undefined }[] = [
  { name: 'inline string', body: { inlineString: 'hello' }, status: 200, want: 'hello' },
  { name: 'inline bytes', body: { inlineBytes: Buffer.from('bytes').toString('base64') }, status: 503, want: 'bytes' },
  { name: 'no body', status: 204, want: undefined },
];

for (const c of directCases) {
  test(`direct response: ${c.name}`, () => {
    const s = select(oneRoute({ directResponse: { status: c.status, ...(c.body === undefined ? {} : { body: c.body }) } }));
    assert.equal(s?.kind, 'directResponse');
    if (s?.kind !== 'directResponse') return;
    assert.equal(s.status, c.status);
    assert.equal(s.body === undefined ? undefined : Buffer.from(s.body).toString(), c.want);
    assert.equal(s.route.name, 'r');
  });
}

test('no virtual host or no route: undefined', () => {
  const c = compile({ virtualHosts: [{ name: 'vh', domains: ['a.com'], routes: [{ match: { path: '/x' }, route: { cluster: 'c' } }] }] });
  assert.equal(select(c, { authority: 'b.com', path: '/x' }), undefined);
  assert.equal(select(c, { authority: 'a.com', path: '/y' }), undefined);
  assert.equal(select(c, { authority: 'a.com', path: '/x' })?.kind, 'route');
});

test('an optional cluster specifier plugin: its routes never match, matching goes on', () => {
  const c = compile({
    clusterSpecifierPlugins: [{ extension: { name: 'lookup', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }, isOptional: true }],
    virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { clusterSpecifierPlugin: 'lookup' } }, { match: { prefix: '/' }, route: { cluster: 'fallback' } }] }],
  });
  assert.equal(forward(c).cluster, 'fallback');
});

const badConfigs: { name: string; json: JsonObject; problems: string[] }[] = [
  {
    name: 'weights that do not sum to total_weight',
    json: { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { weightedClusters: { totalWeight: 100, clusters: [{ name: 'a', weight: 30 }, { name: 'b', weight: 30 }] } } }] }] },
    problems: ['virtual_hosts[0].routes[0].route.weighted_clusters.total_weight: sum of weights in the weighted_cluster (60) should add up to total_weight 100'],
  },
  {
    name: 'weights summing to zero',
    json: { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { weightedClusters: { clusters: [{ name: 'a', weight: 0 }] } } }] }] },
    problems: ['virtual_hosts[0].routes[0].route.weighted_clusters: sum of weights in the weighted_cluster must be greater than 0'],
  },
  {
    name: 'a weighted cluster with both name and cluster_header',
    json: { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { weightedClusters: { clusters: [{ name: 'a', clusterHeader: 'x', weight: 1 }] } } }] }] },
    problems: ['virtual_hosts[0].routes[0].route.weighted_clusters.clusters[0]: only one of name or cluster_header can be specified'],
  },
  {
    name: 'every problem is reported, with its field path',
    json: {
      virtualHosts: [
        {
          name: 'vh',
          domains: ['*'],
          routes: [
            { match: { safeRegex: { regex: '(unclosed' } }, route: { cluster: 'c' } },
            { match: { prefix: '/' }, route: { cluster: 'c', regexRewrite: { pattern: { regex: 'a' }, substitution: '\\x' } } },
            { match: { prefix: '/' } },
          ],
        },
        { name: 'vh2', domains: ['*'], routes: [] },
      ],
    },
    problems: [
      'virtual_hosts[0].routes[0].match.safe_regex.regex: invalid regex "(unclosed": error parsing regexp: missing closing ): `(unclosed`',
      'virtual_hosts[0].routes[1].route.regex_rewrite.substitution: substitution "\\\\x": invalid rewrite pattern (a backslash must be followed by a digit or a backslash)',
      'virtual_hosts[0].routes[2]: one of route, redirect or direct_response must be set',
      'virtual_hosts[1].domains[0]: only a single wildcard domain (*) is permitted',
    ],
  },
  {
    name: 'a required cluster specifier plugin',
    json: {
      clusterSpecifierPlugins: [{ extension: { name: 'lookup', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } } }],
      virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { clusterSpecifierPlugin: 'lookup' } }] }],
    },
    problems: ['cluster_specifier_plugins[0]: unsupported cluster specifier plugin "lookup"'],
  },
  {
    name: 'an unknown cluster specifier plugin name',
    json: { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { clusterSpecifierPlugin: 'nope' } }] }] },
    problems: ['virtual_hosts[0].routes[0].route.cluster_specifier_plugin: unknown cluster specifier plugin name "nope"'],
  },
  {
    name: 'a direct response body over the limit',
    json: { maxDirectResponseBodySizeBytes: 4, virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, directResponse: { status: 200, body: { inlineString: 'hello' } } }] }] },
    problems: ['virtual_hosts[0].routes[0].direct_response.body: response body size is 5 bytes; maximum is 4'],
  },
  {
    name: 'a direct response body from a file',
    json: { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, directResponse: { status: 200, body: { filename: '/etc/motd' } } }] }] },
    problems: ['virtual_hosts[0].routes[0].direct_response.body.filename: only inline bodies are supported'],
  },
  {
    name: 'a mirror policy with both cluster and cluster_header',
    json: { requestMirrorPolicies: [{ cluster: 'a', clusterHeader: 'x' }], virtualHosts: [{ name: 'vh', domains: ['*'], routes: [] }] },
    problems: ['request_mirror_policies[0]: only one of cluster or cluster_header in request mirror policy can be specified'],
  },
  {
    name: 'internal redirects',
    json: { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c', internalRedirectPolicy: {} } }] }] },
    problems: ['virtual_hosts[0].routes[0].route.internal_redirect_policy: internal redirects are not supported'],
  },
  {
    name: 'request hedging (Envoy sends a second request at the per-try timeout; not supported, so refused)',
    json: {
      virtualHosts: [
        { name: 'vh', domains: ['*'], hedgePolicy: { hedgeOnPerTryTimeout: true }, routes: [{ match: { prefix: '/' }, route: { cluster: 'c', hedgePolicy: { hedgeOnPerTryTimeout: true } } }] },
        { name: 'vh2', domains: ['b'], hedgePolicy: { initialRequests: 1 }, routes: [] },
      ],
    },
    problems: ['virtual_hosts[0].hedge_policy.hedge_on_per_try_timeout: request hedging is not supported', 'virtual_hosts[0].routes[0].route.hedge_policy.hedge_on_per_try_timeout: request hedging is not supported'],
  },
  {
    name: 'a HIGH priority route (the clusters\' HIGH breaker thresholds are not kept apart; DEFAULT is accepted)',
    json: {
      virtualHosts: [
        {
          name: 'vh',
          domains: ['*'],
          routes: [
            { match: { prefix: '/a' }, route: { cluster: 'c', priority: 'HIGH' } },
            { match: { prefix: '/' }, route: { cluster: 'c', priority: 'DEFAULT' } },
          ],
        },
      ],
    },
    problems: ["virtual_hosts[0].routes[0].route.priority: HIGH routing priority (the clusters' HIGH circuit breaker thresholds) is not supported"],
  },
  {
    name: 'virtual host discovery',
    json: { vhds: { configSource: { ads: {} } } },
    problems: ['vhds: virtual host discovery is not supported'],
  },
];

for (const c of badConfigs) {
  test(`bad config: ${c.name}`, () => {
    const r = compileRouteConfig(parse(c.json));
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.problems, c.problems);
  });
}

const goldenRoot = new URL('../../../../test/golden/', import.meta.url);

/** Route configurations in a golden file: a list of them, one, a lone virtual host, or a translate dump's `routes`. */
function routeConfigurations(json: JsonValue, file: string): JsonObject[] {
  if (Array.isArray(json)) return json as JsonObject[];
  const o = json as JsonObject;
  if (Array.isArray(o['routes']) && o['domains'] === undefined) return o['routes'] as JsonObject[];
  if (o['virtualHosts'] !== undefined) return [o];
  return [{ name: file, virtualHosts: [o] }];
}

const goldenFiles = [
  ...readdirSync(new URL('route/', goldenRoot)).map((f) => `route/${f}`),
  ...readdirSync(new URL('translate/', goldenRoot)).map((f) => `translate/${f}`),
].filter((f) => f.endsWith('.golden.json'));

test('golden files exist', () => {
  assert.ok(goldenFiles.length > 0);
});

for (const file of goldenFiles) {
  test(`golden: every route configuration in ${file} compiles`, () => {
    const configs = routeConfigurations(JSON.parse(readFileSync(new URL(file, goldenRoot), 'utf8')) as JsonValue, file);
    assert.ok(configs.length > 0);
    for (const json of configs) {
      const r = compileRouteConfig(parse(json));
      assert.ok(r.ok, `${String(json['name'])}: ${r.ok ? '' : r.problems.join('\n')}`);
    }
  });
}
