// What a matched VirtualService rule does (Istio route.go applyHTTPRouteDestination, ApplyRedirect,
// ApplyDirectResponse, retry.ConvertPolicy, setTimeout): weighted destinations, ports and subsets, rewrites,
// redirects, direct responses, retries and timeouts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import type { Call } from '../../support/simulate.js';
import { REVIEWS_VHOST, reviewsWorld, vhostDump, type RouteWorld } from './harness.js';

const vs = (http: string): string => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
${http}
`;
const call = (o: Partial<Call> = {}): Call => ({ port: 9080, protocol: 'http', host: 'reviews', ...o });
const action = (w: RouteWorld, i = 0) => {
  const r = w.route('9080').virtualHosts.find((v) => v.name === REVIEWS_VHOST)?.routes[i];
  if (r?.action.case !== 'route') throw new Error(`route ${i} does not forward`);
  return r.action.value;
};

describe('destinations', () => {
  it('weights split between subsets; 0-weight destinations are dropped', () => {
    const w = reviewsWorld(
      vs(`  - route:
    - destination: {host: reviews, subset: v1}
      weight: 70
    - destination: {host: reviews, subset: v2}
      weight: 30
    - destination: {host: reviews, subset: v3}
      weight: 0`),
    );
    assertGolden('route/weighted', vhostDump(w, '9080', REVIEWS_VHOST));
    w.expect(call(), {
      weightedClusters: [
        { name: 'outbound|9080|v1|reviews.default.svc.cluster.local', weight: 70 },
        { name: 'outbound|9080|v2|reviews.default.svc.cluster.local', weight: 30 },
      ],
    });
  });

  it('weights need not sum to 100 (Envoy divides by their sum)', () => {
    const w = reviewsWorld(
      vs(`  - route:
    - destination: {host: reviews, subset: v1}
      weight: 1
    - destination: {host: reviews, subset: v3}
      weight: 3`),
    );
    w.expect(call(), { weightedClusters: [{ name: 'outbound|9080|v1|reviews.default.svc.cluster.local', weight: 1 }, { name: 'outbound|9080|v3|reviews.default.svc.cluster.local', weight: 3 }] });
  });

  it('an explicit destination port names that port; no port takes the listener port', () => {
    const w = reviewsWorld(
      vs(`  - match: [{uri: {prefix: /other}}]
    route:
    - destination: {host: ratings.prod.svc.cluster.local, port: {number: 8080}}
  - route:
    - destination: {host: reviews}`),
    );
    w.expect(call({ path: '/other' }), { cluster: 'outbound|8080||ratings.prod.svc.cluster.local' });
    w.expect(call(), { cluster: 'outbound|9080||reviews.default.svc.cluster.local' });
  });
});

describe('rewrites', () => {
  const w = reviewsWorld(
    vs(`  - name: prefix
    match: [{uri: {prefix: /v1/}}]
    rewrite: {uri: /api/, authority: reviews.internal}
    route:
    - destination: {host: reviews, subset: v1}
  - name: regex
    match: [{uri: {prefix: /v2/}}]
    rewrite:
      uriRegexRewrite: {match: "^/v2/(.*)$", rewrite: "/api/\\\\1"}
    route:
    - destination: {host: reviews, subset: v2}
  - name: header-authority
    headers:
      request:
        set: {":authority": from-header.internal}
    route:
    - destination: {host: reviews, subset: v3}`),
  );
  it('golden', () => assertGolden('route/rewrite', vhostDump(w, '9080', REVIEWS_VHOST)));
  it('uri -> prefix_rewrite, authority -> host_rewrite_literal', () => {
    const a = action(w, 0);
    assert.equal(a.prefixRewrite, '/api/');
    assert.deepEqual(a.hostRewriteSpecifier, { case: 'hostRewriteLiteral', value: 'reviews.internal' });
  });
  it('uriRegexRewrite -> regex_rewrite', () => {
    const a = action(w, 1);
    assert.equal(a.regexRewrite?.pattern?.regex, '^/v2/(.*)$');
    assert.equal(a.regexRewrite?.substitution, '/api/\\1');
  });
  it('an :authority header operation rewrites the host instead of adding a header', () => {
    const r = w.route('9080').virtualHosts.find((v) => v.name === REVIEWS_VHOST)?.routes[2];
    assert.deepEqual(r?.requestHeadersToAdd, []);
    assert.deepEqual(action(w, 2).hostRewriteSpecifier, { case: 'hostRewriteLiteral', value: 'from-header.internal' });
  });
});

describe('redirect and direct response', () => {
  const w = reviewsWorld(
    vs(`  - name: moved
    match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: new.example.com, redirectCode: 302}
  - name: https
    match: [{uri: {exact: /secure}}]
    redirect: {scheme: https, port: 443}
  - name: same-port
    match: [{uri: {exact: /here}}]
    redirect: {uri: /there, derivePort: FROM_REQUEST_PORT}
  - name: gone
    match: [{uri: {exact: /gone}}]
    directResponse: {status: 410, body: {string: "gone for good"}}
  - name: bytes
    match: [{uri: {exact: /bytes}}]
    directResponse: {status: 200, body: {bytes: "aGVsbG8="}}
  - name: rest
    route:
    - destination: {host: reviews, subset: v1}`),
  );
  it('golden', () => assertGolden('route/redirect-direct-response', vhostDump(w, '9080', REVIEWS_VHOST)));
  it('redirect with uri, authority and code', () => void w.expect(call({ path: '/old' }), { route: 'moved', redirect: { responseCode: 302, host: 'new.example.com', path: '/new' } }));
  it('https on 443 leaves the port implicit', () => void w.expect(call({ path: '/secure' }), { redirect: { responseCode: 301, scheme: 'https', path: '' } }));
  it('FROM_REQUEST_PORT uses the port the route is built for', () => void w.expect(call({ path: '/here' }), { redirect: { responseCode: 301, port: 9080, path: '/there' } }));
  it('direct response with a string body', () => void w.expect(call({ path: '/gone' }), { route: 'gone', directResponse: { status: 410, body: 'gone for good' } }));
  it('direct response with a bytes body', () => void w.expect(call({ path: '/bytes' }), { directResponse: { status: 200, body: 'hello' } }));
  it('no retry policy or timeout on routes that do not forward', () => {
    const r = w.route('9080').virtualHosts.find((v) => v.name === REVIEWS_VHOST)?.routes[0];
    assert.equal(r?.action.case, 'redirect');
    assert.equal(r?.decorator?.operation, 'reviews:9080/old');
  });
});

describe('retries and timeouts', () => {
  const w = reviewsWorld(
    vs(`  - name: custom
    match: [{uri: {prefix: /custom}}]
    timeout: 3s
    retries: {attempts: 5, perTryTimeout: 500ms, retryOn: "gateway-error,503,connect-failure", retryRemoteLocalities: true}
    route:
    - destination: {host: reviews, subset: v1}
  - name: none
    match: [{uri: {prefix: /none}}]
    retries: {attempts: 0}
    route:
    - destination: {host: reviews, subset: v1}
  - name: default
    route:
    - destination: {host: reviews, subset: v2}`),
  );
  it('golden', () => assertGolden('route/retries-timeouts', vhostDump(w, '9080', REVIEWS_VHOST)));
  it('a VirtualService timeout sets timeout and max_grpc_timeout', () => {
    const a = action(w, 0);
    assert.equal(a.timeout?.seconds, 3n);
    assert.equal(a.maxGrpcTimeout?.seconds, 3n);
    assert.equal(a.retryPolicy?.numRetries, 5);
    assert.equal(a.retryPolicy?.retryOn, 'gateway-error,connect-failure,retriable-status-codes');
    assert.deepEqual(a.retryPolicy?.retriableStatusCodes, [503]);
    assert.equal(a.retryPolicy?.perTryTimeout?.nanos, 500_000_000);
    assert.equal(a.retryPolicy?.retryPriority?.name, 'envoy.retry_priorities.previous_priorities');
  });
  it('attempts: 0 leaves the route without a retry policy', () => assert.equal(action(w, 1).retryPolicy, undefined));
  it('no timeout means 0s (disabled) and the mesh default retries', () => {
    const a = action(w, 2);
    assert.equal(a.timeout?.seconds, 0n);
    assert.equal(a.retryPolicy?.numRetries, 2);
    assert.equal(a.retryPolicy?.retryOn, 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes');
  });
});
