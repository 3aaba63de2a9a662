import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText } from './prometheus-text.js';
import { SeriesStore } from './series-store.js';
import { buildServiceGraph, type GraphEdge } from './service-graph.js';

const T0 = Date.UTC(2025, 0, 1);
const S = 1000;

const PP = 'source_workload="productpage-v1",source_workload_namespace="default",source_app="productpage",source_version="v1"';
const REVIEWS = 'destination_service="reviews.default.svc.cluster.local",destination_service_name="reviews",destination_service_namespace="default",destination_workload="reviews-v2",destination_workload_namespace="default",destination_app="reviews",destination_version="v2"';
const RATINGS_NO_ENDPOINT = 'destination_service="ratings.default.svc.cluster.local",destination_service_name="ratings",destination_service_namespace="default",destination_workload="unknown",destination_workload_namespace="unknown"';
const INGRESS_UNKNOWN = 'source_workload="unknown",source_workload_namespace="unknown"';

function req(reporter: string, src: string, dst: string, code: string, flags: string, csp: string, v: number): string {
  return `istio_requests_total{reporter="${reporter}",${src},${dst},request_protocol="http",response_code="${code}",response_flags="${flags}",connection_security_policy="${csp}"} ${v}`;
}

function buckets(reporter: string, src: string, dst: string, code: string, counts: [number, number, number]): string {
  return ['10', '100', '+Inf'].map((le, i) => `istio_request_duration_milliseconds_bucket{reporter="${reporter}",${src},${dst},response_code="${code}",le="${le}"} ${counts[i]}`).join('\n');
}

const TYPES = '# TYPE istio_requests_total counter\n# TYPE istio_request_duration_milliseconds histogram\n# TYPE istio_tcp_sent_bytes_total counter\n';

/** productpage's sidecar (source reports) and reviews' (destination reports), scraped at 0 and 10 s. */
function bookinfo(): SeriesStore {
  const store = new SeriesStore();
  const client = (k: number) =>
    [
      req('source', PP, REVIEWS, '200', '-', 'unknown', 18 * k),
      req('source', PP, REVIEWS, '503', 'UF', 'unknown', 2 * k),
      req('source', PP, RATINGS_NO_ENDPOINT, '503', 'UH', 'unknown', 5 * k),
      buckets('source', PP, REVIEWS, '200', [9 * k, 18 * k, 18 * k]),
      buckets('source', PP, REVIEWS, '503', [2 * k, 2 * k, 2 * k]),
      `istio_tcp_sent_bytes_total{reporter="source",${PP},${REVIEWS},connection_security_policy="unknown"} ${1000 * k}`,
    ].join('\n');
  const server = (k: number) =>
    [
      req('destination', PP, REVIEWS, '200', '-', 'mutual_tls', 18 * k),
      // Traffic from outside the mesh: only the destination knows of it.
      req('destination', INGRESS_UNKNOWN, REVIEWS, '200', '-', 'none', 10 * k),
      req('destination', INGRESS_UNKNOWN, REVIEWS, '404', '-', 'none', 10 * k),
      `istio_tcp_sent_bytes_total{reporter="destination",${PP},${REVIEWS},connection_security_policy="mutual_tls"} ${1000 * k}`,
    ].join('\n');
  for (const k of [0, 1]) {
    store.ingest('productpage-v1.default', parsePrometheusText(TYPES + client(k)), T0 + k * 10 * S);
    store.ingest('reviews-v2.default', parsePrometheusText(TYPES + server(k)), T0 + k * 10 * S);
  }
  return store;
}

const edge = (edges: readonly GraphEdge[], id: string): GraphEdge => {
  const e = edges.find((x) => x.id === id);
  assert.ok(e !== undefined, `no edge ${id} in ${edges.map((x) => x.id).join(', ')}`);
  return e;
};

describe('buildServiceGraph', () => {
  const g = buildServiceGraph(bookinfo(), { windowMs: 60 * S, now: T0 + 10 * S });

  it('has workload and service nodes, and unknown for sources without a proxy', () => {
    assert.deepEqual(g.nodes.map((n) => n.id), ['service:default/ratings', 'service:default/reviews', 'unknown', 'workload:default/productpage-v1', 'workload:default/reviews-v2']);
    assert.deepEqual(g.nodes.find((n) => n.id === 'workload:default/productpage-v1'), { id: 'workload:default/productpage-v1', kind: 'workload', namespace: 'default', name: 'productpage-v1', app: 'productpage', version: 'v1' });
    assert.equal(g.nodes.find((n) => n.id === 'service:default/reviews')?.host, 'reviews.default.svc.cluster.local');
  });

  it('takes the traffic of meshed sources from their own (source) reports, errors being 4xx/5xx', () => {
    const e = edge(g.edges, 'workload:default/productpage-v1 -> service:default/reviews (http)');
    assert.equal(e.requestsPerSecond, 2);
    assert.equal(e.errorsPerSecond, 0.2);
    assert.equal(e.errorRate, 0.1);
    assert.deepEqual(e.responses, { '200': { '-': 1.8 }, '503': { UF: 0.2 } });
  });

  it('reports the p95 of the 2xx requests only', () => {
    // 18 ok requests over 10 s: 9 <= 10 ms, 9 in (10, 100]: rank 17.1 -> 10 + 90 * (8.1 / 9).
    const e = edge(g.edges, 'workload:default/productpage-v1 -> service:default/reviews (http)');
    assert.ok(Math.abs((e.p95LatencyMs ?? NaN) - 91) < 1e-9, String(e.p95LatencyMs));
  });

  it('marks mTLS from the destination reports, as the share of the edge secured', () => {
    const fromPp = edge(g.edges, 'workload:default/productpage-v1 -> service:default/reviews (http)');
    assert.equal(fromPp.mtls, true);
    assert.equal(fromPp.mtlsPercent, 100);
    const toWorkload = edge(g.edges, 'service:default/reviews -> workload:default/reviews-v2 (http)');
    // 1.8/s mutual from productpage, 2/s plaintext from outside.
    assert.ok(Math.abs((toWorkload.mtlsPercent ?? NaN) - (1.8 / 3.8) * 100) < 1e-9);
    assert.equal(toWorkload.requestsPerSecond, 2 + 2, 'productpage (source-reported) plus outside (destination-reported)');
  });

  it('takes traffic from unknown sources from the destination reports', () => {
    const e = edge(g.edges, 'unknown -> service:default/reviews (http)');
    assert.equal(e.requestsPerSecond, 2);
    assert.equal(e.errorRate, 0.5, '404s are errors, as in Kiali');
    assert.equal(e.mtls, false);
    assert.equal(e.mtlsPercent, 0);
  });

  it('stops at the service when no workload answered (UH)', () => {
    const e = edge(g.edges, 'workload:default/productpage-v1 -> service:default/ratings (http)');
    assert.equal(e.errorRate, 1);
    assert.deepEqual(e.responses, { '503': { UH: 0.5 } });
    assert.equal(e.p95LatencyMs, null);
    assert.equal(e.mtlsPercent, null, 'no destination reported it');
    assert.equal(g.edges.some((x) => x.source === 'service:default/ratings'), false);
  });

  it('adds TCP edges in bytes per second', () => {
    const e = edge(g.edges, 'workload:default/productpage-v1 -> service:default/reviews (tcp)');
    assert.equal(e.bytesPerSecond, 100);
    assert.equal(e.errorRate, null);
    assert.equal(e.mtls, true, 'from the destination-reported TCP series');
  });

  it('leaves out edges without traffic in the window, and filters by namespace', () => {
    assert.deepEqual(buildServiceGraph(bookinfo(), { windowMs: 5 * S, now: T0 + 10 * S }).edges, []);
    assert.deepEqual(buildServiceGraph(bookinfo(), { windowMs: 60 * S, now: T0 + 10 * S, namespace: 'other' }).edges, []);
    assert.equal(buildServiceGraph(bookinfo(), { windowMs: 60 * S, now: T0 + 10 * S, namespace: 'default' }).edges.length, g.edges.length);
  });
});
