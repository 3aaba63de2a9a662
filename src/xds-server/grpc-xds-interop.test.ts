// Interoperability with a client we did not write: @grpc/grpc-js-xds (SotW, named LDS/RDS/CDS/EDS
// subscriptions) resolves xds:///echo through the ADS server, calls a real backend, acknowledges every
// type, and rejects a bad route while it keeps calling with the last good config.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { MeshSnapshot } from '../model/snapshot.js';
import type { ProxyResources } from '../translate/resources.js';
import { pack } from '../xds/codec.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../xds/gen/envoy/config/route/v3/route_pb.js';
import { RouterSchema } from '../xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HttpConnectionManagerSchema } from '../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import { waitFor } from '../../test/support/wait.js';
import { fakeSnapshot } from '../../test/support/xds-server/fake-mesh.js';
import { startHarness, type Harness } from '../../test/support/xds-server/harness.js';

const CLIENT = fileURLToPath(new URL('../../test/support/xds-server/grpc-xds-client.mjs', import.meta.url));
const NODE_ID = 'sidecar~127.0.0.1~echo-client.default~default.svc.cluster.local';

/** LDS `echo` (api_listener, RDS `echo-route`) -> cluster `echo` -> EDS 127.0.0.1:<port>. Snapshot `bad` breaks the route. */
function grpcTranslate(backendPort: number) {
  return (snapshot: MeshSnapshot): ProxyResources => {
    const hcm = create(HttpConnectionManagerSchema, {
      statPrefix: 'echo',
      routeSpecifier: { case: 'rds', value: { routeConfigName: 'echo-route', configSource: { configSourceSpecifier: { case: 'ads', value: {} } } } },
      httpFilters: [{ name: 'router', configType: { case: 'typedConfig', value: pack(RouterSchema, create(RouterSchema)) } }],
    });
    const action =
      snapshot.version === 'bad'
        ? { case: 'weightedClusters' as const, value: { clusters: [{ name: 'echo', weight: 0 }] } }
        : { case: 'cluster' as const, value: 'echo' };
    return {
      listeners: [create(ListenerSchema, { name: 'echo', apiListener: { apiListener: pack(HttpConnectionManagerSchema, hcm) } })],
      routes: [
        create(RouteConfigurationSchema, {
          name: 'echo-route',
          virtualHosts: [{ name: 'echo', domains: ['*'], routes: [{ match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'route', value: { clusterSpecifier: action } } }] }],
        }),
      ],
      clusters: [
        create(ClusterSchema, {
          name: 'echo',
          clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
          edsClusterConfig: { serviceName: 'echo', edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } } },
        }),
      ],
      endpoints: [
        create(ClusterLoadAssignmentSchema, {
          clusterName: 'echo',
          endpoints: [
            {
              locality: { region: 'r1', zone: 'z1' },
              loadBalancingWeight: 1,
              lbEndpoints: [
                {
                  hostIdentifier: {
                    case: 'endpoint',
                    value: { address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: backendPort } } } } },
                  },
                },
              ],
            },
          ],
        }),
      ],
      secrets: [],
    };
  };
}

describe('interop: @grpc/grpc-js-xds client', () => {
  let backend: Server;
  let h: Harness;
  let child: ChildProcessWithoutNullStreams;
  const results: string[] = [];

  before(async () => {
    backend = new Server();
    const id = (b: Buffer): Buffer => b;
    const impl: UntypedServiceImplementation = {
      Echo: (_call: unknown, cb: (err: null, reply: Buffer) => void) => cb(null, Buffer.from('hello from the backend')),
    };
    backend.addService({ Echo: { path: '/test.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } }, impl);
    const backendPort = await new Promise<number>((resolve, reject) =>
      backend.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    h = await startHarness({ translate: grpcTranslate(backendPort), snapshot: fakeSnapshot('good', []) });
    const bootstrap = {
      xds_servers: [{ server_uri: h.ads.address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: NODE_ID, locality: { region: 'r1', zone: 'z1' }, metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' } },
    };
    child = spawn(process.execPath, [CLIENT, 'echo'], { env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) } });
    createInterface({ input: child.stdout }).on('line', (l) => results.push(l));
    child.stderr.resume();
  });

  after(async () => {
    child.stdin.write('exit\n');
    child.kill();
    await h.close();
    backend.forceShutdown();
  });

  it('resolves, calls, and acknowledges LDS, RDS, CDS and EDS', async () => {
    child.stdin.write('call\n');
    const first = await waitFor(() => results[0], 'the first call through xds:///echo', 20_000);
    assert.deepEqual(JSON.parse(first), { ok: true, reply: 'hello from the backend' });
    const status = await waitFor(() => {
      const [e] = h.ds.syncz();
      return e !== undefined && [LISTENER_TYPE, ROUTE_TYPE, CLUSTER_TYPE, ENDPOINT_TYPE].every((t) => e.resources[t]?.status === 'SYNCED') && e;
    }, 'all four types SYNCED');
    assert.equal(status.proxy, 'echo-client.default');
    assert.equal(status.proxy_type, 'proxyless');
    const detail = h.ds.proxyStatus('echo-client.default')!;
    assert.deepEqual(
      detail.types.map((t) => [t.type, t.subscribed.wildcard, t.subscribed.names]),
      [
        ['CDS', false, ['echo']],
        ['EDS', false, ['echo']],
        ['LDS', false, ['echo']],
        ['RDS', false, ['echo-route']],
      ],
      'grpc-js-xds subscribes by name, never wildcard',
    );
  });

  it('records the NACK of a bad route and keeps calling with the last good one', async () => {
    h.ds.pushSnapshot(fakeSnapshot('bad', []));
    const rds = await waitFor(() => {
      const t = h.ds.proxyStatus('echo-client.default')?.types.find((x) => x.type === 'RDS');
      return t?.status === 'ERROR' && t;
    }, 'the RDS NACK');
    assert.match(rds.last_error?.message ?? '', /weight/i);
    assert.notDeepEqual(rds.acked, rds.expected, 'what the client runs differs from what it was sent');
    const done = results.length;
    child.stdin.write('call\n');
    const reply = await waitFor(() => results[done], 'a call after the NACK', 10_000);
    assert.deepEqual(JSON.parse(reply), { ok: true, reply: 'hello from the backend' });
  });
});
