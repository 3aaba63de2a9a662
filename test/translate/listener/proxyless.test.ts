// Proxyless gRPC listeners (Istio grpcgen/lds.go): one api_listener per visible service port, named as the
// client's xds:/// target, with RDS over ADS and only the filters gRPC implements, router last.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { assertGolden } from '../../support/golden.js';
import { expectRoute } from '../../support/simulate.js';
import { HttpConnectionManagerSchema } from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { buildFor, k8sService, listener } from './harness.js';

const NO_CLUSTERS = { requireClusters: false } as const;

describe('proxyless gRPC listeners', () => {
  const yaml = [
    k8sService('echo', [{ port: 7070, name: 'grpc' }, { port: 8080, name: 'http' }], { clusterIP: '10.0.0.40' }),
    k8sService('billing', [{ port: 9090, name: 'grpc' }], { ns: 'payments' }),
  ].join('\n');
  const b = buildFor(yaml, { type: 'proxyless', name: 'client', labels: { app: 'client' } });

  it('golden: api listeners for every service port, with short-name aliases in the client`s namespace', () => {
    assertGolden('listener/proxyless', b.dump);
  });

  it('names: <fqdn>:<port> for every service, <short>[.<ns>[.svc]]:<port> only for the client`s own namespace', () => {
    assert.deepEqual(b.listeners.map((l) => l.name), [
      'billing.payments.svc.cluster.local:9090',
      'echo.default.svc.cluster.local:7070',
      'echo.default.svc.cluster.local:8080',
      'echo.default.svc:7070',
      'echo.default.svc:8080',
      'echo.default:7070',
      'echo.default:8080',
      'echo:7070',
      'echo:8080',
    ]);
  });

  it('xds:///echo:7070 asks RDS for outbound|7070||echo.default.svc.cluster.local', () => {
    for (const host of ['echo', 'echo.default.svc.cluster.local']) {
      expectRoute(b.resources, { port: 7070, host, protocol: 'grpc', callMode: 'proxyless' }, {
        listener: `${host}:7070`,
        routeConfig: 'outbound|7070||echo.default.svc.cluster.local',
        error: 'no route config',
      }, NO_CLUSTERS);
    }
  });

  it('the HCM runs fault then router (grpc-js-xds requires the router last) and is not a bound listener', () => {
    const l = listener(b, 'echo.default.svc.cluster.local:7070');
    const hcm = l.apiListener?.apiListener === undefined ? undefined : anyUnpack(l.apiListener.apiListener, HttpConnectionManagerSchema);
    assert.deepEqual(hcm?.httpFilters.map((f) => f.name), ['envoy.filters.http.fault', 'envoy.filters.http.router']);
    assert.equal(l.filterChains.length, 0);
    assert.equal(l.listenerFilters.length, 0);
    assert.equal(l.useOriginalDst, undefined);
  });

  it('a service in another namespace has no short-name alias', () => {
    assert.ok(!b.listeners.some((l) => l.name === 'billing:9090' || l.name === 'billing.payments:9090'));
  });
});
