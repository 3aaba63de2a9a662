// Persistent sessions (Envoy's stateful_session filter, which Istio configures for services labelled
// istio.io/persistent-session or istio.io/persistent-session-header) through a real listener, router and
// three real upstreams, as istiod sends them: an empty filter on the listener, the session state in the
// virtual host's and routes' typed_per_filter_config, and a cluster whose override_host_status lets a session
// reach a DRAINING endpoint (which takes no new traffic otherwise).
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/stateful_session_filter
// Envoy: source/extensions/filters/http/stateful_session, source/extensions/http/stateful_session/{cookie,header},
// HostUtility::selectOverrideHost; Istio: pilot/pkg/networking/util/util.go MaybeBuildStatefulSessionFilterConfig.

import { it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpFilterSchema } from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../../src/xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { StatefulSessionPerRouteSchema, StatefulSessionSchema } from '../../src/xds/gen/envoy/extensions/filters/http/stateful_session/v3/stateful_session_pb.js';
import { CookieBasedSessionStateSchema } from '../../src/xds/gen/envoy/extensions/http/stateful_session/cookie/v3/cookie_pb.js';
import { HeaderBasedSessionStateSchema } from '../../src/xds/gen/envoy/extensions/http/stateful_session/header/v3/header_pb.js';
import { pack, XDS_REGISTRY } from '../../src/xds/codec.js';
import { compileListener } from '../../src/proxy/runtime/compile-listener.js';
import { compileRouteConfig } from '../../src/proxy/http/route/compile-route-config.js';
import { addressFromCookie, cookieForAddress } from '../../src/proxy/filters/stateful-session/session-state.js';
import { startUpstream, type TestUpstream } from '../support/data-plane.js';
import { clusterManagerOf, filterChain, hcmFilter, listener, prefix, route, routeConfig, toCluster, vhost } from '../support/xds-fixtures.js';
import { startHcmListener } from '../support/hcm-listener.js';
import { ask, type HttpAnswer } from '../support/http-ask.js';
import { startGateway, virtualServiceYaml } from './resilience-mesh.js';
import { pilotFeaturesFromEnv } from '../../src/model/pilot-features.js';

const FILTER = 'envoy.filters.http.stateful_session';

function cookieState(name: string, path: string) {
  return create(StatefulSessionSchema, {
    sessionState: { name: 'envoy.http.stateful_session.cookie', typedConfig: pack(CookieBasedSessionStateSchema, create(CookieBasedSessionStateSchema, { cookie: { name, path } })) },
  });
}

function headerState(name: string) {
  return create(StatefulSessionSchema, {
    sessionState: { name: 'envoy.http.stateful_session.header', typedConfig: pack(HeaderBasedSessionStateSchema, create(HeaderBasedSessionStateSchema, { name })) },
  });
}

function perRoute(session: ReturnType<typeof cookieState> | 'disabled') {
  return {
    [FILTER]: pack(
      StatefulSessionPerRouteSchema,
      create(StatefulSessionPerRouteSchema, { override: session === 'disabled' ? { case: 'disabled', value: true } : { case: 'statefulSession', value: session } }),
    ),
  };
}

/** As istiod emits it: the filter with an empty StatefulSession, then the router. */
const HTTP_FILTERS = [
  create(HttpFilterSchema, { name: FILTER, configType: { case: 'typedConfig', value: pack(StatefulSessionSchema, create(StatefulSessionSchema)) } }),
  create(HttpFilterSchema, { name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: pack(RouterSchema, create(RouterSchema)) } }),
];

function endpoint(port: number, health?: string): JsonObject {
  return { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } }, ...(health !== undefined ? { health_status: health } : {}) };
}

async function mesh(t: TestContext) {
  const a = await startUpstream(t, 'a');
  const b = await startUpstream(t, 'b');
  const draining = await startUpstream(t, 'draining');
  const cluster = fromJson(
    ClusterSchema,
    {
      name: 'svc',
      connect_timeout: '1s',
      type: 'STATIC',
      lb_policy: 'ROUND_ROBIN',
      load_assignment: { cluster_name: 'svc', endpoints: [{ lb_endpoints: [endpoint(a.port), endpoint(b.port), endpoint(draining.port, 'DRAINING')] }] },
      // What Istio sets on a service with a persistent-session label (cluster.go SupportsDrainingEndpoints).
      common_lb_config: { override_host_status: { statuses: ['HEALTHY', 'DRAINING', 'UNKNOWN', 'DEGRADED'] } },
    },
    { registry: XDS_REGISTRY },
  );
  const clusters = clusterManagerOf([cluster]);
  const strict = create(StatefulSessionSchema, { ...cookieState('session-id', '/'), strict: true });
  const routes = routeConfig('r', [
    vhost('svc', ['svc.test'], [
      route('off', prefix('/off'), toCluster('svc')),
      route('strict', prefix('/strict'), toCluster('svc')),
      route('api', prefix('/api'), toCluster('svc')),
      route('all', prefix('/'), toCluster('svc')),
    ], { typedPerFilterConfig: perRoute(cookieState('session-id', '/')) }),
    vhost('hdr', ['hdr.test'], [route('all', prefix('/'), toCluster('svc'))], { typedPerFilterConfig: perRoute(headerState('x-session')) }),
  ]);
  // Route-level configs are the most specific (Istio's route.go puts the service's there too).
  const r = routes.virtualHosts[0]?.routes ?? [];
  Object.assign((r[0] ?? assert.fail()).typedPerFilterConfig, perRoute('disabled'));
  Object.assign((r[1] ?? assert.fail()).typedPerFilterConfig, perRoute(strict));
  Object.assign((r[2] ?? assert.fail()).typedPerFilterConfig, perRoute(cookieState('api-session', '/api')));
  const { port, manager } = await startHcmListener('gw', { routes, clusters, hcm: { httpFilters: HTTP_FILTERS } });
  t.after(() => {
    manager.close();
    clusters.close();
  });
  const byName = new Map<string, TestUpstream>([['a', a], ['b', b], ['draining', draining]]);
  const key = (name: string): string => `127.0.0.1:${byName.get(name)?.port ?? 0}`;
  return { port, key };
}

/** The value of the response's `name` cookie, and its Set-Cookie line. */
function setCookie(res: HttpAnswer, name: string): { value: string; line: string } | undefined {
  const lines = res.headers['set-cookie'] ?? [];
  const line = lines.find((l) => l.startsWith(`${name}=`));
  if (line === undefined) return undefined;
  const m = /^[^=]+="([^"]*)"/.exec(line);
  return { value: m?.[1] ?? '', line };
}

/** Base64 of an address: the header state's form, and the cookie state's old form. */
const b64 = (address: string): string => Buffer.from(address).toString('base64');

it('a cookie-based session pins a client to the host that answered first, and may reach a DRAINING host', async (t) => {
  const { port, key } = await mesh(t);
  const first = await ask(port, { path: '/', authority: 'svc.test' });
  assert.equal(first.status, 200);
  assert.ok(first.body === 'a' || first.body === 'b', `a balanced pick answers, not the draining host: ${first.body}`);
  const made = setCookie(first, 'session-id');
  assert.ok(made !== undefined, 'the first response starts the session');
  // Envoy's Set-Cookie: quoted value, the cookie's path, HttpOnly, no Max-Age without a TTL.
  assert.match(made.line, /^session-id="[A-Za-z0-9+/=]+"; Path=\/; HttpOnly$/);
  assert.equal(addressFromCookie(made.value, 0), key(first.body), 'the cookie names the host that answered');

  const again = await Promise.all(Array.from({ length: 12 }, () => ask(port, { path: '/', authority: 'svc.test', headers: { cookie: `other=1; session-id="${made.value}"` } })));
  assert.deepEqual(new Set(again.map((r) => r.body)), new Set([first.body]), 'every request with the cookie goes to the same host');
  assert.ok(again.every((r) => setCookie(r, 'session-id') === undefined), 'no new cookie while the session holds');

  const fresh = await Promise.all(Array.from({ length: 12 }, () => ask(port, { path: '/', authority: 'svc.test' })));
  assert.deepEqual(new Set(fresh.map((r) => r.body)), new Set(['a', 'b']), 'without a cookie the balancer spreads over the healthy hosts only');

  // A session started before the endpoint began draining still reaches it (Istio's reason for DRAINING in override_host_status).
  const toDraining = await ask(port, { path: '/', authority: 'svc.test', headers: { cookie: `session-id="${cookieForAddress(key('draining'), 0, 0)}"` } });
  assert.equal(toDraining.body, 'draining');
  assert.equal(setCookie(toDraining, 'session-id'), undefined);
});

it('a session naming a host the cluster does not have is balanced and re-issued; a strict one gets 503', async (t) => {
  const { port, key } = await mesh(t);
  const gone = b64('127.0.0.1:1');
  const res = await ask(port, { path: '/', authority: 'svc.test', headers: { cookie: `session-id=${gone}` } });
  assert.equal(res.status, 200);
  assert.equal(addressFromCookie(setCookie(res, 'session-id')?.value, 0), key(res.body), 'the new cookie names the host that answered');

  const strict = await ask(port, { path: '/strict', authority: 'svc.test', headers: { cookie: `session-id=${gone}` } });
  assert.equal(strict.status, 503);
  assert.equal(strict.body, 'no healthy upstream');
  const strictOk = await ask(port, { path: '/strict', authority: 'svc.test', headers: { cookie: `session-id=${b64(key('b'))}` } });
  assert.equal(strictOk.body, 'b');
});

it("a route's own config wins: disabled there, or another cookie whose path must match", async (t) => {
  const { port, key } = await mesh(t);
  const off = await ask(port, { path: '/off', authority: 'svc.test', headers: { cookie: `session-id=${b64(key('draining'))}` } });
  assert.notEqual(off.body, 'draining', 'a disabled route ignores the session');
  assert.equal(off.headers['set-cookie'], undefined);

  const api = await ask(port, { path: '/api/items?x=1', authority: 'svc.test' });
  const made = setCookie(api, 'api-session');
  assert.ok(made !== undefined);
  assert.match(made.line, /; Path=\/api; HttpOnly$/);
  assert.equal(setCookie(api, 'session-id'), undefined, 'the route config replaces the virtual host one');
  const back = await ask(port, { path: '/api', authority: 'svc.test', headers: { cookie: `api-session=${made.value}` } });
  assert.equal(back.body, api.body);
  // Cookie path /api does not cover /apiary (Envoy's path matcher: the next character must be /, ? or #).
  const apiary = await ask(port, { path: '/apiary', authority: 'svc.test' });
  assert.equal(apiary.headers['set-cookie'], undefined);
});

it('a header-based session travels in the request and response header', async (t) => {
  const { port, key } = await mesh(t);
  const first = await ask(port, { path: '/', authority: 'hdr.test' });
  const value = first.headers['x-session'];
  assert.equal(typeof value, 'string');
  assert.equal(Buffer.from(String(value), 'base64').toString(), key(first.body));
  const pinned = await ask(port, { path: '/', authority: 'hdr.test', headers: { 'x-session': b64(key('draining')) } });
  assert.equal(pinned.body, 'draining');
  assert.equal(pinned.headers['x-session'], undefined, 'the same host: the header is not sent back');
});

it('bad stateful session configs are refused with the field and Envoy\'s reason', () => {
  const emptyCookie = create(StatefulSessionSchema, cookieState('', '/'));
  const rc = routeConfig('r', [vhost('v', ['*'], [route('all', prefix('/'), toCluster('svc'))], { typedPerFilterConfig: perRoute(emptyCookie) })]);
  const r = compileRouteConfig(rc);
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? [] : r.problems, [
    `virtual_hosts[0].typed_per_filter_config[${FILTER}].stateful_session.session_state.typed_config.cookie.name: Cookie key cannot be empty for cookie based stateful sessions`,
  ]);

  const badState = create(StatefulSessionSchema, { sessionState: { name: 'x', typedConfig: pack(RouterSchema, create(RouterSchema)) } });
  const hcm = hcmFilter({ routeConfig: routeConfig('r', []) }, {
    httpFilters: [create(HttpFilterSchema, { name: FILTER, configType: { case: 'typedConfig', value: pack(StatefulSessionSchema, badState) } }), ...HTTP_FILTERS.slice(1)],
  });
  const l = compileListener(listener({ name: 'l', address: '127.0.0.1', port: 0, chains: [filterChain({ name: 'c', filters: [hcm] })] }));
  assert.equal(l.ok, false);
  assert.match(l.ok ? '' : l.problems.join('\n'), /http_filters\[0\]\(envoy\.filters\.http\.stateful_session\)\.typed_config\.session_state\.typed_config: unsupported session state envoy\.extensions\.filters\.http\.router\.v3\.Router/);
});

/** A ServiceEntry `shop.example.internal` labelled as `labels` say, with one endpoint per upstream (`draining`: Istio's istio.io/draining label). */
function shopEntry(labels: string, endpoints: readonly { port: number; draining?: boolean }[]): string {
  const eps = endpoints.map((e) => `  - {address: 127.0.0.1, ports: {http: ${e.port}}${e.draining === true ? ', labels: {istio.io/draining: "true"}' : ''}}`).join('\n');
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: shop, namespace: default, labels: {${labels}}}
spec:
  hosts: [shop.example.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints:
${eps}
`;
}

it('Istio end to end: PILOT_ENABLE_PERSISTENT_SESSION_FILTER and istio.io/persistent-session keep a client on its endpoint, a draining one included', async (t) => {
  const a = await startUpstream(t, 'a');
  const b = await startUpstream(t, 'b');
  const c = await startUpstream(t, 'c');
  const files = () => ({
    'shop.yaml': shopEntry('istio.io/persistent-session: shop-session', [{ port: a.port }, { port: b.port }, { port: c.port, draining: true }]),
    'vs.yaml': virtualServiceYaml('  - route: [{destination: {host: shop.example.internal, port: {number: 80}}}]\n'),
  });
  const on = pilotFeaturesFromEnv({ PILOT_ENABLE_PERSISTENT_SESSION_FILTER: 'true' });
  assert.deepEqual(on.problems, []);
  const gw = await startGateway(t, files, {}, {}, { features: on.features });
  const first = await gw.get('/');
  assert.ok(first.body === 'a' || first.body === 'b', `the draining endpoint takes no new session: ${first.body}`);
  const cookie = /^shop-session="([^"]+)"; Path=\/; HttpOnly$/.exec(String(first.headers['set-cookie'] ?? ''));
  assert.ok(cookie !== null, `a session cookie: ${String(first.headers['set-cookie'])}`);
  const again = await Promise.all(Array.from({ length: 10 }, () => gw.get('/', { headers: { cookie: `shop-session="${cookie[1]}"` } })));
  assert.deepEqual(new Set(again.map((r) => r.body)), new Set([first.body]));
  const toDraining = await gw.get('/', { headers: { cookie: `shop-session="${cookieForAddress(`127.0.0.1:${c.port}`, 0, 0)}"` } });
  assert.equal(toDraining.body, 'c', 'a session on the draining endpoint stays there (override_host_status)');

  // Without the flag (Istio's default) the label only keeps draining endpoints in EDS: no sessions.
  const off = await startGateway(t, files);
  const plain = await off.get('/', { headers: { cookie: `shop-session="${cookieForAddress(`127.0.0.1:${c.port}`, 0, 0)}"` } });
  assert.notEqual(plain.body, 'c');
  assert.equal(plain.headers['set-cookie'], undefined);
});
