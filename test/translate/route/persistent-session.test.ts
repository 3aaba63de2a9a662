// Persistent sessions in route configurations, behind PILOT_ENABLE_PERSISTENT_SESSION_FILTER (Istio
// route/route.go TranslateRoute, httproute.go buildVirtualHost, gateway.go buildGatewayHTTPRouteConfig): the
// StatefulSessionPerRoute under typed_per_filter_config["envoy.filters.http.stateful_session"] of the routes to
// a labelled service and of its virtual host, nothing with the flag off, and nothing for proxyless gRPC
// (Isthmus' deviation: @grpc/grpc-js-xds does not implement the filter).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import type { ResourceEntry } from '../../../src/api/entry.js';
import { snapshotFromConfig } from '../../../src/model/build-snapshot.js';
import { DEFAULT_PILOT_FEATURES, pilotFeaturesFromEnv, type PilotFeatures } from '../../../src/model/pilot-features.js';
import { buildProxyContext } from '../../../src/translate/context.js';
import { buildRoutes } from '../../../src/translate/route/build-routes.js';
import type { Route, VirtualHost } from '../../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { RouteConfiguration } from '../../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import { StatefulSessionPerRouteSchema } from '../../../src/xds/gen/envoy/extensions/filters/http/stateful_session/v3/stateful_session_pb.js';
import { CookieBasedSessionStateSchema } from '../../../src/xds/gen/envoy/extensions/http/stateful_session/cookie/v3/cookie_pb.js';
import { HeaderBasedSessionStateSchema } from '../../../src/xds/gen/envoy/extensions/http/stateful_session/header/v3/header_pb.js';
import { assertGolden } from '../../support/golden.js';
import { meshFromYaml, testProxy } from '../../support/mesh.js';
import { routeWorld, service } from './harness.js';

const FILTER = 'envoy.filters.http.stateful_session';
const ON: PilotFeatures = { ...DEFAULT_PILOT_FEATURES, enablePersistentSessionFilter: true };
const PRODUCTPAGE = { labels: { app: 'productpage', version: 'v1' }, name: 'productpage-v1' } as const;
const COOKIE = 'istio.io/persistent-session';
const HEADER = 'istio.io/persistent-session-header';

/** The session a per-filter config map holds, as `cookie <name> <path>` / `header <name>`; undefined for none. */
function session(config: Readonly<Record<string, Any>>): string | undefined {
  const any = config[FILTER];
  if (any === undefined) return undefined;
  const per = anyUnpack(any, StatefulSessionPerRouteSchema);
  assert.equal(per?.override.case, 'statefulSession');
  const state = per.override.value.sessionState;
  assert.ok(state?.typedConfig !== undefined);
  if (state.name === 'envoy.http.stateful_session.cookie') {
    const c = anyUnpack(state.typedConfig, CookieBasedSessionStateSchema)?.cookie;
    assert.equal(c?.ttl, undefined);
    return `cookie ${c?.name ?? '?'} ${c?.path ?? '?'}`;
  }
  assert.equal(state.name, 'envoy.http.stateful_session.header');
  return `header ${anyUnpack(state.typedConfig, HeaderBasedSessionStateSchema)?.name ?? '?'}`;
}

function vhost(rc: RouteConfiguration, name: string): VirtualHost {
  const vh = rc.virtualHosts.find((v) => v.name === name);
  if (vh === undefined) throw new Error(`${rc.name} has no virtual host ${name}; have ${rc.virtualHosts.map((v) => v.name).join(', ')}`);
  return vh;
}

function route(vh: VirtualHost, name: string): Route {
  const r = vh.routes.find((x) => x.name === name);
  if (r === undefined) throw new Error(`${vh.name} has no route ${name}; have ${vh.routes.map((x) => x.name).join(', ')}`);
  return r;
}

/** Every place a session config could sit in the route configs: `<rc>/<vhost>` and `<rc>/<vhost>/<route>`. */
function sessionsEverywhere(routes: readonly RouteConfiguration[]): string[] {
  const out: string[] = [];
  for (const rc of routes) {
    for (const vh of rc.virtualHosts) {
      if (FILTER in vh.typedPerFilterConfig) out.push(`${rc.name}/${vh.name}`);
      for (const r of vh.routes) if (FILTER in r.typedPerFilterConfig) out.push(`${rc.name}/${vh.name}/${r.name}`);
    }
  }
  return out;
}

const vs = (name: string, hosts: string, http: string, extra = ''): string => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}}
spec:
  hosts: ${hosts}
${extra}  http:
${http}
`;

/** reviews (cookie `sid`), ratings (header), details (both labels), productpage (none), and a VirtualService for reviews. */
const MESH = [
  service('reviews', { ip: '10.96.0.10', labels: { [COOKIE]: 'sid' } }),
  service('ratings', { ip: '10.96.0.20', labels: { [HEADER]: 'x-session' } }),
  service('details', { ip: '10.96.0.30', labels: { [COOKIE]: 'details-sid', [HEADER]: 'x-details' } }),
  service('productpage', { ip: '10.96.0.50' }),
  vs('reviews', '[reviews]', `  - name: to-reviews
    route:
    - destination: {host: reviews}`),
].join('');

describe('persistent sessions: sidecar outbound routes', () => {
  it('flag off (the default): labelled services get nothing, anywhere', () => {
    assert.deepEqual(sessionsEverywhere(routeWorld(MESH, PRODUCTPAGE).routes), []);
  });

  const w = routeWorld(MESH, PRODUCTPAGE, { features: ON });
  const rc = w.route('9080');

  it('golden: route config 9080 with the session configs', () => {
    assertGolden('route/persistent-session-sidecar', w.dump);
  });

  it('`istio.io/persistent-session: sid`: cookie sid, path / on the VirtualService route and on the service`s virtual host', () => {
    const vh = vhost(rc, 'reviews.default.svc.cluster.local:9080');
    assert.equal(session(vh.typedPerFilterConfig), 'cookie sid /');
    assert.equal(session(route(vh, 'to-reviews').typedPerFilterConfig), 'cookie sid /');
  });

  it('header label: header config on the virtual host (a default route gets none of its own, as Istio`s)', () => {
    const vh = vhost(rc, 'ratings.default.svc.cluster.local:9080');
    assert.equal(session(vh.typedPerFilterConfig), 'header x-session');
    assert.equal(session(route(vh, 'default').typedPerFilterConfig), undefined);
  });

  it('both labels: the cookie', () => {
    assert.equal(session(vhost(rc, 'details.default.svc.cluster.local:9080').typedPerFilterConfig), 'cookie details-sid /');
  });

  it('no label, the allow_any catch-all, and the sniffed-VIP route configs of unlabelled services: nothing', () => {
    assert.deepEqual(sessionsEverywhere(w.routes), [
      '9080/details.default.svc.cluster.local:9080',
      '9080/ratings.default.svc.cluster.local:9080',
      '9080/reviews.default.svc.cluster.local:9080',
      '9080/reviews.default.svc.cluster.local:9080/to-reviews',
    ]);
  });

  it('a cookie label value `name:path` (which Kubernetes validation refuses) is split at the first `:`', () => {
    const value = 'session-id:/api';
    assert.throws(() => meshFromYaml(service('x', { labels: { [COOKIE]: value } })), /persistent-session/);
    const patched = routeWorld(MESH, PRODUCTPAGE, { features: ON, editEntries: withLabel('reviews', COOKIE, value) });
    const vh = vhost(patched.route('9080'), 'reviews.default.svc.cluster.local:9080');
    assert.equal(session(vh.typedPerFilterConfig), 'cookie session-id /api');
    assert.equal(session(route(vh, 'to-reviews').typedPerFilterConfig), 'cookie session-id /api');
  });

  it('custom label names (PILOT_PERSISTENT_SESSION_LABEL): the default label then means nothing', () => {
    const { features, problems } = pilotFeaturesFromEnv({ PILOT_ENABLE_PERSISTENT_SESSION_FILTER: 'true', PILOT_PERSISTENT_SESSION_LABEL: 'example.com/sticky' });
    assert.deepEqual(problems, []);
    const mesh = `${MESH}${service('cart', { ip: '10.96.0.60', labels: { 'example.com/sticky': 'cart-sid' } })}`;
    const c = routeWorld(mesh, PRODUCTPAGE, { features }).route('9080');
    assert.equal(session(vhost(c, 'cart.default.svc.cluster.local:9080').typedPerFilterConfig), 'cookie cart-sid /');
    assert.equal(session(vhost(c, 'reviews.default.svc.cluster.local:9080').typedPerFilterConfig), undefined);
    // The header label keeps its default name.
    assert.equal(session(vhost(c, 'details.default.svc.cluster.local:9080').typedPerFilterConfig), 'header x-details');
  });
});

describe('persistent sessions: a route with several destinations (Istio`s loop, quirks kept)', () => {
  const rule = (name: string, dests: readonly [string, number][]): string => `  - name: ${name}
    match: [{headers: {x-case: {exact: ${name}}}}]
    route:
${dests.map(([h, weight]) => `    - destination: {host: ${h}}\n      weight: ${weight}`).join('\n')}`;
  const w = routeWorld(
    `${MESH}${vs(
      'productpage',
      '[productpage]',
      [
        rule('cookie-then-none', [['reviews', 50], ['productpage', 50]]),
        rule('none-then-cookie', [['productpage', 50], ['reviews', 50]]),
        rule('cookie-then-header', [['reviews', 50], ['ratings', 50]]),
        rule('header-then-cookie', [['ratings', 50], ['reviews', 50]]),
        rule('zero-weight-ignored', [['reviews', 100], ['productpage', 0]]),
        rule('reset-then-set', [['reviews', 40], ['productpage', 30], ['ratings', 30]]),
      ].join('\n'),
    )}`,
    PRODUCTPAGE,
    { features: ON },
  );
  const vh = vhost(w.route('9080'), 'productpage.default.svc.cluster.local:9080');
  const cases: [string, string | undefined][] = [
    ['cookie-then-none', undefined], // a later destination without a config resets the result
    ['none-then-cookie', 'cookie sid /'],
    ['cookie-then-header', 'cookie sid /'], // two configs: the first is kept
    ['header-then-cookie', 'header x-session'],
    ['zero-weight-ignored', 'cookie sid /'], // a 0-weight destination is not one of the route's hosts
    ['reset-then-set', 'header x-session'],
  ];
  for (const [name, want] of cases) {
    it(`${name}: ${want ?? 'none'}`, () => assert.equal(session(route(vh, name).typedPerFilterConfig), want));
  }
  it('the virtual host of the unlabelled productpage gets none', () => {
    assert.equal(session(vh.typedPerFilterConfig), undefined);
  });
});

describe('persistent sessions: proxyless gRPC gets nothing (deviation: grpc-js-xds has no stateful_session)', () => {
  it('no per-route or per-virtual-host config with the flag on', () => {
    const w = routeWorld(MESH, { ...PRODUCTPAGE, type: 'proxyless' }, { features: ON });
    assert.ok(w.routes.length > 0);
    assert.deepEqual(sessionsEverywhere(w.routes), []);
  });
});

const INGRESS = { type: 'router', namespace: 'istio-system', name: 'istio-ingressgateway-abc', labels: { istio: 'ingressgateway' } } as const;
const GATEWAY = `---
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8080}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
`;
const BOUND = '  gateways: [istio-system/gw]\n';

describe('persistent sessions: gateway routes', () => {
  const toReviews = (name: string): string => `  - name: ${name}
    route:
    - destination: {host: reviews.default.svc.cluster.local}`;
  const mesh = `${GATEWAY}${MESH}${vs('by-service-name', '[reviews.default.svc.cluster.local]', toReviews('by-service-name'), BOUND)}${vs(
    'by-public-name',
    '[bookinfo.example.com]',
    toReviews('by-public-name'),
    BOUND,
  )}`;
  const w = routeWorld(mesh, INGRESS, { features: ON });
  const rc = w.route('http.8080');

  it('golden: route config http.8080 with the session configs', () => {
    assertGolden('route/persistent-session-gateway', w.dump);
  });

  it('a virtual host whose host is one of the VirtualService`s destinations gets the service`s config; its routes too', () => {
    const vh = vhost(rc, 'reviews.default.svc.cluster.local:80');
    assert.equal(session(vh.typedPerFilterConfig), 'cookie sid /');
    assert.equal(session(route(vh, 'by-service-name').typedPerFilterConfig), 'cookie sid /');
  });

  it('a virtual host for another host gets none, while its routes to the labelled service do', () => {
    const vh = vhost(rc, 'bookinfo.example.com:80');
    assert.equal(session(vh.typedPerFilterConfig), undefined);
    assert.equal(session(route(vh, 'by-public-name').typedPerFilterConfig), 'cookie sid /');
  });

  it('flag off: nothing', () => {
    assert.deepEqual(sessionsEverywhere(routeWorld(mesh, INGRESS).routes), []);
  });

  it('hosts of one VirtualService collapse into one virtual host, whose config is the primary`s (Istio`s vhostMergeable ignores per-filter configs)', () => {
    const one = routeWorld(`${GATEWAY}${MESH}${vs('both', '[reviews.default.svc.cluster.local, bookinfo.example.com]', toReviews('both'), BOUND)}`, INGRESS, { features: ON });
    const vhs = one.route('http.8080').virtualHosts;
    assert.deepEqual(vhs.map((v) => [v.name, v.domains]), [['reviews.default.svc.cluster.local:80', ['reviews.default.svc.cluster.local', 'bookinfo.example.com']]]);
    assert.equal(session(vhs[0]?.typedPerFilterConfig ?? {}), 'cookie sid /');
  });
});

describe('persistent sessions: memoized routes follow the features', () => {
  it('the same config translated with the flag off, then on, then off again', () => {
    const { entries } = meshFromYaml(MESH);
    const proxy = testProxy(PRODUCTPAGE);
    const sessions = (features: PilotFeatures, version: string): string[] =>
      sessionsEverywhere(buildRoutes(buildProxyContext(snapshotFromConfig(entries, { version, features }), proxy)));
    assert.deepEqual(sessions(DEFAULT_PILOT_FEATURES, '1'), []);
    assert.equal(sessions(ON, '2').length, 4);
    assert.deepEqual(sessions(DEFAULT_PILOT_FEATURES, '3'), []);
  });
});

/** An entries edit that sets `label` on the Kubernetes Service `name`, after validation. */
function withLabel(name: string, label: string, value: string): (entries: readonly ResourceEntry[]) => readonly ResourceEntry[] {
  return (entries) =>
    entries.map((e) => {
      const r = e.resource;
      if (r.kind !== 'Service' || r.metadata.name !== name) return e;
      return { ...e, resource: { ...r, metadata: { ...r.metadata, labels: { ...r.metadata.labels, [label]: value } } } };
    });
}
