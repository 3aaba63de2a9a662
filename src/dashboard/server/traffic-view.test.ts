// A service's and a workload's traffic from scraped Istio metrics: inbound from the receiving proxies'
// reports, outbound from the sending proxies', errors as Kiali counts them, latency quantiles per chart
// point, and the peers over the window.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText } from './prometheus-text.js';
import { SeriesStore } from './series-store.js';
import { buildTrafficView, serviceTraffic, workloadTraffic } from './traffic-view.js';
import type { TrafficView } from '../shared/api-types.js';

const T0 = Date.UTC(2025, 0, 1);
const S = 1000;
const TYPES = '# TYPE istio_requests_total counter\n# TYPE istio_request_duration_milliseconds histogram\n';

const wl = (side: 'source' | 'destination', name: string, app: string): string =>
  `${side}_workload="${name}",${side}_workload_namespace="default",${side}_canonical_service="${app}"`;
const svc = (name: string): string => `destination_service="${name}.default.svc.cluster.local",destination_service_name="${name}",destination_service_namespace="default"`;
const PP = wl('source', 'productpage-v1', 'productpage');
const R1_AS_SOURCE = wl('source', 'reviews-v1', 'reviews');
const OUTSIDE = 'source_workload="unknown",source_workload_namespace="unknown"';

/** [reporter, source, destination, response code, requests per second] */
type Flow = readonly [string, string, string, string, number];

/** Each proxy's counters grow at their flow's rate; scraped every 5 s for 60 s. Duration buckets: half the requests <= 10 ms, all <= 100 ms. */
function store(flows: Readonly<Record<string, readonly Flow[]>>): SeriesStore {
  const st = new SeriesStore();
  for (let t = 0; t <= 60; t += 5) {
    for (const [proxy, list] of Object.entries(flows)) {
      const lines = list.flatMap(([reporter, src, dst, code, rps]) => {
        const l = `reporter="${reporter}",${src},${dst},request_protocol="http",response_code="${code}"`;
        const n = rps * t;
        return [
          `istio_requests_total{${l}} ${n}`,
          `istio_request_duration_milliseconds_bucket{${l},le="10"} ${n / 2}`,
          `istio_request_duration_milliseconds_bucket{${l},le="100"} ${n}`,
          `istio_request_duration_milliseconds_bucket{${l},le="+Inf"} ${n}`,
        ];
      });
      st.ingest(proxy, parsePrometheusText(TYPES + lines.join('\n')), T0 + t * S);
    }
  }
  return st;
}

const BOOKINFO = store({
  'productpage-v1-a.default': [
    ['source', PP, `${svc('reviews')},${wl('destination', 'reviews-v1', 'reviews')}`, '200', 1],
    // Failed before reaching a reviews pod: only the caller reports it.
    ['source', PP, svc('reviews'), '503', 0.25],
    ['source', PP, `${svc('details')},${wl('destination', 'details-v1', 'details')}`, '200', 1],
  ],
  'reviews-v1-a.default': [
    ['destination', PP, `${svc('reviews')},${wl('destination', 'reviews-v1', 'reviews')}`, '200', 1],
    ['source', R1_AS_SOURCE, `${svc('ratings')},${wl('destination', 'ratings-v1', 'ratings')}`, '200', 0.5],
  ],
  'reviews-v2-a.default': [
    ['destination', OUTSIDE, `${svc('reviews')},${wl('destination', 'reviews-v2', 'reviews')}`, '200', 0.5],
    ['destination', OUTSIDE, `${svc('reviews')},${wl('destination', 'reviews-v2', 'reviews')}`, '500', 0.5],
  ],
});

const OPTIONS = { windowMs: 60 * S, scrapeIntervalMs: 5 * S, now: T0 + 60 * S };
const close = (a: number | null | undefined, b: number): boolean => a !== null && a !== undefined && Math.abs(a - b) < 1e-9;
const last = <T>(xs: readonly T[]): T | undefined => xs[xs.length - 1];

describe('buildTrafficView', () => {
  const reviews: TrafficView = buildTrafficView(BOOKINFO, serviceTraffic('default', 'reviews', [{ namespace: 'default', name: 'reviews-v1' }, { namespace: 'default', name: 'reviews-v2' }]), OPTIONS);

  it("charts a service's inbound requests from the receiving proxies' reports", () => {
    assert.equal(reviews.times.length, 13);
    const rps = reviews.inbound.charts.requestsPerSecond;
    assert.equal(rps[0], null, 'nothing before the first two scrapes in the rate interval');
    assert.ok(close(last(rps), 2), `1/s from productpage and 1/s from outside, not the caller-only 503s: ${JSON.stringify(rps)}`);
    assert.ok(close(last(reviews.inbound.charts.errorRate), 0.25), 'the 500s are a quarter of it');
  });

  it('computes latency quantiles per point', () => {
    const { p50, p95, p99 } = reviews.inbound.charts.latencyMs;
    assert.ok(close(last(p50), 10));
    assert.ok(close(last(p95), 10 + 90 * 0.9));
    assert.ok(close(last(p99), 10 + 90 * 0.98));
    assert.equal(p50[0], null);
  });

  it('lists who called, busiest first, with their error rates', () => {
    assert.deepEqual(
      reviews.inbound.peers.map((p) => [p.id, p.kind, +p.requestsPerSecond.toFixed(6), p.errorRate]),
      [['unknown', 'unknown', 1, 0.5], ['workload:default/productpage-v1', 'workload', 1, 0]],
    );
  });

  it("charts a service's outbound traffic as what its workloads send", () => {
    assert.ok(close(last(reviews.outbound.charts.requestsPerSecond), 0.5));
    assert.deepEqual(reviews.outbound.peers.map((p) => p.id), ['service:default/ratings']);
  });

  it("charts a workload's outbound traffic from its own reports, failures before the destination included", () => {
    const pp = buildTrafficView(BOOKINFO, workloadTraffic('default', 'productpage-v1'), OPTIONS);
    assert.ok(close(last(pp.outbound.charts.requestsPerSecond), 2.25));
    assert.ok(close(last(pp.outbound.charts.errorRate), 0.25 / 2.25));
    const peers = pp.outbound.peers.map((p) => [p.id, +p.requestsPerSecond.toFixed(6), p.errorRate === null ? null : +p.errorRate.toFixed(6)]);
    assert.deepEqual(peers, [['service:default/reviews', 1.25, 0.2], ['service:default/details', 1, 0]]);
    assert.deepEqual(pp.inbound.peers, []);
    assert.ok(pp.inbound.charts.requestsPerSecond.every((v) => v === null), 'no inbound series: no data, not zero');
  });
});
