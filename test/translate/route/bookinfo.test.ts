// Istio's own Bookinfo traffic-management samples (../shared/corpus/istio-bookinfo/networking), applied to
// Istio's Bookinfo platform, translated for the productpage and reviews sidecars and the ingress gateway:
// each sample's documented behaviour as simulated requests.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { HTTPFaultSchema } from '../../../src/xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { assertGolden } from '../../support/golden.js';
import type { Call } from '../../support/simulate.js';
import { routeWorld, vhostDump, type RouteWorld } from './harness.js';

const CORPUS = new URL('../../../../shared/corpus/istio-bookinfo/', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, CORPUS), 'utf8');
const PLATFORM = read('platform/kube/bookinfo.yaml');
const DESTINATION_RULES = read('networking/destination-rule-all.yaml');

const PRODUCTPAGE = { labels: { app: 'productpage', version: 'v1' }, name: 'productpage-v1-123', serviceAccount: 'bookinfo-productpage' } as const;
const REVIEWS_V2 = { labels: { app: 'reviews', version: 'v2' }, name: 'reviews-v2-123', serviceAccount: 'bookinfo-reviews' } as const;

function bookinfo(samples: readonly string[], proxy: typeof PRODUCTPAGE | typeof REVIEWS_V2 = PRODUCTPAGE, withRules = true): RouteWorld {
  const docs = [PLATFORM, ...(withRules ? [DESTINATION_RULES] : []), ...samples.map((s) => read(`networking/${s}`))];
  return routeWorld(docs.join('\n---\n'), proxy);
}

const http = (host: string, o: Partial<Call> = {}): Call => ({ port: 9080, protocol: 'http', host, path: '/', ...o });
const cluster = (svc: string, subset: string): string => `outbound|9080|${subset}|${svc}.default.svc.cluster.local`;
const JASON = { headers: { 'end-user': 'jason' } };

describe('virtual-service-all-v1.yaml', () => {
  const w = bookinfo(['virtual-service-all-v1.yaml']);
  it('golden: the productpage sidecar 9080 route config', () => assertGolden('route/bookinfo-all-v1', w.dump));
  it('every service goes to v1', () => {
    for (const svc of ['productpage', 'reviews', 'ratings', 'details']) w.expect(http(svc), { cluster: cluster(svc, 'v1') });
    w.expect(http('reviews', JASON), { cluster: cluster('reviews', 'v1') });
  });
});

describe('virtual-service-reviews-jason-v2-v3.yaml', () => {
  const w = bookinfo(['virtual-service-reviews-jason-v2-v3.yaml']);
  it('golden: the reviews virtual host', () => assertGolden('route/bookinfo-reviews-jason-v2-v3', vhostDump(w, '9080', 'reviews.default.svc.cluster.local:9080')));
  it('GET /reviews with end-user: jason from productpage goes to v2, anyone else to v3', () => {
    w.expect(http('reviews', { ...JASON, path: '/reviews/0' }), { cluster: cluster('reviews', 'v2') });
    w.expect(http('reviews:9080', { headers: { 'end-user': 'mary' }, path: '/reviews/0' }), { cluster: cluster('reviews', 'v3') });
    w.expect(http('reviews.default.svc.cluster.local'), { cluster: cluster('reviews', 'v3') });
  });
});

describe('virtual-service-reviews-test-v2.yaml', () => {
  const w = bookinfo(['virtual-service-reviews-test-v2.yaml']);
  it('jason sees v2, everyone else v1', () => {
    w.expect(http('reviews', JASON), { cluster: cluster('reviews', 'v2') });
    w.expect(http('reviews'), { cluster: cluster('reviews', 'v1') });
  });
});

describe('weighted samples', () => {
  const cases: [string, [string, number][]][] = [
    ['virtual-service-reviews-50-v3.yaml', [['v1', 50], ['v3', 50]]],
    ['virtual-service-reviews-80-20.yaml', [['v1', 80], ['v2', 20]]],
    ['virtual-service-reviews-90-10.yaml', [['v1', 90], ['v2', 10]]],
    ['virtual-service-reviews-v2-v3.yaml', [['v2', 50], ['v3', 50]]],
  ];
  for (const [sample, split] of cases) {
    it(sample, () => {
      bookinfo([sample]).expect(http('reviews'), { weightedClusters: split.map(([s, weight]) => ({ name: cluster('reviews', s), weight })) });
    });
  }
  it('virtual-service-reviews-v3.yaml', () => void bookinfo(['virtual-service-reviews-v3.yaml']).expect(http('reviews'), { cluster: cluster('reviews', 'v3') }));
  it('virtual-service-details-v2.yaml', () => void bookinfo(['virtual-service-details-v2.yaml']).expect(http('details'), { cluster: cluster('details', 'v2') }));
});

describe('fault samples (seen from the reviews-v2 sidecar, which calls ratings)', () => {
  const faultOf = (w: RouteWorld, i: number) => {
    const r = w.route('9080').virtualHosts.find((v) => v.name === 'ratings.default.svc.cluster.local:9080')?.routes[i];
    const any = r?.typedPerFilterConfig['envoy.filters.http.fault'];
    return any === undefined ? undefined : anyUnpack(any, HTTPFaultSchema);
  };

  it('virtual-service-ratings-test-delay.yaml: jason gets a 7s delay on 100% of requests, still to ratings v1', () => {
    const w = bookinfo(['virtual-service-ratings-test-delay.yaml'], REVIEWS_V2);
    assertGolden('route/bookinfo-ratings-test-delay', vhostDump(w, '9080', 'ratings.default.svc.cluster.local:9080'));
    w.expect(http('ratings', JASON), { route: '', cluster: cluster('ratings', 'v1') });
    const f = faultOf(w, 0);
    assert.equal(f?.delay?.faultDelaySecifier.case === 'fixedDelay' ? f.delay.faultDelaySecifier.value.seconds : undefined, 7n);
    assert.equal(f?.delay?.percentage?.numerator, 1_000_000);
    assert.equal(faultOf(w, 1), undefined, 'no fault for other users');
  });

  it('virtual-service-ratings-test-abort.yaml: jason gets HTTP 500 on 100% of requests', () => {
    const w = bookinfo(['virtual-service-ratings-test-abort.yaml'], REVIEWS_V2);
    const f = faultOf(w, 0);
    assert.deepEqual(f?.abort?.errorType, { case: 'httpStatus', value: 500 });
    assert.equal(f?.abort?.percentage?.numerator, 1_000_000);
    w.expect(http('ratings'), { cluster: cluster('ratings', 'v1') });
  });

  it('fault-injection-details-v1.yaml: the first rule has no match, so it is the only route', () => {
    const w = bookinfo(['fault-injection-details-v1.yaml'], PRODUCTPAGE, false);
    const routes = w.route('9080').virtualHosts.find((v) => v.name === 'details.default.svc.cluster.local:9080')?.routes ?? [];
    assert.equal(routes.length, 1);
    const any = routes[0]?.typedPerFilterConfig['envoy.filters.http.fault'];
    assert.deepEqual(any === undefined ? undefined : anyUnpack(any, HTTPFaultSchema)?.abort?.errorType, { case: 'httpStatus', value: 555 });
  });
});

describe('bookinfo-gateway.yaml through the ingress gateway', () => {
  const w = routeWorld([PLATFORM, DESTINATION_RULES, read('networking/bookinfo-gateway.yaml')].join('\n---\n'), {
    type: 'router',
    namespace: 'istio-system',
    name: 'istio-ingressgateway-123',
    labels: { istio: 'ingressgateway' },
  });
  it('GET /productpage reaches productpage; /api/v1/products too; / is 404', () => {
    const gw = (path: string): Call => ({ port: 8080, protocol: 'http', callMode: 'gateway', host: 'bookinfo.example.com', path });
    w.expect(gw('/productpage'), { routeConfig: 'http.8080', cluster: 'outbound|9080||productpage.default.svc.cluster.local' });
    w.expect(gw('/api/v1/products/1'), { cluster: 'outbound|9080||productpage.default.svc.cluster.local' });
    w.expect(gw('/'), { error: 'no route' });
  });
});

describe('routes and clusters agree (RDS names only clusters CDS has)', () => {
  const samples = ['virtual-service-all-v1.yaml', 'virtual-service-reviews-jason-v2-v3.yaml', 'virtual-service-reviews-50-v3.yaml', 'virtual-service-ratings-test-delay.yaml'];
  for (const sample of samples) {
    it(`${sample} from productpage and reviews-v2`, () => {
      assert.deepEqual(bookinfo([sample]).missingClusters(), []);
      assert.deepEqual(bookinfo([sample], REVIEWS_V2).missingClusters(), []);
    });
  }
  it('bookinfo-gateway.yaml on the ingress gateway', () => {
    const w = routeWorld([PLATFORM, DESTINATION_RULES, read('networking/bookinfo-gateway.yaml')].join('\n---\n'), { type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' } });
    assert.deepEqual(w.missingClusters(), []);
  });
});
