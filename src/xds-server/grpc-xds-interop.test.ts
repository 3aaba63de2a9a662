// Interoperability with a client we did not write: @grpc/grpc-js-xds (SotW, named LDS/RDS/CDS/EDS
// subscriptions) resolves xds:///echo through the ADS server, calls a real backend, acknowledges every
// type, and rejects a bad route while it keeps calling with the last good config.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
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
import { startClient, type CallSummary, type ClientProcess } from '../../test/interop/support/client-process.js';
import { startEchoServer, type EchoServer } from '../../test/interop/support/echo-server.js';
import { waitFor } from '../../test/support/wait.js';
import { fakeSnapshot } from '../../test/support/xds-server/fake-mesh.js';
import { startHarness, type Harness } from '../../test/support/xds-server/harness.js';

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
      issues: [],
    };
  };
}

describe('interop: @grpc/grpc-js-xds client', () => {
  let backend: EchoServer;
  let h: Harness;
  let client: ClientProcess;
  /** One call through xds:///echo: which backends answered and which gRPC errors came back (timings dropped). */
  const callOnce = async (): Promise<Pick<CallSummary, 'servers' | 'errors'>> => {
    const { servers, errors } = await client.calls('echo', 1, { deadlineMs: 10_000, timeoutMs: 20_000 });
    return { servers, errors };
  };

  before(async () => {
    backend = await startEchoServer('echo');
    h = await startHarness({ translate: grpcTranslate(backend.port), snapshot: fakeSnapshot('good', []) });
    const bootstrap = {
      xds_servers: [{ server_uri: h.ads.address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: NODE_ID, locality: { region: 'r1', zone: 'z1' }, metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' } },
    };
    client = startClient('grpc-js-xds', bootstrap);
  });

  after(async () => {
    await client?.close();
    await h?.close();
    await backend?.close();
  });

  it('resolves, calls, and acknowledges LDS, RDS, CDS and EDS', async () => {
    assert.deepEqual(await callOnce(), { servers: { echo: 1 }, errors: {} }, 'the first call through xds:///echo');
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
    assert.deepEqual(await callOnce(), { servers: { echo: 1 }, errors: {} }, 'a call after the NACK');
  });
});
