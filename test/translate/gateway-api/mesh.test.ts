// Gateway API routes whose parent is a Service (GAMMA) reach sidecars as `mesh` VirtualServices: Istio's
// bookinfo samples route-reviews-90-10 and route-all-v1 through the unchanged sidecar translation, and the
// consumer-route rule (a route in another namespace than the Service applies only to its own namespace), and
// gateway semantics on sidecars and proxyless gRPC clients (whose RouteConfiguration grpc-js-xds must accept).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { toBinary } from '@bufbuild/protobuf';
import type { Call } from '../../support/simulate.js';
import { RouteConfigurationSchema } from '../../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import { ROUTE_TYPE } from '../../../src/xds/type-urls.js';
import { bookinfoPlatform, bookinfoVersions, cluster, clusterNotFoundStatus, fixture, svc, world } from './harness.js';

interface RouteResourceType {
  decode(context: unknown, resource: { type_url: string; value: Uint8Array }): { name: string; error?: string };
}
const require = createRequire(import.meta.url);
// grpc-js-xds loads its protos in resources.js; required through the route type first, the load fails.
require('@grpc/grpc-js-xds/build/src/resources.js');
const { RouteConfigurationResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js') as {
  RouteConfigurationResourceType: { get(): RouteResourceType };
};

const PRODUCTPAGE_POD = { type: 'sidecar', name: 'productpage-v1-abc', namespace: 'default', ip: '10.1.0.10', labels: { app: 'productpage', version: 'v1' } } as const;
const BOOKINFO = `${bookinfoPlatform()}---\n${bookinfoVersions()}`;
// HTTP service ports share the sidecar's 0.0.0.0_<port> listener, so the call's address does not matter.

describe("Istio's bookinfo GAMMA samples on a sidecar", () => {
  it('route-reviews-90-10: calls to reviews:9080 split 90/10 between reviews-v1 and reviews-v2', () => {
    const w = world(`${BOOKINFO}---\n${fixture('route-reviews-90-10')}`, PRODUCTPAGE_POD);
    assert.deepEqual(w.problems, []);
    const call: Call = { port: 9080, protocol: 'http', host: 'reviews:9080', path: '/reviews/0' };
    w.expect(call, {
      virtualHost: 'reviews.default.svc.cluster.local:9080',
      weightedClusters: [
        { name: cluster('reviews-v1', 9080), weight: 90 },
        { name: cluster('reviews-v2', 9080), weight: 10 },
      ],
    });
  });

  it('route-all-v1: every bookinfo service goes to its v1 Service', () => {
    const w = world(`${BOOKINFO}---\n${fixture('route-all-v1')}`, PRODUCTPAGE_POD);
    assert.deepEqual(w.problems, []);
    w.expect({ port: 9080, protocol: 'http', host: 'reviews:9080', path: '/' }, { cluster: cluster('reviews-v1', 9080) });
    w.expect({ port: 9080, protocol: 'http', host: 'details:9080', path: '/details/0' }, { cluster: cluster('details-v1', 9080) });
  });
});

describe('consumer routes', () => {
  const yaml = `${svc('api', 80, 'backend', 'http')}${svc('api-canary', 80, 'backend', 'http')}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: canary, namespace: frontend}
spec:
  parentRefs: [{group: "", kind: Service, name: api, namespace: backend}]
  rules: [{backendRefs: [{name: api-canary, namespace: backend, port: 80}]}]
`;
  const callApi = (): Call => ({ port: 80, protocol: 'http', host: 'api.backend.svc.cluster.local' });

  it('a route in the client namespace redirects its own calls (no ReferenceGrant needed on the mesh)', () => {
    const w = world(yaml, { type: 'sidecar', namespace: 'frontend', name: 'web-abc', labels: { app: 'web' } });
    assert.deepEqual(w.problems, []);
    w.expect(callApi(), { cluster: cluster('api-canary', 80, 'backend') });
  });

  it('clients in other namespaces are not affected', () => {
    const w = world(yaml, { type: 'sidecar', namespace: 'other', name: 'job-abc', labels: { app: 'job' } });
    w.expect(callApi(), { cluster: cluster('api', 80, 'backend') });
  });
});

describe('gateway semantics in the mesh', () => {
  const route = (kind: string, spec: string): string => `---
apiVersion: gateway.networking.k8s.io/v1
kind: ${kind}
metadata: {name: r, namespace: default}
spec:
${spec}
`;

  it('a PathPrefix matches whole path segments on a sidecar; a missing backend answers 500', () => {
    const w = world(`${svc('api', 80, 'default', 'http')}${svc('api-v2', 80, 'default', 'http')}${route('HTTPRoute', `  parentRefs: [{group: "", kind: Service, name: api, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2/}}]
    backendRefs: [{name: api-v2, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /ghost}}]
    backendRefs: [{name: ghost, port: 80}]
  - backendRefs: [{name: api, port: 80}]`)}`, { type: 'sidecar', namespace: 'default', name: 'web-abc', labels: { app: 'web' } });
    const call = (path: string): Call => ({ port: 80, protocol: 'http', host: 'api.default.svc.cluster.local', path });
    w.expect(call('/v2'), { cluster: cluster('api-v2', 80) });
    w.expect(call('/v2/users?id=1'), { cluster: cluster('api-v2', 80) });
    w.expect(call('/v2x'), { cluster: cluster('api', 80) });
    const r = w.expect(call('/ghost/x'), { cluster: cluster('ghost', 80), error: 'cluster not found' });
    assert.equal(clusterNotFoundStatus(r.raw.route), 500);
  });

  it('a proxyless gRPC client gets the service match as a regex grpc-js-xds accepts, matching whole segments', () => {
    const w = world(`${svc('echo', 7070, 'default', 'grpc')}${svc('echo-v2', 7070, 'default', 'grpc')}${route('GRPCRoute', `  parentRefs: [{group: "", kind: Service, name: echo, port: 7070}]
  rules:
  - matches: [{method: {service: echo.Echo}}]
    backendRefs: [{name: echo-v2, port: 7070}]
  - backendRefs: [{name: echo, port: 7070}]`)}`, { type: 'proxyless', namespace: 'default', name: 'client-abc', labels: { app: 'client' } });
    const name = 'outbound|7070||echo.default.svc.cluster.local';
    const rc = w.resources.routes.find((x) => x.name === name);
    assert.ok(rc !== undefined, `route config ${name}`);
    const decoded = RouteConfigurationResourceType.get().decode({}, { type_url: ROUTE_TYPE, value: toBinary(RouteConfigurationSchema, rc) });
    assert.equal(decoded.error, undefined, 'grpc-js-xds accepts the route configuration');
    const call = (path: string): Call => ({ callMode: 'proxyless', protocol: 'grpc', host: 'echo.default.svc.cluster.local', port: 7070, path, method: 'POST' });
    w.expect(call('/echo.Echo/Say'), { cluster: cluster('echo-v2', 7070) });
    w.expect(call('/echo.EchoX/Say'), { cluster: cluster('echo', 7070) });
    w.expect(call('/echo-Echo/Say'), { cluster: cluster('echo', 7070) }, false);
  });
});
