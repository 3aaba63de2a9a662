// The ADS sessions against scripted responses (what a real server rarely sends): the delta request shapes
// (legacy wildcard, node on the first message only, subscribe/unsubscribe diffs, ACK and NACK by nonce,
// initial_resource_versions on a new stream), a delta update rejected whole with every problem, heartbeats
// and unsubscribed names ignored, and initialization waiting for the endpoints and secrets the config
// names, over either protocol, until they are answered or their initial fetch times out.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { SecretSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { TransportSocketSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { httpListener, routeConfig, vhost } from '../../../test/support/xds-fixtures.js';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  type DiscoveryRequest,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';
import { silentLogger } from '../../lib/logger.js';
import { FakeClock } from '../../../test/support/xds-server/fake-clock.js';
import { selfSigned } from '../../../test/translate/secret/certs.js';
import { XdsState } from './xds-state.js';
import { SubscriptionStats } from './subscription-stats.js';
import { StatsStore } from '../stats/stats-store.js';
import { DeltaSession } from './delta-session.js';
import { SotwSession } from './sotw-session.js';
import { SCHEMAS, type ProxyTypeUrl, type ResourceByType } from './validate.js';

const ADS = { configSourceSpecifier: { case: 'ads' as const, value: {} } };
/** An ADS config source whose first answer may hold initialization `seconds` (0: as long as it takes). */
const adsWaiting = (seconds: bigint) => ({ ...ADS, initialFetchTimeout: { $typeName: 'google.protobuf.Duration' as const, seconds, nanos: 0 } });

/** An EDS cluster; with `secret`, its TLS validation context comes from SDS over ADS. */
function cluster(name: string, secret?: string, sdsConfig: typeof ADS | ReturnType<typeof adsWaiting> = ADS): Cluster {
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: ADS },
    ...(secret !== undefined
      ? {
          transportSocket: {
            name: 'envoy.transport_sockets.tls',
            configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, create(UpstreamTlsContextSchema, { commonTlsContext: { validationContextType: { case: 'validationContextSdsSecretConfig', value: { name: secret, sdsConfig } } } })) },
          },
        }
      : {}),
  });
}

function listener(name: string): Listener {
  return create(ListenerSchema, {
    name,
    address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 80 } } } },
    filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy' }] }],
  });
}

const ca = selfSigned('sessions-ca.example.com');
const caSecret = (name: string) => create(SecretSchema, { name, type: { case: 'validationContext', value: { trustedCa: { specifier: { case: 'inlineBytes', value: ca.cert } } } } });
const cla = (name: string) => create(ClusterLoadAssignmentSchema, { clusterName: name });

const pack = (t: ProxyTypeUrl, m: ResourceByType[ProxyTypeUrl]) => anyPack(SCHEMAS[t], m as unknown as MessageShape<DescMessage>);

type Item<T extends ProxyTypeUrl> = { name: string; version: string; message?: ResourceByType[T] };

function delta<T extends ProxyTypeUrl>(typeUrl: T, nonce: string, items: Item<T>[], removedResources: string[] = []) {
  return create(DeltaDiscoveryResponseSchema, {
    typeUrl,
    nonce,
    systemVersionInfo: `sys-${nonce}`,
    resources: items.map((i) => ({ name: i.name, version: i.version, ...(i.message !== undefined ? { resource: pack(typeUrl, i.message) } : {}) })),
    removedResources,
  });
}

function sotw<T extends ProxyTypeUrl>(typeUrl: T, nonce: string, messages: ResourceByType[T][]) {
  return create(DiscoveryResponseSchema, { typeUrl, nonce, versionInfo: `v-${nonce}`, resources: messages.map((m) => pack(typeUrl, m)) });
}

function harness(initialFetchTimeoutMs = 15_000, store?: StatsStore) {
  const clock = new FakeClock();
  let updates = 0;
  const state = new XdsState({ clock, logger: silentLogger, initialFetchTimeoutMs, onChange: () => updates++, ...(store !== undefined ? { stats: new SubscriptionStats(store) } : {}) });
  const ctx = { state, node: create(NodeSchema, { id: 'sidecar~10.0.0.1~a.default~default.svc.cluster.local' }), logger: silentLogger, clock, extraChecks: undefined, compile: undefined, notify: () => updates++ };
  const deltaSent: DeltaDiscoveryRequest[] = [];
  const sotwSent: DiscoveryRequest[] = [];
  return {
    clock,
    state,
    deltaSent,
    sotwSent,
    updates: () => updates,
    delta: () => new DeltaSession(ctx, (r) => deltaSent.push(r)),
    sotw: () => new SotwSession(ctx, (r) => sotwSent.push(r)),
  };
}

/** The fields of a delta request a test looks at. */
const shape = (r: DeltaDiscoveryRequest | undefined) =>
  r === undefined
    ? undefined
    : {
        type: r.typeUrl.slice(r.typeUrl.lastIndexOf('.') + 1),
        node: r.node !== undefined,
        subscribe: r.resourceNamesSubscribe,
        unsubscribe: r.resourceNamesUnsubscribe,
        initial: r.initialResourceVersions,
        nonce: r.responseNonce,
        error: r.errorDetail?.message,
      };

describe('delta ADS session', () => {
  it('opens with the legacy wildcard, then subscribes and unsubscribes names and ACKs by nonce', () => {
    const h = harness();
    const s = h.delta();
    s.start();
    assert.deepEqual(h.deltaSent.map(shape), [
      { type: 'Cluster', node: true, subscribe: [], unsubscribe: [], initial: {}, nonce: '', error: undefined },
      { type: 'Listener', node: false, subscribe: [], unsubscribe: [], initial: {}, nonce: '', error: undefined },
    ]);
    h.deltaSent.length = 0;
    s.handle(delta(CLUSTER_TYPE, 'c1', [{ name: 'a', version: '1', message: cluster('a') }, { name: 'b', version: '1', message: cluster('b', 'kubernetes://b-ca') }]));
    assert.deepEqual(h.deltaSent.map(shape), [
      { type: 'Cluster', node: false, subscribe: [], unsubscribe: [], initial: {}, nonce: 'c1', error: undefined },
      { type: 'ClusterLoadAssignment', node: false, subscribe: ['a', 'b'], unsubscribe: [], initial: {}, nonce: '', error: undefined },
      { type: 'Secret', node: false, subscribe: ['kubernetes://b-ca'], unsubscribe: [], initial: {}, nonce: '', error: undefined },
    ]);
    h.deltaSent.length = 0;
    // Cluster b goes: its endpoints and its secret are unsubscribed.
    s.handle(delta(CLUSTER_TYPE, 'c2', [{ name: 'c', version: '1', message: cluster('c') }], ['b']));
    assert.deepEqual([...h.state.table(CLUSTER_TYPE).keys()], ['a', 'c']);
    assert.deepEqual(h.deltaSent.map(shape), [
      { type: 'Cluster', node: false, subscribe: [], unsubscribe: [], initial: {}, nonce: 'c2', error: undefined },
      { type: 'ClusterLoadAssignment', node: false, subscribe: ['c'], unsubscribe: ['b'], initial: {}, nonce: '', error: undefined },
      { type: 'Secret', node: false, subscribe: [], unsubscribe: ['kubernetes://b-ca'], initial: {}, nonce: '', error: undefined },
    ]);
  });

  it('rejects an update whole, listing every problem, and keeps the last good table', () => {
    const h = harness();
    const s = h.delta();
    s.start();
    s.handle(delta(CLUSTER_TYPE, 'c1', [{ name: 'a', version: '1', message: cluster('a') }]));
    const good = h.state.table(CLUSTER_TYPE);
    h.deltaSent.length = 0;
    s.handle(
      delta(
        CLUSTER_TYPE,
        'c2',
        [
          { name: 'ok', version: '1', message: cluster('ok') },
          { name: 'dup', version: '1', message: cluster('dup') },
          { name: 'dup', version: '2', message: cluster('dup') },
          { name: 'renamed', version: '1', message: cluster('other') },
          { name: 'bodiless', version: '1' },
          { name: 'both', version: '1', message: cluster('both') },
          { name: 'bad', version: '1', message: create(ClusterSchema, { name: 'bad', clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS } }) },
        ],
        ['both'],
      ),
    );
    assert.equal(h.state.table(CLUSTER_TYPE), good);
    assert.deepEqual(h.deltaSent.map(shape), [
      {
        type: 'Cluster',
        node: false,
        subscribe: [],
        unsubscribe: [],
        initial: {},
        nonce: 'c2',
        error:
          'CDS update rejected (version sys-c2): dup: duplicate name among added/updated resources; renamed: name: the resource inside is named "other"; ' +
          'bodiless: resource: must be set (only a heartbeat with the version the proxy holds may omit it); bad: eds_cluster_config: must be set for an EDS cluster; ' +
          'both: duplicate name in the union of added/updated and removed resources',
      },
    ]);
    assert.match(h.state.typeState(CLUSTER_TYPE).lastError ?? '', /^CDS update rejected/);
  });

  it('ignores heartbeats and resources of names it did not subscribe to', () => {
    const h = harness();
    const s = h.delta();
    s.start();
    s.handle(delta(CLUSTER_TYPE, 'c1', [{ name: 'a', version: '1', message: cluster('a') }]));
    s.handle(delta(ENDPOINT_TYPE, 'e1', [{ name: 'a', version: '7', message: cla('a') }, { name: 'stranger', version: '1', message: cla('stranger') }]));
    const held = h.state.table(ENDPOINT_TYPE).get('a');
    assert.deepEqual([...h.state.table(ENDPOINT_TYPE).keys()], ['a']);
    s.handle(delta(ENDPOINT_TYPE, 'e2', [{ name: 'a', version: '7' }]));
    assert.equal(h.state.table(ENDPOINT_TYPE).get('a'), held);
    assert.equal(shape(h.deltaSent.at(-1))?.error, undefined);
  });

  it('tells a new stream what it holds in initial_resource_versions, and what it wants', () => {
    const h = harness();
    const first = h.delta();
    first.start();
    first.handle(delta(CLUSTER_TYPE, 'c1', [{ name: 'a', version: 'ca1', message: cluster('a', 'kubernetes://a-ca') }]));
    first.handle(delta(ENDPOINT_TYPE, 'e1', [{ name: 'a', version: 'ea1', message: cla('a') }]));
    first.handle(delta(LISTENER_TYPE, 'l1', [{ name: 'l', version: 'll1', message: listener('l') }]));
    // The secret does not exist: the server says so once; the name stays subscribed.
    first.handle(delta(SECRET_TYPE, 's1', [], ['kubernetes://a-ca']));
    h.deltaSent.length = 0;
    h.delta().start();
    assert.deepEqual(h.deltaSent.map(shape), [
      { type: 'Cluster', node: true, subscribe: [], unsubscribe: [], initial: { a: 'ca1' }, nonce: '', error: undefined },
      { type: 'Listener', node: false, subscribe: [], unsubscribe: [], initial: { l: 'll1' }, nonce: '', error: undefined },
      { type: 'ClusterLoadAssignment', node: false, subscribe: ['a'], unsubscribe: [], initial: { a: 'ea1' }, nonce: '', error: undefined },
      { type: 'Secret', node: false, subscribe: ['kubernetes://a-ca'], unsubscribe: [], initial: {}, nonce: '', error: undefined },
    ]);
  });
});

describe('initialization (Envoy init manager)', () => {
  const cases = [
    { name: 'delta', protocol: 'delta' as const },
    { name: 'state of the world', protocol: 'sotw' as const },
  ];
  for (const c of cases) {
    it(`${c.name}: waits for the endpoints and secrets the clusters name, not only for a first response of their type`, () => {
      const h = harness();
      const respond = {
        delta: () => {
          const s = h.delta();
          s.start();
          return {
            clusters: (cs: Cluster[]) => s.handle(delta(CLUSTER_TYPE, 'c', cs.map((x) => ({ name: x.name, version: '1', message: x })))),
            listeners: () => s.handle(delta(LISTENER_TYPE, 'l', [{ name: 'l', version: '1', message: listener('l') }])),
            endpoints: (n: string) => s.handle(delta(ENDPOINT_TYPE, `e-${n}`, [{ name: n, version: '1', message: cla(n) }])),
            secret: (n: string) => s.handle(delta(SECRET_TYPE, `s-${n}`, [{ name: n, version: '1', message: caSecret(n) }])),
          };
        },
        sotw: () => {
          const s = h.sotw();
          s.start();
          return {
            clusters: (cs: Cluster[]) => s.handle(sotw(CLUSTER_TYPE, 'c', cs)),
            listeners: () => s.handle(sotw(LISTENER_TYPE, 'l', [listener('l')])),
            endpoints: (n: string) => s.handle(sotw(ENDPOINT_TYPE, `e-${n}`, [cla(n)])),
            secret: (n: string) => s.handle(sotw(SECRET_TYPE, `s-${n}`, [caSecret(n)])),
          };
        },
      }[c.protocol]();
      respond.clusters([cluster('a', 'kubernetes://a-ca')]);
      respond.listeners();
      respond.endpoints('a');
      respond.secret('kubernetes://a-ca');
      assert.equal(h.state.initialized(), true);
      // A second cluster with another secret: the first secret's response does not answer for it.
      respond.clusters([cluster('a', 'kubernetes://a-ca'), cluster('b', 'kubernetes://b-ca')]);
      respond.endpoints('b');
      assert.equal(h.state.initialized(), false);
      respond.secret('kubernetes://b-ca');
      assert.equal(h.state.initialized(), true);
    });
  }

  it('stops waiting for a name never answered after the initial fetch timeout (0 waits forever); what waited then serves', () => {
    for (const [timeout, after] of [
      [15_000, true],
      [0, false],
    ] as const) {
      const h = harness(timeout);
      const s = h.sotw();
      s.start();
      s.handle(sotw(CLUSTER_TYPE, 'c', [cluster('a', 'kubernetes://missing')]));
      s.handle(sotw(LISTENER_TYPE, 'l', [listener('l'), httpListener({ name: 'web', port: 8080, routeName: 'never' })]));
      s.handle(sotw(ENDPOINT_TYPE, 'e', [cla('a')]));
      s.handle(sotw(SECRET_TYPE, 's', []));
      s.handle(sotw(ROUTE_TYPE, 'r', []));
      assert.equal(h.state.initialized(), false);
      assert.deepEqual([...h.state.servingTable(LISTENER_TYPE).keys()], ['l'], 'the listener on a missing route warms');
      assert.equal(h.state.servingTable(CLUSTER_TYPE).size, 0, 'the cluster on a missing secret warms');
      const before = h.updates();
      h.clock.advance(15_000);
      assert.equal(h.state.initialized(), after, `timeout ${timeout}`);
      assert.equal(h.updates() > before, after);
      assert.equal(h.state.servingTable(LISTENER_TYPE).has('web'), after);
      assert.equal(h.state.servingTable(CLUSTER_TYPE).has('a'), after);
      h.state.close();
    }
  });

  it('counts each endpoint, route and secret subscription where Envoy does: answered, rejected, timed out', () => {
    const store = new StatsStore();
    const h = harness(15_000, store);
    const s = h.sotw();
    s.start();
    s.handle(sotw(CLUSTER_TYPE, 'c', [cluster('a', 'kubernetes://missing')]));
    s.handle(sotw(LISTENER_TYPE, 'l', [httpListener({ name: 'web', port: 8080, routeName: 'web-routes' }), httpListener({ name: 'slow', port: 8081, routeName: 'never' })]));
    s.handle(sotw(ENDPOINT_TYPE, 'e', [cla('a')]));
    s.handle(sotw(ROUTE_TYPE, 'r1', [routeConfig('web-routes', [vhost('v', ['*'], [])])]));
    s.handle(sotw(ROUTE_TYPE, 'r2', [routeConfig('web-routes', [vhost('v', ['*'], [])])])); // the same content again
    s.handle(sotw(ROUTE_TYPE, 'r3', [routeConfig('web-routes', [vhost('v2', ['*'], [])])]));
    // An endpoint without its address: refused (lb_endpoints[0].endpoint: must be set).
    s.handle(sotw(ENDPOINT_TYPE, 'e2', [create(ClusterLoadAssignmentSchema, { clusterName: 'a', endpoints: [{ lbEndpoints: [{}] }] })]));
    h.clock.advance(15_000);
    const row = (p: string): number[] => ['update_attempt', 'update_success', 'update_rejected', 'init_fetch_timeout'].map((n) => store.counter(`${p}.${n}`).value);
    assert.match(h.state.typeState(ENDPOINT_TYPE).lastError ?? '', /rejected/);
    assert.deepEqual(row('cluster.a'), [2, 1, 1, 0]);
    assert.deepEqual(row('http.test.rds.web-routes'), [3, 3, 0, 0]);
    assert.equal(store.counter('http.test.rds.web-routes.config_reload').value, 2, 'the same content again is no reload');
    assert.deepEqual(row('http.test.rds.never'), [1, 0, 0, 1]);
    assert.deepEqual(row('sds.kubernetes://missing'), [1, 0, 0, 1]);
    h.state.close();
  });

  // config_source.proto: "initial_fetch_timeout ... If set to zero, disable the timeout"; it belongs to each
  // config source, and Istio sets it to 0 on the HCM's RDS source and the clusters' EDS source.
  it("takes each name's initial fetch timeout from the config source that names it", () => {
    const h = harness(15_000);
    const s = h.sotw();
    s.start();
    const waitsTwoSeconds = cluster('a');
    const eds = waitsTwoSeconds.edsClusterConfig?.edsConfig;
    assert.ok(eds !== undefined);
    eds.initialFetchTimeout = { $typeName: 'google.protobuf.Duration', seconds: 2n, nanos: 0 };
    const waitsForever = httpListener({ name: 'web', port: 8080, routeName: 'never' });
    const f = waitsForever.filterChains[0]?.filters[0];
    assert.ok(f?.configType.case === 'typedConfig');
    const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
    assert.ok(hcm?.routeSpecifier.case === 'rds');
    const rds = hcm.routeSpecifier.value.configSource;
    assert.ok(rds !== undefined);
    rds.initialFetchTimeout = { $typeName: 'google.protobuf.Duration', seconds: 0n, nanos: 0 };
    f.configType.value = anyPack(HttpConnectionManagerSchema, hcm);
    s.handle(sotw(CLUSTER_TYPE, 'c', [waitsTwoSeconds, cluster('b')]));
    s.handle(sotw(LISTENER_TYPE, 'l', [waitsForever]));
    h.clock.advance(2_000);
    assert.deepEqual([...h.state.servingTable(CLUSTER_TYPE).keys()], ['a'], "a's 2 s are over; b keeps the client's 15 s");
    h.clock.advance(13_000);
    assert.deepEqual([...h.state.servingTable(CLUSTER_TYPE).keys()], ['a', 'b']);
    h.clock.advance(600_000);
    assert.equal(h.state.servingTable(LISTENER_TYPE).size, 0, 'the listener waits for its route as long as it takes');
    assert.equal(h.state.initialized(), false);
    s.handle(sotw(ROUTE_TYPE, 'r', [routeConfig('never', [vhost('all', ['*'], [])])]));
    assert.deepEqual([...h.state.servingTable(LISTENER_TYPE).keys()], ['web']);
    assert.equal(h.state.initialized(), true);
    h.state.close();
  });

  // The same for secrets (SdsApi subscribes with its sds_config's initial_fetch_timeout). Istio leaves the
  // default on the ADS source of credentialName secrets, so that a missing one does not hold a gateway back.
  it("takes each secret's initial fetch timeout from its sds_config", () => {
    const h = harness(15_000);
    const s = h.sotw();
    s.start();
    s.handle(sotw(CLUSTER_TYPE, 'c', [cluster('one-second', 'kubernetes://a-ca', adsWaiting(1n)), cluster('forever', 'kubernetes://b-ca', adsWaiting(0n)), cluster('default', 'kubernetes://c-ca')]));
    s.handle(sotw(ENDPOINT_TYPE, 'e', [cla('one-second'), cla('forever'), cla('default')]));
    s.handle(sotw(LISTENER_TYPE, 'l', [listener('l')]));
    const serving = () => [...h.state.servingTable(CLUSTER_TYPE).keys()].sort();
    h.clock.advance(1_000);
    assert.deepEqual(serving(), ['one-second'], "the 1 s secret's wait is over; the others still wait");
    h.clock.advance(14_000);
    assert.deepEqual(serving(), ['default', 'one-second'], "the client's 15 s for the secret without a timeout");
    h.clock.advance(600_000);
    assert.deepEqual(serving(), ['default', 'one-second'], 'a secret whose source says 0 is waited for as long as it takes');
    assert.equal(h.state.initialized(), false);
    s.handle(sotw(SECRET_TYPE, 's', [caSecret('kubernetes://b-ca')]));
    assert.deepEqual(serving(), ['default', 'forever', 'one-second']);
    assert.equal(h.state.initialized(), true);
    h.state.close();
  });
});

// Envoy's configuration/listeners/lds: a listener added by LDS is warmed before it takes traffic (its RDS
// routes, its SDS secrets); an updated listener is a new listener that warms while the old one serves.
describe('listener warming', () => {
  const ROUTES = ROUTE_TYPE;
  const web = (rds: string) => httpListener({ name: 'web', port: 8080, routeName: rds });
  const tlsWeb = (secret: string) => {
    const l = httpListener({ name: 'tls', port: 8443, routeName: 'r1' });
    const tls = create(DownstreamTlsContextSchema, { commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: secret, sdsConfig: ADS }] } });
    for (const fc of l.filterChains) fc.transportSocket = create(TransportSocketSchema, { name: 'envoy.transport_sockets.tls', configType: { case: 'typedConfig', value: anyPack(DownstreamTlsContextSchema, tls) } });
    return l;
  };
  const rc = (name: string) => routeConfig(name, [vhost('all', ['*'], [])]);
  const version = (t: ReadonlyMap<string, { version: string }>, name: string) => t.get(name)?.version;

  it('serves a new listener only once the route configuration it names has arrived', () => {
    const h = harness();
    const s = h.sotw();
    s.start();
    s.handle(sotw(CLUSTER_TYPE, 'c', []));
    s.handle(sotw(LISTENER_TYPE, 'l1', [web('r1')]));
    assert.deepEqual([...h.state.servingTable(LISTENER_TYPE).keys()], []);
    assert.deepEqual([...h.state.warming(LISTENER_TYPE).keys()], ['web']);
    s.handle(sotw(ROUTES, 'r1', [rc('r1')]));
    assert.deepEqual([...h.state.servingTable(LISTENER_TYPE).keys()], ['web']);
    assert.deepEqual([...h.state.warming(LISTENER_TYPE).keys()], []);
  });

  it('keeps the previous version serving, its routes subscribed, while the update warms', () => {
    const h = harness();
    const s = h.sotw();
    s.start();
    s.handle(sotw(CLUSTER_TYPE, 'c', []));
    s.handle(sotw(LISTENER_TYPE, 'l1', [web('r1')]));
    s.handle(sotw(ROUTES, 'r1', [rc('r1')]));
    const before = h.state.servingTable(LISTENER_TYPE);
    s.handle(sotw(LISTENER_TYPE, 'l2', [web('r2')]));
    assert.equal(version(h.state.servingTable(LISTENER_TYPE), 'web'), 'v-l1', 'the old version serves');
    assert.equal(version(h.state.warming(LISTENER_TYPE), 'web'), 'v-l2');
    assert.equal(h.state.servingTable(LISTENER_TYPE), before, 'unchanged: the same table object (workers are sent changed tables only)');
    assert.deepEqual(h.state.names(ROUTES), ['r1', 'r2'], 'the serving version keeps its route');
    assert.ok(h.state.table(ROUTES).has('r1'));
    s.handle(sotw(ROUTES, 'r12', [rc('r1'), rc('r2')]));
    assert.equal(version(h.state.servingTable(LISTENER_TYPE), 'web'), 'v-l2');
    assert.equal(h.state.warming(LISTENER_TYPE).size, 0);
    // The next LDS update lets the old route go.
    s.handle(sotw(LISTENER_TYPE, 'l3', [web('r2')]));
    assert.deepEqual(h.state.names(ROUTES), ['r2']);
  });

  it('warms on an SDS secret over ADS, and a listener removed while warming is gone', () => {
    const h = harness();
    const s = h.sotw();
    s.start();
    s.handle(sotw(CLUSTER_TYPE, 'c', []));
    s.handle(sotw(LISTENER_TYPE, 'l1', [tlsWeb('kubernetes://gw-cert')]));
    s.handle(sotw(ROUTES, 'r1', [rc('r1')]));
    assert.deepEqual([...h.state.warming(LISTENER_TYPE).keys()], ['tls'], 'the route is there, the secret is not');
    s.handle(sotw(SECRET_TYPE, 's', [caSecret('kubernetes://gw-cert')]));
    assert.deepEqual([...h.state.servingTable(LISTENER_TYPE).keys()], ['tls']);
    s.handle(sotw(LISTENER_TYPE, 'l2', [tlsWeb('kubernetes://gw-cert'), web('r9')]));
    assert.deepEqual([...h.state.warming(LISTENER_TYPE).keys()], ['web']);
    s.handle(sotw(LISTENER_TYPE, 'l3', [tlsWeb('kubernetes://gw-cert')]));
    assert.deepEqual([...h.state.warming(LISTENER_TYPE).keys()], []);
    assert.deepEqual([...h.state.servingTable(LISTENER_TYPE).keys()], ['tls']);
  });

  it('delta: a warming update serves the old version until its route arrives', () => {
    const h = harness();
    const s = h.delta();
    s.start();
    s.handle(delta(CLUSTER_TYPE, 'c', []));
    s.handle(delta(LISTENER_TYPE, 'l1', [{ name: 'web', version: '1', message: web('r1') }]));
    s.handle(delta(ROUTES, 'r1', [{ name: 'r1', version: '1', message: rc('r1') }]));
    s.handle(delta(LISTENER_TYPE, 'l2', [{ name: 'web', version: '2', message: web('r2') }]));
    assert.equal(version(h.state.servingTable(LISTENER_TYPE), 'web'), '1');
    s.handle(delta(ROUTES, 'r2', [{ name: 'r2', version: '1', message: rc('r2') }]));
    assert.equal(version(h.state.servingTable(LISTENER_TYPE), 'web'), '2');
  });
});

// Envoy's configuration/upstream/cluster_manager/cds: a new cluster is warmed (its EDS assignment, its
// secrets) before the cluster manager uses it; an updated one keeps the previous version until then.
describe('cluster warming', () => {
  const served = (h: ReturnType<typeof harness>) => [...h.state.servingTable(CLUSTER_TYPE)].map(([n, e]) => `${n}@${e.version}`);

  it('uses a new EDS cluster only once its assignment has arrived', () => {
    const h = harness();
    const s = h.sotw();
    s.start();
    s.handle(sotw(CLUSTER_TYPE, 'c1', [cluster('a')]));
    assert.deepEqual(served(h), []);
    assert.deepEqual([...h.state.warming(CLUSTER_TYPE).keys()], ['a']);
    s.handle(sotw(ENDPOINT_TYPE, 'e1', [cla('a')]));
    assert.deepEqual(served(h), ['a@v-c1']);
    assert.equal(h.state.warming(CLUSTER_TYPE).size, 0);
  });

  it('keeps the previous version while an update waits for its secret; an unchanged cluster is not held back', () => {
    const h = harness();
    const s = h.sotw();
    s.start();
    s.handle(sotw(CLUSTER_TYPE, 'c1', [cluster('a'), cluster('b')]));
    s.handle(sotw(ENDPOINT_TYPE, 'e1', [cla('a'), cla('b')]));
    const b = h.state.servingTable(CLUSTER_TYPE).get('b');
    s.handle(sotw(CLUSTER_TYPE, 'c2', [cluster('a', 'kubernetes://a-ca'), cluster('b')]));
    assert.deepEqual(served(h), ['a@v-c1', 'b@v-c2'], 'a waits for its CA; b (delivered again) serves its new version');
    assert.notEqual(h.state.servingTable(CLUSTER_TYPE).get('b'), b);
    assert.deepEqual(h.state.names(ENDPOINT_TYPE), ['a', 'b'], 'the serving version keeps its endpoints');
    s.handle(sotw(SECRET_TYPE, 's', [caSecret('kubernetes://a-ca')]));
    assert.deepEqual(served(h), ['a@v-c2', 'b@v-c2']);
  });
});
