// explainRequest on hand-written config dumps (Envoy's JSON, as /config_dump prints it): the cases a
// live mesh does not easily produce, each checked by the verdict and the step that decided it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { explainRequest } from './explain-request.js';
import { parseClusterStatus, parseConfigDump, type ProxyConfig } from './proxy-config.js';
import { inferResponseFlag } from './response-flag.js';
import { renderExplainText } from './render-text.js';
import type { ExplainReport } from './types.js';

type Json = Record<string, unknown>;
const T = 'type.googleapis.com/';

/** Filters placed before the router (an RBAC filter, say). */
let extraHttpFilters: Json[] = [];

function hcm(rds: string): Json {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
      stat_prefix: 'outbound_0.0.0.0_9080',
      normalize_path: true,
      rds: { route_config_name: rds, config_source: { ads: {} } },
      http_filters: [
        { name: 'envoy.filters.http.fault', typed_config: { '@type': `${T}envoy.extensions.filters.http.fault.v3.HTTPFault` } },
        { name: 'envoy.filters.http.cors', typed_config: { '@type': `${T}envoy.extensions.filters.http.cors.v3.Cors` } },
        ...extraHttpFilters,
        { name: 'envoy.filters.http.router', typed_config: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` } },
      ],
    },
  };
}

const listeners = (): Json[] => [
  { name: '0.0.0.0_9080', address: { socket_address: { address: '0.0.0.0', port_value: 9080 } }, bind_to_port: false, filter_chains: [{ filters: [hcm('9080')] }] },
  {
    name: 'virtualOutbound',
    address: { socket_address: { address: '0.0.0.0', port_value: 15001 } },
    use_original_dst: true,
    filter_chains: [{ name: 'virtualOutbound-catchall-tcp', filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`, stat_prefix: 'PassthroughCluster', cluster: 'PassthroughCluster' } }] }],
  },
];

function edsCluster(name: string, extra: Json = {}): Json {
  return { name, type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } }, connect_timeout: '10s', ...extra };
}

function cla(name: string, hosts: readonly (readonly [string, number, string?])[]): Json {
  return { cluster_name: name, endpoints: [{ lb_endpoints: hosts.map(([address, port, health]) => ({ endpoint: { address: { socket_address: { address, port_value: port } } }, ...(health !== undefined ? { health_status: health } : {}) })) }] };
}

function dump(routes: Json[], clusters: Json[], endpoints: Json[]): unknown {
  return {
    configs: [
      { '@type': `${T}envoy.admin.v3.ClustersConfigDump`, dynamic_active_clusters: clusters.map((c) => ({ cluster: { '@type': `${T}envoy.config.cluster.v3.Cluster`, ...c } })) },
      { '@type': `${T}envoy.admin.v3.ListenersConfigDump`, dynamic_listeners: listeners().map((l) => ({ name: l.name, active_state: { listener: { '@type': `${T}envoy.config.listener.v3.Listener`, ...l } } })) },
      { '@type': `${T}envoy.admin.v3.RoutesConfigDump`, dynamic_route_configs: routes.map((r) => ({ route_config: { '@type': `${T}envoy.config.route.v3.RouteConfiguration`, ...r } })) },
      { '@type': `${T}envoy.admin.v3.EndpointsConfigDump`, dynamic_endpoint_configs: endpoints.map((e) => ({ endpoint_config: { '@type': `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`, ...e } })) },
    ],
  };
}

function config(routes: Json[], clusters: Json[], endpoints: Json[], clustersText?: string): ProxyConfig {
  const problems: string[] = [];
  const c = parseConfigDump(dump(routes, clusters, endpoints), problems);
  assert.deepEqual(problems, []);
  return { ...c, hostFlags: clustersText === undefined ? undefined : parseClusterStatus(clustersText), problems };
}

const VS = '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews';
const C1 = 'outbound|9080|v1|reviews.default.svc.cluster.local';
const C2 = 'outbound|9080|v2|reviews.default.svc.cluster.local';

function routeConfig(routes: Json[], vhostExtra: Json = {}): Json {
  return { name: '9080', ignore_port_in_host_matching: true, virtual_hosts: [{ name: 'reviews.default.svc.cluster.local:9080', domains: ['reviews', 'reviews.default.svc.cluster.local'], routes, ...vhostExtra }] };
}

function run(cfg: ProxyConfig, url: string, headers: Record<string, string> = {}, method = 'GET'): ExplainReport {
  return explainRequest(cfg, { id: 'productpage-v1.default', ip: '127.0.0.11' }, { method, url: new URL(url), headers });
}

const meta = { filter_metadata: { istio: { config: VS } } };
const toV1 = { match: { prefix: '/' }, route: { cluster: C1 }, metadata: meta };
const bothClusters = [edsCluster(C1), edsCluster(C2)];
const bothEndpoints = [cla(C1, [['10.0.0.1', 9080]]), cla(C2, [['10.0.0.2', 9080]])];

describe('explainRequest', () => {
  const cases: { name: string; cfg: () => ProxyConfig; url: string; headers?: Record<string, string>; method?: string; check: (r: ExplainReport) => void }[] = [
    {
      name: 'weighted clusters: the split with its weights, each cluster explained',
      cfg: () => config([routeConfig([{ match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: C1, weight: 75 }, { name: C2, weight: 25 }] } }, metadata: meta }])], bothClusters, [cla(C1, [['10.0.0.1', 9080]]), cla(C2, [])]),
      url: 'http://reviews:9080/',
      check: (r) => {
        assert.equal(r.verdict.outcome, 'routed');
        assert.deepEqual(r.verdict.weightedClusters, [{ cluster: C1, weight: 75 }, { cluster: C2, weight: 25 }]);
        assert.match(r.verdict.summary, /25% of requests get 503 UH \(outbound\|9080\|v2/);
        assert.deepEqual(r.steps.filter((s) => s.step === 'cluster').map((s) => s.resource), [C1, C2]);
      },
    },
    {
      name: "the path as the connection manager normalizes it (normalize_path) is what routes: a step says so",
      cfg: () => config([routeConfig([{ match: { path: '/admin' }, direct_response: { status: 200, body: { inline_string: 'admin' } } }, toV1])], bothClusters, bothEndpoints),
      url: 'http://reviews:9080/%61dmin',
      check: (r) => {
        const step = r.steps.find((s) => s.step === 'path');
        assert.deepEqual([step?.decision, step?.detail], ['normalized', '/%61dmin is routed and forwarded as /admin (normalize_path)']);
        assert.deepEqual([r.verdict.status, r.steps.at(-1)?.decision], [200, 'direct response 200']);
      },
    },
    {
      name: 'a path that cannot be normalized: 400 before any route',
      cfg: () => config([routeConfig([toV1])], bothClusters, bothEndpoints),
      url: 'http://reviews:9080/a%00b',
      check: (r) => {
        assert.deepEqual([r.verdict.outcome, r.verdict.status, r.verdict.summary], ['rejected', 400, 'the path cannot be normalized: 400 path_normalization_failed']);
        assert.equal(r.steps.some((s) => s.step === 'route'), false);
      },
    },
    {
      name: 'a redirect route answers with its status and location',
      cfg: () => config([routeConfig([{ match: { prefix: '/old' }, redirect: { path_redirect: '/new', response_code: 'FOUND' }, metadata: meta }])], bothClusters, bothEndpoints),
      url: 'http://reviews:9080/old?x=1',
      check: (r) => {
        assert.deepEqual([r.verdict.outcome, r.verdict.status], ['rejected', 302]);
        assert.match(r.verdict.summary, /redirects with 302 to http:\/\/reviews:9080\/new\?x=1/);
      },
    },
    {
      name: 'a direct response answers with its status and body',
      cfg: () => config([routeConfig([{ match: { path: '/health' }, direct_response: { status: 200, body: { inline_string: 'ok' } } }, toV1])], bothClusters, bothEndpoints),
      url: 'http://reviews:9080/health',
      check: (r) => {
        assert.deepEqual([r.verdict.status, r.steps.at(-1)?.decision], [200, 'direct response 200']);
        assert.match(r.steps.at(-1)?.detail ?? '', /with body "ok"/);
      },
    },
    {
      name: 'a route to a cluster the proxy does not have: 503 NC',
      cfg: () => config([routeConfig([{ match: { prefix: '/' }, route: { cluster: 'outbound|9080|v3|reviews.default.svc.cluster.local' } }])], bothClusters, bothEndpoints),
      url: 'http://reviews:9080/',
      check: (r) => assert.deepEqual([r.verdict.status, r.verdict.responseFlag, r.verdict.cluster], [503, 'NC', 'outbound|9080|v3|reviews.default.svc.cluster.local']),
    },
    {
      name: 'a fault on part of the requests is a note, not a rejection',
      cfg: () =>
        config(
          [routeConfig([{ ...toV1, typed_per_filter_config: { 'envoy.filters.http.fault': { '@type': `${T}envoy.extensions.filters.http.fault.v3.HTTPFault`, abort: { http_status: 503, percentage: { numerator: 10, denominator: 'HUNDRED' } }, delay: { fixed_delay: '2s', percentage: { numerator: 100 } } } } }])],
          bothClusters,
          bothEndpoints,
        ),
      url: 'http://reviews:9080/',
      check: (r) => {
        assert.equal(r.verdict.outcome, 'routed');
        assert.match(r.verdict.summary, /10% of requests are aborted with HTTP 503 "fault filter abort" by the fault filter \(FI\), injected by VirtualService default\/reviews/);
        const f = r.steps.find((s) => s.resource === 'envoy.filters.http.fault');
        assert.equal(f?.decision, 'aborts sometimes');
        assert.match(f?.detail ?? '', /delays 100% of requests by 2000 ms/);
      },
    },
    {
      name: 'ejected and EDS-unhealthy hosts with panic mode off: 503 UH listing them',
      cfg: () =>
        config([routeConfig([toV1])], [edsCluster(C1, { common_lb_config: { healthy_panic_threshold: { value: 0 } } })], [cla(C1, [['10.0.0.1', 9080], ['10.0.0.2', 9080, 'UNHEALTHY']])], `${C1}::10.0.0.1:9080::health_flags::/failed_outlier_check\n${C1}::10.0.0.2:9080::health_flags::/failed_eds_health\n`),
      url: 'http://reviews:9080/',
      check: (r) => {
        assert.deepEqual([r.verdict.status, r.verdict.responseFlag], [503, 'UH']);
        assert.match(r.steps.at(-1)?.detail ?? '', /none of its 2 endpoint\(s\) is healthy and panic mode is off .*10\.0\.0\.1:9080 \/failed_outlier_check \(not picked\), 10\.0\.0\.2:9080 \/failed_eds_health \(not picked\)/);
      },
    },
    {
      name: "below Envoy's default 50% panic threshold every host is picked",
      cfg: () => config([routeConfig([toV1])], [edsCluster(C1)], [cla(C1, [['10.0.0.1', 9080], ['10.0.0.2', 9080], ['10.0.0.3', 9080]])], JSON.stringify({ cluster_statuses: [{ name: C1, host_statuses: [1, 2].map((i) => ({ address: { socket_address: { address: `10.0.0.${i}`, port_value: 9080 } }, health_status: { eds_health_status: 'HEALTHY', failed_outlier_check: true } })) }] })),
      url: 'http://reviews:9080/',
      check: (r) => {
        assert.equal(r.verdict.outcome, 'routed');
        assert.equal(r.steps.at(-1)?.decision, 'panic');
        assert.match(r.verdict.summary, /\(3 endpoints to pick from\) in panic mode/);
      },
    },
    {
      name: 'require_tls redirects a plain request to https',
      cfg: () => config([routeConfig([toV1], { require_tls: 'ALL' })], bothClusters, bothEndpoints),
      url: 'http://reviews:9080/a',
      check: (r) => {
        assert.equal(r.verdict.status, 301);
        assert.match(r.verdict.summary, /redirects with 301 to https:\/\/reviews:9080\/a/);
        assert.match(r.steps.find((s) => s.decision === 'redirect')?.detail ?? '', /requires TLS \(require_tls ALL\)/);
      },
    },
    {
      name: 'query parameters and methods are explained condition by condition',
      cfg: () => config([routeConfig([{ match: { prefix: '/', query_parameters: [{ name: 'v', string_match: { exact: '2' } }], headers: [{ name: ':method', string_match: { exact: 'POST' } }] }, route: { cluster: C2 } }, toV1])], bothClusters, bothEndpoints),
      url: 'http://reviews:9080/x?v=3',
      check: (r) => {
        assert.match(r.steps.find((s) => s.step === 'route')?.detail ?? '', /header :method exact "POST" does not hold: header :method is "GET"; query parameter v exact "2" does not hold: query parameter v is "3"/);
        assert.equal(r.verdict.cluster, C1);
      },
    },
    {
      name: 'no virtual host for the authority: 404 NR with the domains there are',
      cfg: () => config([routeConfig([toV1])], bothClusters, bothEndpoints),
      url: 'http://ratings:9080/',
      check: (r) => {
        assert.deepEqual([r.verdict.status, r.verdict.responseFlag], [404, 'NR']);
        assert.match(r.steps.at(-1)?.detail ?? '', /no virtual host has a domain matching authority "ratings:9080"; virtual hosts: reviews\.default\.svc\.cluster\.local:9080 \[reviews, reviews\.default\.svc\.cluster\.local\]/);
      },
    },
    {
      name: 'a route configuration the proxy has not received: 404 NR',
      cfg: () => config([], bothClusters, bothEndpoints),
      url: 'http://reviews:9080/',
      check: (r) => assert.deepEqual([r.verdict.status, r.verdict.responseFlag, r.steps.at(-1)?.decision], [404, 'NR', 'missing']),
    },
    {
      name: 'https goes through a CONNECT tunnel: no HTTP listener for 443, so virtualOutbound passes it through',
      cfg: () => config([routeConfig([toV1])], [...bothClusters, { name: 'PassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: '10s' }], bothEndpoints),
      url: 'https://example.com/',
      check: (r) => {
        assert.equal(r.verdict.outcome, 'routed');
        assert.match(r.verdict.summary, /^tunnelled \(TCP, no HTTP routing\) routed to cluster PassthroughCluster, endpoint example\.com:443/);
      },
    },
  ];
  for (const c of cases) it(c.name, () => c.check(run(c.cfg(), c.url, c.headers, c.method)));

  it('renders numbered steps and the deciding step for people', () => {
    const text = renderExplainText(run(config([routeConfig([toV1])], bothClusters, [cla(C1, [])]), 'http://reviews:9080/r', { 'end-user': 'jason' }));
    assert.match(text, /^GET http:\/\/reviews:9080\/r -H 'end-user: jason' from productpage-v1\.default\n\n 1\. proxy /);
    assert.match(text, /\n10\. route-action +reviews\.default\.svc\.cluster\.local:9080\/routes\[0\]: forward\n +cluster outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local; timeout 15s; no retries\n +Istio: VirtualService default\/reviews\n/);
    assert.match(text, /\nVerdict: rejected with 503 UH\. .*\nDecided at step 12 \(endpoints outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local\)\.\n$/);
  });

  it('names resources it cannot decode instead of failing', () => {
    const problems: string[] = [];
    const c = parseConfigDump({ configs: [{ '@type': `${T}envoy.admin.v3.ClustersConfigDump`, dynamic_active_clusters: [{ cluster: { name: 'odd', connect_timeout: 'soon' } }] }] }, problems);
    assert.equal(c.clusters.size, 0);
    assert.match(problems[0] ?? '', /^cluster odd: cannot decode: /);
  });
});

describe('inferResponseFlag', () => {
  const cases: { name: string; status: number; body: string; headers?: Record<string, string>; flag: string | undefined }[] = [
    { name: 'no healthy upstream', status: 503, body: 'no healthy upstream', flag: 'UH' },
    { name: 'fault abort', status: 500, body: 'fault filter abort', flag: 'FI' },
    { name: 'overflow', status: 503, body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow', flag: 'UO' },
    { name: 'refused, retried', status: 503, body: 'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused', flag: 'UF,URX' },
    { name: 'route timeout', status: 504, body: 'upstream request timeout', flag: 'UT' },
    { name: "the proxy's own 404", status: 404, body: '', flag: 'NR' },
    { name: "an upstream's 404", status: 404, body: '', headers: { 'x-envoy-upstream-service-time': '3' }, flag: undefined },
    { name: 'an upstream answer', status: 200, body: 'reviews-v1', flag: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(inferResponseFlag({ status: c.status, body: c.body, headers: c.headers ?? {} }), c.flag));
});

describe('explainRequest: the RBAC filter, decided by the proxy\'s engine', () => {
  const rbac = (action: string, header: string): Json => ({
    name: 'envoy.filters.http.rbac',
    typed_config: {
      '@type': `${T}envoy.extensions.filters.http.rbac.v3.RBAC`,
      rules: { action, policies: { 'ns[default]-policy[only-alice]-rule[0]': { permissions: [{ any: true }], principals: [{ header: { name: 'x-user', string_match: { exact: header } } }] } } },
    },
  });
  const cfgWith = (filter: Json): ProxyConfig => {
    extraHttpFilters = [filter];
    try {
      return config(
        [routeConfig([{ match: { prefix: '/' }, route: { cluster: C1 } }])],
        [edsCluster(C1)],
        [cla(C1, [['10.0.0.1', 9080]])],
      );
    } finally {
      extraHttpFilters = [];
    }
  };

  it('an ALLOW policy that matches lets the request through and names the policy', () => {
    const r = run(cfgWith(rbac('ALLOW', 'alice')), 'http://reviews:9080/', { 'x-user': 'alice' });
    assert.equal(r.verdict.outcome, 'routed');
    const step = r.steps.find((s) => s.resource === 'envoy.filters.http.rbac');
    assert.equal(step?.decision, 'passed');
    assert.match(step?.detail ?? '', /ALLOW rules: policy ns\[default\]-policy\[only-alice\]-rule\[0\] matches/);
  });

  it('an ALLOW policy that does not match denies with 403 and Envoy\'s details', () => {
    const r = run(cfgWith(rbac('ALLOW', 'alice')), 'http://reviews:9080/', { 'x-user': 'bob' });
    assert.deepEqual([r.verdict.outcome, r.verdict.status], ['rejected', 403]);
    assert.match(r.verdict.summary, /RBAC: access denied \(rbac_access_denied_matched_policy\[none\]\)/);
  });

  it('rules on the path and the authority see the request\'s own', () => {
    const filter: Json = {
      name: 'envoy.filters.http.rbac',
      typed_config: {
        '@type': `${T}envoy.extensions.filters.http.rbac.v3.RBAC`,
        rules: { action: 'DENY', policies: { admin: { permissions: [{ and_rules: { rules: [{ url_path: { path: { prefix: '/admin' } } }, { header: { name: ':authority', string_match: { exact: 'reviews:9080' } } }] } }], principals: [{ any: true }] } } },
      },
    };
    assert.equal(run(cfgWith(filter), 'http://reviews:9080/admin/x').verdict.status, 403);
    assert.equal(run(cfgWith(filter), 'http://reviews:9080/public').verdict.outcome, 'routed');
  });

  it('a DENY policy that matches denies and names the policy', () => {
    const r = run(cfgWith(rbac('DENY', 'mallory')), 'http://reviews:9080/', { 'x-user': 'mallory' });
    assert.equal(r.verdict.status, 403);
    assert.match(r.verdict.summary, /rbac_access_denied_matched_policy\[ns\[default\]-policy\[only-alice\]-rule\[0\]\]/);
  });
});

describe('explainRequest: persistent sessions (the stateful session filter and the cluster\'s override_host_status)', () => {
  const SESSION = 'envoy.filters.http.stateful_session';
  const cookieSession = (strict = false): Json => ({
    '@type': `${T}envoy.extensions.filters.http.stateful_session.v3.StatefulSessionPerRoute`,
    stateful_session: {
      session_state: { name: 'envoy.http.stateful_session.cookie', typed_config: { '@type': `${T}envoy.extensions.http.stateful_session.cookie.v3.CookieBasedSessionState`, cookie: { name: 'sid', path: '/' } } },
      ...(strict ? { strict: true } : {}),
    },
  });
  /** As Istio sends it: the empty filter on the listener, the session on the service's virtual host. */
  const cfgWith = (strict = false): ProxyConfig => {
    extraHttpFilters = [{ name: SESSION, typed_config: { '@type': `${T}envoy.extensions.filters.http.stateful_session.v3.StatefulSession` } }];
    try {
      return config(
        [routeConfig([{ match: { prefix: '/' }, route: { cluster: C1 } }], { typed_per_filter_config: { [SESSION]: cookieSession(strict) } })],
        [edsCluster(C1, { common_lb_config: { healthy_panic_threshold: { value: 0 }, override_host_status: { statuses: ['HEALTHY', 'DRAINING', 'UNKNOWN', 'DEGRADED'] } } })],
        [cla(C1, [['10.0.0.1', 9080], ['10.0.0.2', 9080], ['10.0.0.3', 9080, 'DRAINING']])],
        'outbound|9080|v1|reviews.default.svc.cluster.local::10.0.0.2:9080::health_flags::/failed_outlier_check\n',
      );
    } finally {
      extraHttpFilters = [];
    }
  };
  const cookie = (address: string): string => `sid=${Buffer.from(address).toString('base64')}`;

  it('a session cookie naming a draining endpoint: that endpoint is the verdict, and the steps say why', () => {
    const r = run(cfgWith(), 'http://reviews:9080/', { cookie: cookie('10.0.0.3:9080') });
    assert.deepEqual([r.verdict.outcome, r.verdict.endpoint], ['routed', '10.0.0.3:9080']);
    assert.match(r.steps.find((s) => s.resource === SESSION)?.detail ?? '', /the request's cookie sid names 10\.0\.0\.3:9080/);
    const ep = r.steps.find((s) => s.step === 'endpoints');
    assert.equal(ep?.decision, 'session host');
    assert.match(ep?.detail ?? '', /the session's host 10\.0\.0\.3:9080 \(DRAINING\) is taken before the balancer/);
  });

  it('no cookie: the balancer picks, and the response will start the session', () => {
    const r = run(cfgWith(), 'http://reviews:9080/');
    assert.equal(r.verdict.endpoint, '10.0.0.1:9080', 'the ejected and the draining endpoint are not picked');
    assert.match(r.steps.find((s) => s.resource === SESSION)?.detail ?? '', /which the request does not carry/);
  });

  it('a session on an ejected endpoint is balanced; strict, it is 503 UH with the reason', () => {
    const loose = run(cfgWith(), 'http://reviews:9080/', { cookie: cookie('10.0.0.2:9080') });
    assert.equal(loose.verdict.endpoint, '10.0.0.1:9080');
    assert.match(loose.steps.find((s) => s.decision === 'session host unavailable')?.detail ?? '', /is UNHEALTHY, which the cluster's override_host_status \(HEALTHY, DRAINING, UNKNOWN, DEGRADED\) does not accept/);
    const strict = run(cfgWith(true), 'http://reviews:9080/', { cookie: cookie('10.9.9.9:9080') });
    assert.deepEqual([strict.verdict.status, strict.verdict.responseFlag], [503, 'UH']);
    assert.match(strict.verdict.summary, /the session's host 10\.9\.9\.9:9080 is not one of the cluster's endpoints, and the session is strict/);
  });
});
