// Proxyless gRPC route configurations (Istio grpcgen/rds.go): one per service port named like its cluster,
// holding only that service's virtual host with `:port` domain forms, VirtualService rules applied, and
// max_stream_duration carrying the timeout (gRPC reads that, not max_grpc_timeout).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { REVIEWS_VHOST, reviewsWorld } from './harness.js';

const PROXYLESS = { type: 'proxyless', labels: { app: 'productpage' }, name: 'productpage-grpc' } as const;

describe('proxyless gRPC routes', () => {
  const w = reviewsWorld(
    `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {x-canary: {exact: "1"}}}]
    timeout: 2s
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 90
    - destination: {host: reviews, subset: v3}
      weight: 10
`,
    {},
    PROXYLESS,
  );

  it('one route config per service port, named outbound|<port>||<host>, each with its own virtual host only', () => {
    assert.deepEqual(w.routes.map((r) => r.name), ['outbound|9080||productpage.default.svc.cluster.local', 'outbound|9080||reviews.default.svc.cluster.local']);
    assert.deepEqual(w.route('outbound|9080||reviews.default.svc.cluster.local').virtualHosts.map((v) => v.name), [REVIEWS_VHOST]);
    assertGolden('route/proxyless', w.dump);
  });

  it('domains keep the :port forms; no catch-all, no ignore_port_in_host_matching', () => {
    const rc = w.route('outbound|9080||reviews.default.svc.cluster.local');
    assert.equal(rc.ignorePortInHostMatching, false);
    assert.ok(rc.virtualHosts[0]?.domains.includes('reviews:9080'));
    assert.ok(rc.virtualHosts[0]?.domains.includes('reviews.default.svc.cluster.local:9080'));
  });

  it('routes by header and weight for xds:///reviews:9080', () => {
    w.expect({ callMode: 'proxyless', protocol: 'grpc', host: 'reviews', port: 9080, headers: { 'x-canary': '1' } }, { cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' });
    w.expect({ callMode: 'proxyless', protocol: 'grpc', host: 'reviews.default.svc.cluster.local', port: 9080 }, {
      weightedClusters: [
        { name: 'outbound|9080|v1|reviews.default.svc.cluster.local', weight: 90 },
        { name: 'outbound|9080|v3|reviews.default.svc.cluster.local', weight: 10 },
      ],
    });
  });

  it('the timeout goes to max_stream_duration', () => {
    const r = w.route('outbound|9080||reviews.default.svc.cluster.local').virtualHosts[0]?.routes[0];
    const a = r?.action.case === 'route' ? r.action.value : undefined;
    assert.equal(a?.maxStreamDuration?.maxStreamDuration?.seconds, 2n);
    assert.equal(a?.maxGrpcTimeout, undefined);
  });
});
