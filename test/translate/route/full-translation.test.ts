// The routes as Envoy meets them: full translate() output (real listeners, routes and clusters) for Istio's
// Bookinfo, simulated request by request with every routed cluster required to exist in CDS. The other route
// tests use minimal listeners so that they do not depend on the listener builder; this one checks that the
// builders agree on names end to end.

import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { translate } from '../../../src/translate/translate.js';
import { meshFromYaml, testProxy } from '../../support/mesh.js';
import { expectRoute } from '../../support/simulate.js';

const CORPUS = new URL('../../../../shared/corpus/istio-bookinfo/', import.meta.url);
const yaml = ['platform/kube/bookinfo.yaml', 'networking/destination-rule-all.yaml', 'networking/virtual-service-reviews-jason-v2-v3.yaml', 'networking/bookinfo-gateway.yaml']
  .map((f) => readFileSync(new URL(f, CORPUS), 'utf8'))
  .join('\n---\n');
const { snapshot } = meshFromYaml(yaml);
const REVIEWS_V2 = 'outbound|9080|v2|reviews.default.svc.cluster.local';
const REVIEWS_V3 = 'outbound|9080|v3|reviews.default.svc.cluster.local';

describe('Bookinfo through the full translation', () => {
  it('productpage sidecar: jason to reviews v2, others v3, unknown hosts pass through', () => {
    const res = translate(snapshot, testProxy({ labels: { app: 'productpage', version: 'v1' }, name: 'productpage-v1' }));
    expectRoute(res, { port: 9080, protocol: 'http', host: 'reviews:9080', path: '/reviews/0', headers: { 'end-user': 'jason' } }, { routeConfig: '9080', cluster: REVIEWS_V2 });
    expectRoute(res, { port: 9080, protocol: 'http', host: 'reviews:9080', path: '/reviews/0' }, { routeConfig: '9080', cluster: REVIEWS_V3 });
    expectRoute(res, { port: 9080, protocol: 'http', host: 'details:9080' }, { virtualHost: 'details.default.svc.cluster.local:9080', cluster: 'outbound|9080||details.default.svc.cluster.local' });
    expectRoute(res, { port: 9080, protocol: 'http', host: 'example.com' }, { virtualHost: 'allow_any', cluster: 'PassthroughCluster' });
  });

  it('ingress gateway: /productpage on http.8080', () => {
    const res = translate(snapshot, testProxy({ type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' }, name: 'istio-ingressgateway-1' }));
    expectRoute(res, { port: 8080, protocol: 'http', callMode: 'gateway', host: 'bookinfo.example.com', path: '/productpage' }, {
      routeConfig: 'http.8080',
      virtualHost: '*:8080',
      cluster: 'outbound|9080||productpage.default.svc.cluster.local',
    });
  });

  it('proxyless gRPC client: xds:///reviews.default.svc.cluster.local:9080 with end-user jason', () => {
    const res = translate(snapshot, testProxy({ type: 'proxyless', labels: { app: 'productpage' }, name: 'productpage-grpc' }));
    expectRoute(res, { port: 9080, protocol: 'grpc', callMode: 'proxyless', host: 'reviews.default.svc.cluster.local', headers: { 'end-user': 'jason' } }, {
      routeConfig: 'outbound|9080||reviews.default.svc.cluster.local',
      cluster: REVIEWS_V2,
    });
  });
});
