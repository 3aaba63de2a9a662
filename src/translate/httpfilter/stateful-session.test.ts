// The persistent-session configs Istio builds (networking/util/util.go MaybeBuildStatefulSessionFilterConfig,
// route/route.go TranslateRoute's per-route loop, xds/filters EmptySessionFilter), checked field by field on
// the Envoy messages after unpacking their Anys.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Service } from '../../registry/types.js';
import { DEFAULT_PILOT_FEATURES, type PilotFeatures } from '../../model/pilot-features.js';
import { StatefulSessionPerRouteSchema, type StatefulSession } from '../../xds/gen/envoy/extensions/filters/http/stateful_session/v3/stateful_session_pb.js';
import { CookieBasedSessionStateSchema } from '../../xds/gen/envoy/extensions/http/stateful_session/cookie/v3/cookie_pb.js';
import { HeaderBasedSessionStateSchema } from '../../xds/gen/envoy/extensions/http/stateful_session/header/v3/header_pb.js';
import { emptySessionFilter, routeStatefulSession, statefulSessionConfig, statefulSessionPerRoute } from './stateful-session.js';

const ON: PilotFeatures = { ...DEFAULT_PILOT_FEATURES, enablePersistentSessionFilter: true };

function svc(hostname: string, labels: Record<string, string>): Service {
  return { hostname, namespace: 'default', name: hostname.split('.')[0] ?? hostname, source: 'Kubernetes', ports: [], addresses: [], resolution: 'STATIC', location: 'MESH_INTERNAL', exportTo: ['*'], labels, creationTimestamp: '' };
}

/** The session state as `cookie name path` / `header name`, for compact assertions. */
function describeSession(s: StatefulSession | undefined): string | undefined {
  if (s === undefined) return undefined;
  const state = s.sessionState;
  assert.ok(state?.typedConfig !== undefined);
  if (state.name === 'envoy.http.stateful_session.cookie') {
    const c = anyUnpack(state.typedConfig, CookieBasedSessionStateSchema);
    assert.ok(c?.cookie !== undefined);
    assert.equal(c.cookie.ttl, undefined, 'Istio sends session cookies: no TTL');
    return `cookie ${c.cookie.name} ${c.cookie.path}`;
  }
  assert.equal(state.name, 'envoy.http.stateful_session.header');
  const h = anyUnpack(state.typedConfig, HeaderBasedSessionStateSchema);
  return `header ${h?.name ?? '?'}`;
}

describe('statefulSessionConfig (MaybeBuildStatefulSessionFilterConfig)', () => {
  const cases: [string, Record<string, string>, string | undefined][] = [
    ['cookie label `name`: path /', { 'istio.io/persistent-session': 'sid' }, 'cookie sid /'],
    ['cookie label `name:path`, cut at the first `:`', { 'istio.io/persistent-session': 'session-id:/api:v2' }, 'cookie session-id /api:v2'],
    ['header label', { 'istio.io/persistent-session-header': 'x-session' }, 'header x-session'],
    ['both labels: the cookie wins', { 'istio.io/persistent-session': 'sid', 'istio.io/persistent-session-header': 'x-session' }, 'cookie sid /'],
    ['an empty cookie label falls through to the header label', { 'istio.io/persistent-session': '', 'istio.io/persistent-session-header': 'x-session' }, 'header x-session'],
    ['no label', { app: 'reviews' }, undefined],
  ];
  for (const [name, labels, want] of cases) {
    it(name, () => assert.equal(describeSession(statefulSessionConfig(ON, svc('reviews.default.svc.cluster.local', labels))), want));
  }

  it('nothing with the flag off, or without a service', () => {
    assert.equal(statefulSessionConfig(DEFAULT_PILOT_FEATURES, svc('a', { 'istio.io/persistent-session': 'sid' })), undefined);
    assert.equal(statefulSessionConfig(ON, undefined), undefined);
  });

  it('custom label names (PILOT_PERSISTENT_SESSION_LABEL / _HEADER_LABEL); the default names then mean nothing', () => {
    const f: PilotFeatures = { ...DEFAULT_PILOT_FEATURES, enablePersistentSessionFilter: true, persistentSessionLabel: 'example.com/sticky', persistentSessionHeaderLabel: 'example.com/sticky-header' };
    assert.equal(describeSession(statefulSessionConfig(f, svc('a', { 'example.com/sticky': 'c' }))), 'cookie c /');
    assert.equal(describeSession(statefulSessionConfig(f, svc('a', { 'example.com/sticky-header': 'x-h' }))), 'header x-h');
    assert.equal(statefulSessionConfig(f, svc('a', { 'istio.io/persistent-session': 'sid' })), undefined);
  });

  it('a label name set to "" turns that kind off; inherited object keys are never labels', () => {
    const f: PilotFeatures = { ...ON, persistentSessionLabel: '' };
    assert.equal(describeSession(statefulSessionConfig(f, svc('a', { 'istio.io/persistent-session': 'sid', 'istio.io/persistent-session-header': 'x-h' }))), 'header x-h');
    assert.equal(statefulSessionConfig({ ...ON, persistentSessionLabel: 'toString', persistentSessionHeaderLabel: 'constructor' }, svc('a', {})), undefined);
  });
});

describe('routeStatefulSession (TranslateRoute`s loop over the destination hosts)', () => {
  const services = new Map<string, Service>([
    ['a', svc('a', { 'istio.io/persistent-session': 'a-cookie' })],
    ['b', svc('b', { 'istio.io/persistent-session-header': 'x-b' })],
    ['plain', svc('plain', {})],
  ]);
  const lookup = (h: string): Service | undefined => services.get(h);
  const cases: [readonly string[], string | undefined, string][] = [
    [['a'], 'cookie a-cookie /', 'one destination with a config'],
    [['plain'], undefined, 'one destination without'],
    [['a', 'b'], 'cookie a-cookie /', 'two with configs: the first is kept and the loop stops'],
    [['b', 'a'], 'header x-b', 'two with configs, the other way round'],
    [['a', 'plain'], undefined, 'Istio quirk: a later host without a config resets the result'],
    [['plain', 'a'], 'cookie a-cookie /', 'a host without a config, then one with'],
    [['a', 'unknown'], undefined, 'Istio quirk: an unknown later host also resets it'],
    [['a', 'plain', 'b'], 'header x-b', 'reset by the middle host, then set by the last'],
    [['a', 'b', 'plain'], 'cookie a-cookie /', 'the loop stopped at b, so the trailing plain host is never seen'],
    [[], undefined, 'no destination (redirect, direct response)'],
  ];
  for (const [hosts, want, name] of cases) {
    it(`${JSON.stringify(hosts)}: ${name}`, () => assert.equal(describeSession(routeStatefulSession(ON, hosts, lookup)), want));
  }

  it('with the flag off nothing is looked up', () => {
    assert.equal(routeStatefulSession(DEFAULT_PILOT_FEATURES, ['a'], () => assert.fail('looked up')), undefined);
  });
});

describe('packed configs', () => {
  it('the empty filter: envoy.filters.http.stateful_session with StatefulSession{} (built once)', () => {
    const f = emptySessionFilter();
    assert.equal(f.name, 'envoy.filters.http.stateful_session');
    assert.equal(f.configType.case, 'typedConfig');
    assert.equal(f.configType.value?.typeUrl, 'type.googleapis.com/envoy.extensions.filters.http.stateful_session.v3.StatefulSession');
    assert.equal(f.configType.value?.value.length, 0);
    assert.equal(emptySessionFilter(), f);
  });

  it('per route: StatefulSessionPerRoute{stateful_session: cfg}', () => {
    const cfg = statefulSessionConfig(ON, svc('a', { 'istio.io/persistent-session': 'sid' }));
    assert.ok(cfg !== undefined);
    const any = statefulSessionPerRoute(cfg);
    assert.equal(any.typeUrl, 'type.googleapis.com/envoy.extensions.filters.http.stateful_session.v3.StatefulSessionPerRoute');
    const per = anyUnpack(any, StatefulSessionPerRouteSchema);
    assert.equal(per?.override.case, 'statefulSession');
    assert.equal(describeSession(per?.override.value as StatefulSession), 'cookie sid /');
  });
});
