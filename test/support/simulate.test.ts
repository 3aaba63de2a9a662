// Tests of the traffic simulation over hand-built Envoy resources: each case states the Envoy rule it checks.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FilterChainMatch_ConnectionSourceType as SourceType } from '../../src/xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { expectRoute, simulate, type Call, type Expectation } from './simulate.js';
import {
  apiListener,
  directResponse,
  exactPath,
  filterChain,
  hcmFilter,
  httpListener,
  listener,
  prefix,
  redirect,
  regexPath,
  resources,
  route,
  routeConfig,
  tcpListener,
  tcpProxyFilter,
  toCluster,
  toWeighted,
  vhost,
} from './xds-fixtures.js';

function table(res: ReturnType<typeof resources>, cases: readonly (readonly [string, Call, Expectation])[]): void {
  for (const [name, call, want] of cases) {
    it(name, () => {
      expectRoute(res, call, want);
    });
  }
}

describe('virtual host selection (VirtualHost.domains search order)', () => {
  const res = resources({
    listeners: [httpListener({ name: 'http', port: 80, routeName: 'rc', bindToPort: true })],
    routes: [
      routeConfig('rc', [
        vhost('exact', ['a.example.com'], [route('r-exact', prefix('/'), toCluster('exact'))]),
        vhost('suffix-short', ['*.example.com'], [route('r-suffix-short', prefix('/'), toCluster('suffix-short'))]),
        vhost('suffix-long', ['*.b.example.com'], [route('r-suffix-long', prefix('/'), toCluster('suffix-long'))]),
        vhost('prefix', ['api.*'], [route('r-prefix', prefix('/'), toCluster('prefix'))]),
        vhost('default', ['*'], [route('r-default', prefix('/'), toCluster('default'))]),
      ]),
    ],
    clusters: ['exact', 'suffix-short', 'suffix-long', 'prefix', 'default'],
  });
  const http = (host: string): Call => ({ port: 80, protocol: 'http', host, callMode: 'gateway' });
  table(res, [
    ['exact domain beats every wildcard', http('a.example.com'), { virtualHost: 'exact', cluster: 'exact' }],
    ['authority is matched case-insensitively', http('A.Example.COM'), { virtualHost: 'exact' }],
    ['longest suffix wildcard wins', http('x.b.example.com'), { virtualHost: 'suffix-long' }],
    ['shorter suffix wildcard when the longer does not match', http('x.example.com'), { virtualHost: 'suffix-short' }],
    ['suffix wildcards beat prefix wildcards', http('api.example.com'), { virtualHost: 'suffix-short' }],
    ['prefix wildcard', http('api.internal'), { virtualHost: 'prefix' }],
    ['a wildcard never matches the empty string', http('.example.com'), { virtualHost: 'default' }],
    ['host:port is compared literally', http('a.example.com:80'), { virtualHost: 'default' }],
    ['no host falls to *', http(''), { virtualHost: 'default', route: 'r-default' }],
  ]);

  it('ignore_port_in_host_matching drops the port before matching', () => {
    const r = resources({
      listeners: [httpListener({ name: 'http', port: 80, routeName: 'rc' })],
      routes: [routeConfig('rc', [vhost('exact', ['a.example.com'], [route('r', prefix('/'), toCluster('c'))])], { ignorePortInHostMatching: true })],
      clusters: ['c'],
    });
    expectRoute(r, http('a.example.com:8080'), { virtualHost: 'exact' });
  });

  it('no domain matches: no virtual host', () => {
    const r = resources({
      listeners: [httpListener({ name: 'http', port: 80, routeName: 'rc' })],
      routes: [routeConfig('rc', [vhost('only', ['a.example.com'], [route('r', prefix('/'), toCluster('c'))])])],
      clusters: ['c'],
    });
    expectRoute(r, http('b.example.com'), { error: 'no virtual host', virtualHost: undefined });
  });
});

describe('route matching (RouteMatch, first match wins)', () => {
  const routes = [
    route('exact-first', exactPath('/exact'), toCluster('exact')),
    route('catch-all-before-specific', prefix('/shadow'), toCluster('shadow')),
    route('shadowed', exactPath('/shadow/x'), toCluster('never')),
    route('regex', regexPath('/api/v[0-9]+'), toCluster('regex')),
    route('ci-prefix', { pathSpecifier: { case: 'prefix', value: '/CaSe' }, caseSensitive: false }, toCluster('ci')),
    route('sep-prefix', { pathSpecifier: { case: 'pathSeparatedPrefix', value: '/docs' } }, toCluster('sep')),
    route('grpc-only', { pathSpecifier: { case: 'prefix', value: '/pkg.Svc/' }, grpc: {} }, toCluster('grpc')),
    route('query', { pathSpecifier: { case: 'prefix', value: '/q' }, queryParameters: [{ name: 'v', queryParameterMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: '2' } } } }] }, toCluster('q2')),
    route('invert', {
      pathSpecifier: { case: 'prefix', value: '/inv' },
      headers: [{ name: 'x-env', headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: 'prod' } } }, invertMatch: true }],
    }, toCluster('not-prod')),
    route('invert-missing-empty', {
      pathSpecifier: { case: 'prefix', value: '/inv' },
      headers: [{ name: 'x-env', headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: 'prod' } } }, invertMatch: true, treatMissingHeaderAsEmpty: true }],
    }, toCluster('missing-as-empty')),
    route('absent', { pathSpecifier: { case: 'prefix', value: '/absent' }, headers: [{ name: 'x-debug', headerMatchSpecifier: { case: 'presentMatch', value: false } }] }, toCluster('no-debug')),
    route('hdr-regex', {
      pathSpecifier: { case: 'prefix', value: '/' },
      headers: [{ name: 'x-user', headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'safeRegex', value: { regex: 'ja.*' } } } } }],
    }, toCluster('regex-user')),
    route('weighted', prefix('/split'), toWeighted([{ name: 'v1', weight: 90 }, { name: 'v2', weight: 10 }])),
    route('redirect', prefix('/old'), redirect({ hostRedirect: 'new.example.com', pathRewriteSpecifier: { case: 'prefixRewrite', value: '/new' } })),
    route('direct', prefix('/teapot'), directResponse(418, 'short and stout')),
  ];
  const res = resources({
    listeners: [httpListener({ name: 'http', port: 80, routeName: 'rc' })],
    routes: [routeConfig('rc', [vhost('vh', ['*'], routes)])],
    clusters: ['exact', 'shadow', 'never', 'regex', 'ci', 'sep', 'grpc', 'q2', 'not-prod', 'missing-as-empty', 'no-debug', 'regex-user', 'v1', 'v2'],
  });
  const get = (path: string, more: Partial<Call> = {}): Call => ({ port: 80, protocol: 'http', host: 'x', callMode: 'gateway', path, ...more });
  table(res, [
    ['exact path', get('/exact'), { route: 'exact-first', cluster: 'exact' }],
    ['exact path ignores the query string', get('/exact?a=b'), { route: 'exact-first' }],
    ['an earlier prefix shadows a later exact path', get('/shadow/x'), { route: 'catch-all-before-specific', cluster: 'shadow' }],
    ['safe_regex must match the whole path', get('/api/v12'), { route: 'regex' }],
    ['safe_regex does not match a longer path', get('/api/v1/x'), { error: 'no route', route: undefined }],
    ['safe_regex ignores the query string', get('/api/v1?x=1'), { route: 'regex' }],
    ['case_sensitive false folds case on prefix', get('/case/x'), { route: 'ci-prefix' }],
    ['path_separated_prefix matches at a segment boundary', get('/docs/a'), { route: 'sep-prefix' }],
    ['path_separated_prefix matches the exact path', get('/docs'), { route: 'sep-prefix' }],
    ['path_separated_prefix does not match inside a segment', get('/docsy'), { error: 'no route', route: undefined }],
    ['grpc match needs content-type application/grpc', get('/pkg.Svc/Call', { protocol: 'grpc' }), { route: 'grpc-only', cluster: 'grpc' }],
    ['grpc match skips plain HTTP', get('/pkg.Svc/Call'), { error: 'no route' }],
    ['query parameter exact', get('/q?a=1&v=2'), { route: 'query', cluster: 'q2' }],
    ['query parameter mismatch', get('/q?v=3'), { error: 'no route' }],
    ['inverted header: other value matches', get('/inv', { headers: { 'x-env': 'dev' } }), { route: 'invert', cluster: 'not-prod' }],
    ['inverted header: the value itself does not', get('/inv', { headers: { 'X-Env': 'prod' } }), { error: 'no route' }],
    ['inverted header: missing header fails unless treated as empty', get('/inv'), { route: 'invert-missing-empty', cluster: 'missing-as-empty' }],
    ['present_match false matches an absent header', get('/absent'), { route: 'absent' }],
    ['present_match false rejects a present header', get('/absent', { headers: { 'x-debug': '1', 'x-user': 'jane' } }), { route: 'hdr-regex' }],
    ['header safe_regex is a full match', get('/z', { headers: { 'x-user': 'jason' } }), { route: 'hdr-regex', cluster: 'regex-user' }],
    ['header safe_regex rejects a partial match', get('/z', { headers: { 'x-user': 'aja' } }), { error: 'no route' }],
    ['weighted clusters', get('/split'), { route: 'weighted', weightedClusters: [{ name: 'v1', weight: 90 }, { name: 'v2', weight: 10 }], cluster: undefined }],
    ['redirect', get('/old/page'), { route: 'redirect', redirect: { responseCode: 301, host: 'new.example.com', prefixRewrite: '/new' } }],
    ['direct response', get('/teapot'), { route: 'direct', directResponse: { status: 418, body: 'short and stout' } }],
  ]);

  it('a routed cluster missing from the resources is an error (Envoy answers 503 NC)', () => {
    const partial = { ...res, clusters: res.clusters.filter((c) => c.name !== 'exact') };
    expectRoute(partial, get('/exact'), { error: 'cluster not found', cluster: 'exact' });
    expectRoute(partial, get('/exact'), { cluster: 'exact' }, { requireClusters: false });
  });

  it('an invalid regex names the route', () => {
    const bad = resources({
      listeners: [httpListener({ name: 'http', port: 80, routeName: 'rc' })],
      routes: [routeConfig('rc', [vhost('vh', ['*'], [route('broken', regexPath('(unclosed'), toCluster('c'))])])],
      clusters: ['c'],
    });
    const r = simulate(bad, get('/x'));
    assert.equal(r.error, 'invalid config');
    assert.match(r.detail ?? '', /route broken/);
  });
});

describe('filter chain selection (FilterChainMatch)', () => {
  const chain = (name: string, match: Parameters<typeof filterChain>[0]['match'], cluster: string) =>
    filterChain({ name, ...(match !== undefined ? { match } : {}), filters: [tcpProxyFilter(cluster)] });
  const res = resources({
    listeners: [
      listener({
        name: 'tls',
        port: 443,
        listenerFilters: ['tls_inspector'],
        chains: [
          chain('sni-exact', { serverNames: ['a.example.com'] }, 'exact'),
          chain('sni-wild', { serverNames: ['*.example.com'] }, 'wild'),
          chain('sni-com', { serverNames: ['*.com'] }, 'com'),
          chain('plain', { transportProtocol: 'raw_buffer' }, 'plain'),
          chain('h2-any-tls', { transportProtocol: 'tls', applicationProtocols: ['h2'] }, 'h2'),
          chain('any-tls', { transportProtocol: 'tls' }, 'tls'),
        ],
      }),
      listener({
        name: 'virtualInbound',
        port: 15006,
        chains: [
          chain('port-9080', { destinationPort: 9080, serverNames: ['only.example.com'] }, 'p9080'),
          chain('net-10', { destinationPort: 8080, prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }] }, 'net10'),
          chain('net-10-1', { destinationPort: 8080, prefixRanges: [{ addressPrefix: '10.1.0.0', prefixLen: 16 }] }, 'net10-1'),
          chain('no-port', {}, 'any'),
        ],
        defaultChain: filterChain({ name: 'fallback', filters: [tcpProxyFilter('fallback')] }),
      }),
    ],
    clusters: ['exact', 'wild', 'com', 'plain', 'h2', 'tls', 'p9080', 'net10', 'net10-1', 'any', 'fallback'],
  });
  const tls = (sni: string, more: Partial<Call> = {}): Call => ({ port: 443, protocol: 'tls', sni, callMode: 'gateway', ...more });
  const inbound = (port: number, address: string): Call => ({ port, address, protocol: 'tcp', callMode: 'inbound' });
  table(res, [
    ['exact SNI first', tls('a.example.com'), { filterChain: 'sni-exact', tcpCluster: 'exact', cluster: 'exact' }],
    ['then *.example.com', tls('b.example.com'), { filterChain: 'sni-wild' }],
    ['then *.com', tls('example.com'), { filterChain: 'sni-com' }],
    ['then chains without server_names (transport tls)', tls('other.org'), { filterChain: 'any-tls' }],
    ['ALPN narrows among the remaining chains', tls('other.org', { alpn: ['h2', 'http/1.1'] }), { filterChain: 'h2-any-tls' }],
    ['plaintext is raw_buffer', { port: 443, protocol: 'tcp', callMode: 'gateway' }, { filterChain: 'plain' }],
    ['a chain naming the port wins even when a later criterion fails: no fallback, default chain', { ...inbound(9080, '10.0.0.5'), tls: 'plaintext' }, { filterChain: 'fallback', cluster: 'fallback' }],
    ['longest destination prefix wins', inbound(8080, '10.1.2.3'), { filterChain: 'net-10-1' }],
    ['shorter prefix when the longer does not contain the address', inbound(8080, '10.2.0.1'), { filterChain: 'net-10' }],
    ['port-specific chains exclude the address: default chain', inbound(8080, '192.168.0.1'), { filterChain: 'fallback' }],
    ['no chain names the port', inbound(7070, '10.0.0.1'), { filterChain: 'no-port', cluster: 'any' }],
  ]);

  it('without tls_inspector SNI is not seen and the transport stays raw_buffer', () => {
    const r = resources({
      listeners: [listener({ name: 'blind', port: 443, chains: [chain('sni', { serverNames: ['a.example.com'] }, 'a'), chain('tls', { transportProtocol: 'tls' }, 't')] })],
      clusters: ['a', 't'],
    });
    expectRoute(r, tls('a.example.com'), { error: 'no filter chain', listener: 'blind' });
  });

  it('ALPN: the first client protocol that any chain names decides, in the client\'s order', () => {
    const r = resources({
      listeners: [
        listener({
          name: 'virtualInbound',
          port: 15006,
          listenerFilters: ['tls_inspector'],
          chains: [
            chain('mx-tcp', { transportProtocol: 'tls', applicationProtocols: ['istio-peer-exchange', 'istio'] }, 'tcp'),
            chain('mx-http', { transportProtocol: 'tls', applicationProtocols: ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'] }, 'http'),
          ],
        }),
      ],
      clusters: ['tcp', 'http'],
    });
    const mtls = (alpn: string[]): Call => ({ port: 9080, protocol: 'tls', tls: 'mtls', alpn, callMode: 'inbound' });
    expectRoute(r, mtls(['istio-http/1.1', 'istio-peer-exchange']), { filterChain: 'mx-http' });
    expectRoute(r, mtls(['istio-peer-exchange', 'istio-http/1.1']), { filterChain: 'mx-tcp' });
    expectRoute(r, mtls(['h2']), { error: 'no filter chain' });
  });

  it('http_inspector sets http/1.1 or h2c on plaintext; raw TCP sets nothing', () => {
    const r = resources({
      listeners: [
        listener({
          name: 'sniff',
          port: 8000,
          listenerFilters: ['http_inspector'],
          chains: [
            filterChain({ name: 'http', match: { applicationProtocols: ['http/1.1', 'h2c'] }, filters: [hcmFilter({ rds: 'rc' })] }),
            chain('tcp', {}, 'tcp'),
          ],
        }),
      ],
      routes: [routeConfig('rc', [vhost('vh', ['*'], [route('r', prefix('/'), toCluster('http'))])])],
      clusters: ['tcp', 'http'],
    });
    expectRoute(r, { port: 8000, protocol: 'http', callMode: 'gateway' }, { filterChain: 'http', cluster: 'http' });
    expectRoute(r, { port: 8000, protocol: 'grpc', callMode: 'gateway' }, { filterChain: 'http', cluster: 'http' });
    expectRoute(r, { port: 8000, protocol: 'tcp', callMode: 'gateway' }, { filterChain: 'tcp', tcpCluster: 'tcp' });
  });

  it('source_type SAME_IP_OR_LOOPBACK picks local connections; source ports narrow further', () => {
    const r = resources({
      listeners: [
        listener({
          name: 'src',
          port: 9000,
          chains: [
            chain('local', { sourceType: SourceType.SAME_IP_OR_LOOPBACK }, 'local'),
            chain('local-port', { sourceType: SourceType.SAME_IP_OR_LOOPBACK, sourcePorts: [4000] }, 'local-port'),
            chain('external', { sourceType: SourceType.EXTERNAL }, 'external'),
          ],
        }),
      ],
      clusters: ['local', 'local-port', 'external'],
    });
    const from = (sourceAddress: string, sourcePort = 5000): Call => ({ port: 9000, protocol: 'tcp', callMode: 'gateway', sourceAddress, sourcePort });
    expectRoute(r, from('127.0.0.1'), { filterChain: 'local' });
    expectRoute(r, from('127.0.0.1', 4000), { filterChain: 'local-port' });
    expectRoute(r, { ...from('10.0.0.9'), address: '10.0.0.9' }, { filterChain: 'local' });
    expectRoute(r, from('10.0.0.9'), { filterChain: 'external' });
  });

  it('two equally specific chains are a configuration error', () => {
    const r = resources({ listeners: [listener({ name: 'dup', port: 1, chains: [chain('x', {}, 'a'), chain('y', {}, 'a')] })], clusters: ['a'] });
    expectRoute(r, { port: 1, protocol: 'tcp', callMode: 'gateway' }, { error: 'multiple filter chains' });
  });
});

describe('listener selection', () => {
  const res = resources({
    listeners: [
      listener({
        name: 'virtualOutbound',
        port: 15001,
        useOriginalDst: true,
        chains: [filterChain({ name: 'PassthroughFilterChain', filters: [tcpProxyFilter('PassthroughCluster')] })],
      }),
      httpListener({ name: '0.0.0.0_9080', port: 9080, routeName: '9080', bindToPort: false }),
      tcpListener({ name: '0.0.0.0_3306', port: 3306, cluster: 'mysql-any', bindToPort: false }),
      tcpListener({ name: '10.0.0.7_3306', address: '10.0.0.7', port: 3306, cluster: 'mysql-vip', bindToPort: false }),
      tcpListener({ name: 'gw_8443', port: 8443, cluster: 'gw' }),
      listener({
        name: 'virtualInbound',
        port: 15006,
        listenerFilters: ['original_dst', 'tls_inspector'],
        chains: [
          filterChain({ name: 'inbound-mtls', match: { destinationPort: 9080, transportProtocol: 'tls' }, tls: 'mtls', filters: [hcmFilter({ rds: 'inbound|9080' })] }),
          filterChain({ name: 'inbound-plain', match: { destinationPort: 9080, transportProtocol: 'raw_buffer' }, filters: [hcmFilter({ rds: 'inbound|9080' })] }),
        ],
      }),
      apiListener('reviews.default.svc.cluster.local:9080', 'reviews.default.svc.cluster.local:9080'),
    ],
    routes: [
      routeConfig('9080', [vhost('reviews.default.svc.cluster.local:9080', ['reviews.default.svc.cluster.local', 'reviews.default.svc.cluster.local:9080'], [route('default', prefix('/'), toCluster('outbound|9080||reviews.default.svc.cluster.local'))])]),
      routeConfig('inbound|9080', [vhost('inbound|http|9080', ['*'], [route('default', prefix('/'), toCluster('inbound|9080||'))])]),
      routeConfig('reviews.default.svc.cluster.local:9080', [
        vhost('reviews', ['reviews.default.svc.cluster.local:9080'], [
          route('v2', { pathSpecifier: { case: 'prefix', value: '/' }, headers: [{ name: 'end-user', headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: 'jason' } } } }] }, toCluster('outbound|9080|v2|reviews.default.svc.cluster.local')),
          route('v1', prefix('/'), toCluster('outbound|9080|v1|reviews.default.svc.cluster.local')),
        ]),
      ]),
    ],
    clusters: ['PassthroughCluster', 'outbound|9080||reviews.default.svc.cluster.local', 'mysql-any', 'mysql-vip', 'gw', 'inbound|9080||', 'outbound|9080|v1|reviews.default.svc.cluster.local', 'outbound|9080|v2|reviews.default.svc.cluster.local'],
  });
  table(res, [
    ['outbound: handed off to the listener for the original port', { port: 9080, protocol: 'http', host: 'reviews.default.svc.cluster.local' },
      { listener: '0.0.0.0_9080', routeConfig: '9080', virtualHost: 'reviews.default.svc.cluster.local:9080', cluster: 'outbound|9080||reviews.default.svc.cluster.local' }],
    ['outbound: an unknown port stays on virtualOutbound', { port: 8081, protocol: 'tcp' }, { listener: 'virtualOutbound', filterChain: 'PassthroughFilterChain', cluster: 'PassthroughCluster' }],
    ['outbound: exact ip:port beats 0.0.0.0', { port: 3306, address: '10.0.0.7', protocol: 'tcp' }, { listener: '10.0.0.7_3306', cluster: 'mysql-vip' }],
    ['outbound: other addresses use 0.0.0.0', { port: 3306, address: '10.0.0.8', protocol: 'tcp' }, { listener: '0.0.0.0_3306', cluster: 'mysql-any' }],
    ['TCP to an HTTP listener is a protocol error', { port: 9080, protocol: 'tcp' }, { listener: '0.0.0.0_9080', error: 'protocol error' }],
    ['gateway: bind_to_port false listeners receive nothing', { port: 9080, protocol: 'http', callMode: 'gateway' }, { error: 'no listener' }],
    ['gateway: a bound listener', { port: 8443, protocol: 'tcp', callMode: 'gateway' }, { listener: 'gw_8443', cluster: 'gw' }],
    ['inbound: captured by virtualInbound, plaintext chain', { port: 9080, protocol: 'http', callMode: 'inbound' }, { listener: 'virtualInbound', filterChain: 'inbound-plain', cluster: 'inbound|9080||' }],
    ['inbound: mTLS chain', { port: 9080, protocol: 'http', tls: 'mtls', callMode: 'inbound' }, { filterChain: 'inbound-mtls', cluster: 'inbound|9080||' }],
    ['inbound: TLS without a client certificate is refused', { port: 9080, protocol: 'http', tls: 'tls', callMode: 'inbound' }, { filterChain: 'inbound-mtls', error: 'mtls required' }],
    ['proxyless: api_listener and the vhost of the target authority', { port: 9080, protocol: 'grpc', host: 'reviews.default.svc.cluster.local', callMode: 'proxyless', path: '/reviews.Reviews/Get' },
      { listener: 'reviews.default.svc.cluster.local:9080', routeConfig: 'reviews.default.svc.cluster.local:9080', virtualHost: 'reviews', route: 'v1', cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local' }],
    ['proxyless: header match', { port: 9080, protocol: 'grpc', host: 'reviews.default.svc.cluster.local', callMode: 'proxyless', headers: { 'end-user': 'jason' } },
      { route: 'v2', cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' }],
    ['proxyless: no api_listener for the target', { port: 9081, protocol: 'grpc', host: 'reviews.default.svc.cluster.local', callMode: 'proxyless' }, { error: 'no listener' }],
  ]);

  it('without use_original_dst virtualOutbound keeps every connection', () => {
    const noHandoff = { ...res, listeners: res.listeners.map((l) => (l.name === 'virtualOutbound' ? { ...l, useOriginalDst: false } : l)) };
    expectRoute(noHandoff, { port: 9080, protocol: 'http' }, { listener: 'virtualOutbound', cluster: 'PassthroughCluster' });
  });
});

describe('expectRoute', () => {
  const res = resources({
    listeners: [httpListener({ name: 'http', port: 80, routeName: 'rc' })],
    routes: [routeConfig('rc', [vhost('vh', ['*'], [route('r', prefix('/'), toCluster('c'))])])],
    clusters: ['c'],
  });
  it('fails naming the field, both values and the trace', () => {
    assert.throws(
      () => expectRoute(res, { port: 80, protocol: 'http', callMode: 'gateway', path: '/a' }, { cluster: 'other' }),
      (e: Error) => {
        assert.match(e.message, /cluster: want "other", got "c"/);
        assert.match(e.message, /gateway http to 1\.3\.3\.7:80 GET \/a/);
        assert.match(e.message, /trace:\n {2}listener http: bound to port 80/);
        return true;
      },
    );
  });
  it('an unexpected error fails even when no field names it', () => {
    assert.throws(() => expectRoute(res, { port: 81, protocol: 'http', callMode: 'gateway' }, { listener: undefined }), /error: want \(absent\), got "no listener"/);
  });
});
