// Listener and cluster warming through the real data plane (Envoy's configuration/listeners/lds: "When a
// listener is added, it will be warmed before taking traffic ... when a listener is updated, an entirely new
// listener is created ... [and] goes through the same warming process"; clusters alike): scripted ADS
// responses (a state-of-the-world session, as a server that sends LDS before RDS, CDS before EDS would) feed
// the data plane the proxy runs, with its listeners on real sockets and an upstream HTTP server. A new
// listener is not bound until its routes arrive; an updated listener keeps answering with its previous
// version and routes until the new routes arrive; /config_dump shows the waiting version as warming_state.
// A route to a new cluster finds no cluster (503, NC) until the cluster's endpoints arrive.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { create, fromJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { XDS_REGISTRY } from '../../src/xds/codec.js';
import { NodeSchema } from '../../src/xds/gen/envoy/config/core/v3/base_pb.js';
import { DiscoveryResponseSchema } from '../../src/xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { silentLogger } from '../../src/lib/logger.js';
import { systemClock } from '../../src/lib/clock.js';
import { mathRandom } from '../../src/proxy/lib/random.js';
import { NO_SECRETS } from '../../src/proxy/upstream/connection-pools.js';
import { StatsStore } from '../../src/proxy/stats/stats-store.js';
import { DataPlane } from '../../src/proxy/data-plane.js';
import { compileResource } from '../../src/proxy/runtime/compile-resource.js';
import { XdsState } from '../../src/proxy/xds-client/xds-state.js';
import { SotwSession } from '../../src/proxy/xds-client/sotw-session.js';
import { SCHEMAS, type ProxyTypeUrl, type ResourceByType } from '../../src/proxy/xds-client/validate.js';
import type { ServingTables } from '../../src/proxy/xds-client/ads-client.js';
import { clustersText, configDump } from '../../src/proxy/admin/config-dump.js';
import { directResponse, httpListener, prefix, route, routeConfig, staticCluster, toCluster, vhost } from '../support/xds-fixtures.js';
import { freePort } from '../support/data-plane.js';

function sotw<T extends ProxyTypeUrl>(typeUrl: T, version: string, messages: ResourceByType[T][]) {
  return create(DiscoveryResponseSchema, {
    typeUrl,
    nonce: `n-${version}`,
    versionInfo: version,
    resources: messages.map((m) => anyPack(SCHEMAS[typeUrl] as DescMessage, m as unknown as MessageShape<DescMessage>)),
  });
}

/** GET / on a new connection: the status and body, or the connection error's code. */
function get(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

/**
 * Sends a GET on an open connection and resolves with what came back once `done` says it is whole, the
 * connection ended, or 5 s passed (ended false).
 */
function exchange(s: Socket, done: (text: string) => boolean): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => finish(false), 5_000);
    const finish = (ended: boolean): void => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('end', onEnd);
      resolve({ text, ended });
    };
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      if (done(text)) finish(false);
    };
    const onEnd = (): void => finish(true);
    s.on('data', onData);
    s.on('end', onEnd);
    s.write('GET / HTTP/1.1\r\nhost: web\r\n\r\n');
  });
}

const wholeResponse = (text: string): boolean => {
  const head = text.indexOf('\r\n\r\n');
  const len = /\r\ncontent-length: (\d+)/i.exec(text);
  return head >= 0 && len !== null && text.length >= head + 4 + Number(len[1]);
};

describe('listener and cluster warming in the data plane', () => {
  let upstream: Server;
  let upstreamPort = 0;
  let port = 0;
  const updates = new Set<() => void>();
  const state = new XdsState({ clock: systemClock, logger: silentLogger, initialFetchTimeoutMs: 15_000, onChange: () => updates.forEach((f) => f()) });
  const session = new SotwSession(
    { state, node: create(NodeSchema, { id: 'router~127.0.0.1~gw.default~default.svc.cluster.local' }), logger: silentLogger, clock: systemClock, extraChecks: undefined, compile: compileResource, notify: () => updates.forEach((f) => f()) },
    () => undefined,
  );
  const serving: ServingTables = {
    table: (t) => state.servingTable(t),
    onUpdate: (f) => {
      updates.add(f);
      return () => updates.delete(f);
    },
  };
  const dataPlane = new DataPlane({ xds: serving, logger: silentLogger, clock: systemClock, random: mathRandom, secrets: NO_SECRETS, stats: new StatsStore() });
  const dumpSource = { table: state.table.bind(state), typeState: state.typeState.bind(state), servingTable: state.servingTable.bind(state), warming: state.warming.bind(state) };
  /** The cluster names of /config_dump's active and warming lists and of /clusters. */
  const dumpClusters = () => {
    const dump = configDump(dumpSource);
    const section = (dump['configs'] as { '@type': string; dynamic_active_clusters?: { cluster: { name: string } }[]; dynamic_warming_clusters?: { cluster: { name: string } }[] }[]).find((c) => c['@type'].endsWith('ClustersConfigDump'));
    const listed = new Set(clustersText(dumpSource).split('\n').map((l) => l.slice(0, l.indexOf('::'))).filter((n) => n !== ''));
    return { active: (section?.dynamic_active_clusters ?? []).map((c) => c.cluster.name), warming: (section?.dynamic_warming_clusters ?? []).map((c) => c.cluster.name), clusters: [...listed] };
  };
  const dumpListeners = () => {
    const dump = configDump(dumpSource);
    const section = (dump['configs'] as { '@type': string; dynamic_listeners?: { name: string; active_state?: { version_info: string }; warming_state?: { version_info: string } }[] }[]).find((c) => c['@type'].endsWith('ListenersConfigDump'));
    return (section?.dynamic_listeners ?? []).map((l) => ({ name: l.name, active: l.active_state?.version_info, warming: l.warming_state?.version_info }));
  };
  const respond = async (r: ReturnType<typeof sotw>) => {
    session.handle(r);
    await dataPlane.settled();
  };

  before(async () => {
    upstream = createServer((_req, res) => res.end('from upstream'));
    await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
    upstreamPort = (upstream.address() as AddressInfo).port;
    port = await freePort();
    session.start();
    dataPlane.start();
  });

  after(async () => {
    state.close();
    await dataPlane.close();
    await new Promise<void>((ok) => upstream.close(() => ok()));
  });

  const web = (rds: string) => httpListener({ name: 'web', address: '127.0.0.1', port, routeName: rds });
  const toUpstream = () => routeConfig('r1', [vhost('all', ['*'], [route('all', prefix('/'), toCluster('up'))])]);
  const toSvc = () => routeConfig('r2', [vhost('all', ['*'], [route('all', prefix('/'), toCluster('svc'))])]);
  const svc = () => fromJson(ClusterSchema, { name: 'svc', type: 'EDS', connectTimeout: '1s', edsClusterConfig: { edsConfig: { ads: {} } } }, { registry: XDS_REGISTRY });
  const svcEndpoints = () =>
    fromJson(ClusterLoadAssignmentSchema, { clusterName: 'svc', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: upstreamPort } } } }] }] }, { registry: XDS_REGISTRY });
  const local = () => routeConfig('r2', [vhost('all', ['*'], [route('all', prefix('/'), directResponse(200, 'from r2'))])]);

  it('binds a new listener only once its route configuration has arrived', async () => {
    await respond(sotw(CLUSTER_TYPE, 'c1', [staticCluster('up', upstreamPort)]));
    await respond(sotw(LISTENER_TYPE, 'l1', [web('r1')]));
    assert.equal(await get(port), 'ECONNREFUSED', 'a warming listener takes no connections');
    assert.deepEqual(dumpListeners(), [{ name: 'web', active: undefined, warming: 'l1' }]);
    await respond(sotw(ROUTE_TYPE, 'r1', [toUpstream()]));
    assert.equal(await get(port), '200 from upstream');
    assert.deepEqual(dumpListeners(), [{ name: 'web', active: 'l1', warming: undefined }]);
  });

  it('keeps serving the previous version while an update waits for its routes, then switches', async () => {
    await respond(sotw(LISTENER_TYPE, 'l2', [web('r2')]));
    assert.equal(await get(port), '200 from upstream', 'the old listener and its route still answer');
    assert.deepEqual(dumpListeners(), [{ name: 'web', active: 'l1', warming: 'l2' }]);
    await respond(sotw(ROUTE_TYPE, 'r2', [toUpstream(), local()]));
    assert.equal(await get(port), '200 from r2');
    assert.deepEqual(dumpListeners(), [{ name: 'web', active: 'l2', warming: undefined }]);
  });

  it('routes to a new cluster only once its endpoints have arrived: until then no cluster (503)', async () => {
    await respond(sotw(CLUSTER_TYPE, 'c2', [staticCluster('up', upstreamPort), svc()]));
    await respond(sotw(ROUTE_TYPE, 'r3', [toUpstream(), toSvc()]));
    assert.equal(await get(port), '503 ', 'a warming cluster is not there yet: Envoy answers cluster_not_found');
    assert.deepEqual(dumpClusters(), { active: ['up'], warming: ['svc'], clusters: ['up'] });
    await respond(sotw(ENDPOINT_TYPE, 'e1', [svcEndpoints()]));
    assert.equal(await get(port), '200 from upstream');
    assert.deepEqual(dumpClusters(), { active: ['svc', 'up'], warming: [], clusters: ['svc', 'up'] });
  });

  // Envoy drains a replaced listener's connections for the drain time (operations/draining: requests are
  // discouraged, HTTP/1.1 gets connection: close), it does not cut idle ones: a client reusing a pooled
  // connection at that moment (another proxy's upstream pool) is answered, not reset.
  it("answers a request on an idle connection of a replaced listener, with connection: close, then closes it", async () => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    try {
      const first = await exchange(s, wholeResponse);
      assert.match(first.text, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(first.text, /connection: close/i);
      await respond(sotw(LISTENER_TYPE, 'l3', [web('r1')]));
      assert.deepEqual(dumpListeners(), [{ name: 'web', active: 'l3', warming: undefined }], 'the listener was replaced');
      const second = await exchange(s, (t) => wholeResponse(t) && false);
      assert.match(second.text, /^HTTP\/1\.1 200 /, 'the old connection is still answered');
      assert.match(second.text, /\r\nconnection: close\r\n/i);
      assert.equal(second.ended, true, 'and closed after the response');
      assert.equal(await get(port), '200 from upstream', 'new connections reach the new listener');
    } finally {
      s.destroy();
    }
  });
});
