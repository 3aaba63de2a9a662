// Per-route policies (Istio route.go TranslateFault, TranslateCORSPolicy, MirrorPercent,
// TranslateHeadersOperations, ConsistentHashToHashPolicy) and delegate VirtualServices.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { HTTPFaultSchema } from '../../../src/xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { CorsPolicySchema } from '../../../src/xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { FractionalPercent_DenominatorType as Denominator } from '../../../src/xds/gen/envoy/type/v3/percent_pb.js';
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
const routeAt = (w: RouteWorld, i: number) => {
  const r = w.route('9080').virtualHosts.find((v) => v.name === REVIEWS_VHOST)?.routes[i];
  if (r === undefined) throw new Error(`no route ${i}`);
  return r;
};
const actionAt = (w: RouteWorld, i: number) => {
  const r = routeAt(w, i);
  if (r.action.case !== 'route') throw new Error(`route ${i} does not forward`);
  return r.action.value;
};

describe('fault injection', () => {
  const w = reviewsWorld(
    vs(`  - name: delay
    match: [{headers: {end-user: {exact: jason}}}]
    fault:
      delay: {fixedDelay: 7s, percentage: {value: 0.1}}
      abort: {grpcStatus: UNAVAILABLE, percentage: {value: 50}}
    route:
    - destination: {host: reviews, subset: v2}
  - name: abort
    fault:
      abort: {httpStatus: 503}
    route:
    - destination: {host: reviews, subset: v1}`),
  );
  it('golden', () => assertGolden('route/fault', vhostDump(w, '9080', REVIEWS_VHOST)));
  it('delay and abort as the fault filter per-route config, percentages per million', () => {
    const cfg = routeAt(w, 0).typedPerFilterConfig['envoy.filters.http.fault'];
    assert.ok(cfg !== undefined, 'fault config present');
    const f = anyUnpack(cfg, HTTPFaultSchema);
    assert.equal(f?.delay?.faultDelaySecifier.case, 'fixedDelay');
    assert.equal(f?.delay?.faultDelaySecifier.value?.seconds, 7n);
    assert.deepEqual([f?.delay?.percentage?.numerator, f?.delay?.percentage?.denominator], [1000, Denominator.MILLION]);
    assert.deepEqual(f?.abort?.errorType, { case: 'grpcStatus', value: 14 });
    assert.equal(f?.abort?.percentage?.numerator, 500_000);
  });
  it('an abort without a percentage has none', () => {
    const f = anyUnpack(routeAt(w, 1).typedPerFilterConfig['envoy.filters.http.fault'] ?? ({} as never), HTTPFaultSchema);
    assert.deepEqual(f?.abort?.errorType, { case: 'httpStatus', value: 503 });
    assert.equal(f?.abort?.percentage, undefined);
    assert.equal(f?.delay, undefined);
  });
  it('the faulted route still routes', () => void w.expect(call({ headers: { 'end-user': 'jason' } }), { route: 'delay', cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' }));
});

describe('mirroring', () => {
  const w = reviewsWorld(
    vs(`  - name: legacy
    match: [{uri: {prefix: /legacy}}]
    mirror: {host: reviews, subset: v3}
    mirrorPercentage: {value: 12.5}
    route:
    - destination: {host: reviews, subset: v1}
  - name: many
    mirrors:
    - destination: {host: reviews, subset: v2}
    - destination: {host: reviews, subset: v3}
      percentage: {value: 0}
    - destination: {host: ratings.prod.svc.cluster.local, port: {number: 9080}}
      percentage: {value: 5}
    route:
    - destination: {host: reviews, subset: v1}`),
  );
  it('golden', () => assertGolden('route/mirror', vhostDump(w, '9080', REVIEWS_VHOST)));
  it('mirror with mirrorPercentage', () => {
    const [m] = actionAt(w, 0).requestMirrorPolicies;
    assert.equal(m?.cluster, 'outbound|9080|v3|reviews.default.svc.cluster.local');
    assert.equal(m?.runtimeFraction?.defaultValue?.numerator, 125_000);
    assert.equal(m?.runtimeFraction?.defaultValue?.denominator, Denominator.MILLION);
  });
  it('mirrors: 100% when unset, none at 0%', () => {
    const ms = actionAt(w, 1).requestMirrorPolicies;
    assert.deepEqual(ms.map((m) => [m.cluster, m.runtimeFraction?.defaultValue?.numerator, m.runtimeFraction?.defaultValue?.denominator]), [
      ['outbound|9080|v2|reviews.default.svc.cluster.local', 100, Denominator.HUNDRED],
      ['outbound|9080||ratings.prod.svc.cluster.local', 50_000, Denominator.MILLION],
    ]);
  });
});

describe('CORS', () => {
  const w = reviewsWorld(
    vs(`  - corsPolicy:
      allowOrigins: [{exact: "https://example.com"}, {regex: "https://.*\\\\.example\\\\.org"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-a, x-b]
      exposeHeaders: [x-c]
      maxAge: 24h
      allowCredentials: true
    route:
    - destination: {host: reviews, subset: v1}`),
  );
  it('golden', () => assertGolden('route/cors', vhostDump(w, '9080', REVIEWS_VHOST)));
  it('the CORS filter per-route config', () => {
    const c = anyUnpack(routeAt(w, 0).typedPerFilterConfig['envoy.filters.http.cors'] ?? ({} as never), CorsPolicySchema);
    assert.deepEqual(c?.allowOriginStringMatch.map((m) => m.matchPattern.case), ['exact', 'safeRegex']);
    assert.equal(c?.allowMethods, 'GET,POST');
    assert.equal(c?.allowHeaders, 'x-a,x-b');
    assert.equal(c?.maxAge, '86400');
    assert.equal(c?.allowCredentials, true);
    assert.equal(c?.forwardNotMatchingPreflights, true);
    assert.equal(c?.filterEnabled?.defaultValue?.numerator, 100);
  });
});

describe('header operations', () => {
  const w = reviewsWorld(
    vs(`  - match: [{uri: {prefix: /one}}]
    headers:
      request:
        set: {x-b: "2", x-a: "1"}
        add: {x-c: "3"}
        remove: [x-drop]
      response:
        set: {x-resp: "r"}
        remove: [server]
    route:
    - destination: {host: reviews, subset: v1}
      headers:
        request: {set: {x-dest: d}}
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 50
      headers:
        request: {set: {x-version: v1}}
        response: {add: {x-served-by: v1}}
    - destination: {host: reviews, subset: v2}
      weight: 50`),
  );
  it('golden', () => assertGolden('route/headers', vhostDump(w, '9080', REVIEWS_VHOST)));
  it('route-level set before add, each sorted by name, then destination-level for a single destination', () => {
    const r = routeAt(w, 0);
    assert.deepEqual(r.requestHeadersToAdd.map((h) => h.header?.key), ['x-a', 'x-b', 'x-c', 'x-dest']);
    assert.deepEqual(r.requestHeadersToRemove, ['x-drop']);
    assert.deepEqual(r.responseHeadersToRemove, ['server']);
  });
  it('weighted destinations carry their own headers', () => {
    const a = actionAt(w, 1);
    if (a.clusterSpecifier.case !== 'weightedClusters') throw new Error('not weighted');
    const [v1, v2] = a.clusterSpecifier.value.clusters;
    assert.deepEqual(v1?.requestHeadersToAdd.map((h) => [h.header?.key, h.header?.value]), [['x-version', 'v1']]);
    assert.deepEqual(v1?.responseHeadersToAdd.map((h) => h.header?.key), ['x-served-by']);
    assert.deepEqual(v2?.requestHeadersToAdd, []);
  });
});

describe('consistent hash from the DestinationRule', () => {
  const dr = (lb: string): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      consistentHash: ${lb}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer:
        consistentHash: {httpQueryParameterName: user}
`;
  const http = vs(`  - match: [{uri: {prefix: /subset}}]
    route:
    - destination: {host: ratings.prod.svc.cluster.local, subset: v1, port: {number: 9080}}
  - route:
    - destination: {host: ratings.prod.svc.cluster.local, port: {number: 9080}}`);
  const policies = (lb: string) => {
    const w = reviewsWorld(`${http}${dr(lb)}`);
    return [actionAt(w, 0), actionAt(w, 1)] as const;
  };
  it('httpHeaderName, and the subset setting wins for the subset', () => {
    const [sub, top] = policies('{httpHeaderName: x-user}');
    assert.equal(top.hashPolicy[0]?.policySpecifier.case === 'header' ? top.hashPolicy[0].policySpecifier.value.headerName : '', 'x-user');
    assert.equal(sub.hashPolicy[0]?.policySpecifier.case, 'queryParameter');
    assert.deepEqual(top.retryPolicy?.retryHostPredicate, [], 'consistent hashing drops the previous-hosts predicate');
  });
  it('httpCookie with ttl and path', () => {
    const [, top] = policies('{httpCookie: {name: session, path: /, ttl: 60s}}');
    const p = top.hashPolicy[0]?.policySpecifier;
    assert.equal(p?.case, 'cookie');
    if (p?.case === 'cookie') {
      assert.equal(p.value.name, 'session');
      assert.equal(p.value.path, '/');
      assert.equal(p.value.ttl?.seconds, 60n);
    }
  });
  it('useSourceIp', () => {
    const [, top] = policies('{useSourceIp: true}');
    assert.deepEqual(top.hashPolicy[0]?.policySpecifier.case, 'connectionProperties');
  });
  it('a service without a VirtualService gets the hash policy on its default route', () => {
    const w = reviewsWorld(`---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-hash}
spec:
  host: productpage
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
`);
    const r = w.route('9080').virtualHosts.find((v) => v.name === 'productpage.default.svc.cluster.local:9080')?.routes[0];
    assert.equal(r?.action.case === 'route' ? r.action.value.hashPolicy[0]?.policySpecifier.case : undefined, 'header');
  });
});

describe('delegate VirtualServices', () => {
  const w = reviewsWorld(`---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - name: root
    match: [{uri: {prefix: /api}}]
    delegate: {name: reviews-api}
  - route:
    - destination: {host: reviews, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-api}
spec:
  http:
  - name: leaf
    match: [{uri: {prefix: /api/v2}}]
    route:
    - destination: {host: reviews, subset: v2}
`);
  it('the delegate rules replace the root rule, names joined', () => {
    w.expect(call({ path: '/api/v2/x' }), { route: 'root-leaf', cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' });
    w.expect(call({ path: '/api/v1' }), { cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local' });
  });
});
