// The ADS sessions against scripted responses (what a real server rarely sends): the delta request shapes
// (legacy wildcard, node on the first message only, subscribe/unsubscribe diffs, ACK and NACK by nonce,
// initial_resource_versions on a new stream), a delta update rejected whole with every problem, heartbeats
// and unsubscribed names ignored, and initialization waiting for the endpoints and secrets the config
// names, over either protocol, until they are answered or their initial fetch times out.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { SecretSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { UpstreamTlsContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  type DiscoveryRequest,
} from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';
import { silentLogger } from '../../lib/logger.js';
import { FakeClock } from '../../../test/support/xds-server/fake-clock.js';
import { selfSigned } from '../../../test/translate/secret/certs.js';
import { XdsState } from './xds-state.js';
import { DeltaSession } from './delta-session.js';
import { SotwSession } from './sotw-session.js';
import { SCHEMAS, type ProxyTypeUrl, type ResourceByType } from './validate.js';

const ADS = { configSourceSpecifier: { case: 'ads' as const, value: {} } };

/** An EDS cluster; with `secret`, its TLS validation context comes from SDS over ADS. */
function cluster(name: string, secret?: string): Cluster {
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: ADS },
    ...(secret !== undefined
      ? {
          transportSocket: {
            name: 'envoy.transport_sockets.tls',
            configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, create(UpstreamTlsContextSchema, { commonTlsContext: { validationContextType: { case: 'validationContextSdsSecretConfig', value: { name: secret, sdsConfig: ADS } } } })) },
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

function harness(initialFetchTimeoutMs = 15_000) {
  const clock = new FakeClock();
  let updates = 0;
  const state = new XdsState({ clock, logger: silentLogger, initialFetchTimeoutMs, onChange: () => updates++ });
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

  it('stops waiting for a name never answered after the initial fetch timeout (0 waits forever)', () => {
    for (const [timeout, after] of [
      [15_000, true],
      [0, false],
    ] as const) {
      const h = harness(timeout);
      const s = h.sotw();
      s.start();
      s.handle(sotw(CLUSTER_TYPE, 'c', [cluster('a', 'kubernetes://missing')]));
      s.handle(sotw(LISTENER_TYPE, 'l', [listener('l')]));
      s.handle(sotw(ENDPOINT_TYPE, 'e', [cla('a')]));
      s.handle(sotw(SECRET_TYPE, 's', []));
      assert.equal(h.state.initialized(), false);
      const before = h.updates();
      h.clock.advance(15_000);
      assert.equal(h.state.initialized(), after, `timeout ${timeout}`);
      assert.equal(h.updates() > before, after);
      h.state.close();
    }
  });
});
