import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeLabelValue, renderPrometheus, sanitizePrometheusName } from './prometheus-format.js';
import { StatsStore } from './stats-store.js';
import { ISTIO_TAG_SPECIFIERS } from './tag-extractor.js';

/** A minimal exposition-format reader: checks TYPE lines precede their samples and returns samples. */
function parseExposition(text: string): { types: Map<string, string>; samples: { name: string; labels: string; value: number }[] } {
  const types = new Map<string, string>();
  const samples: { name: string; labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (type !== null) {
      assert.ok(!types.has(type[1] ?? ''), `TYPE ${type[1]} declared twice`);
      types.set(type[1] ?? '', type[2] ?? '');
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\} (\S+)$/.exec(line);
    assert.ok(m !== null, `not a sample line: ${line}`);
    const name = m[1] ?? '';
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(family), `sample ${name} before its TYPE line`);
    const value = Number(m[3]);
    assert.ok(!Number.isNaN(value) || m[3] === 'NaN', `bad value in ${line}`);
    samples.push({ name, labels: m[2] ?? '', value });
  }
  return { types, samples };
}

function istioStore(): StatsStore {
  return StatsStore.withStatsConfig(ISTIO_TAG_SPECIFIERS, false);
}

describe('Prometheus exposition', () => {
  it('prints counters, gauges, then histograms, grouped under TYPE lines with Envoy naming', () => {
    const store = istioStore();
    store.counter('cluster.outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_200').add(3);
    store.counter('cluster.xds-grpc;.upstream_rq_200').inc();
    store.gauge('server.live').set(1);
    store.histogram('cluster.xds-grpc;.upstream_cx_connect_ms', [1, 10]).record(4);
    store.labeledCounter('istio_requests_total', ['reporter', 'response_code']).labels('destination', '200').inc();

    assert.equal(
      renderPrometheus(store),
      [
        '# TYPE envoy_cluster_upstream_rq counter',
        'envoy_cluster_upstream_rq{cluster_name="outbound|9080||reviews.default.svc.cluster.local",response_code="200"} 3',
        'envoy_cluster_upstream_rq{cluster_name="xds-grpc",response_code="200"} 1',
        '',
        '# TYPE istio_requests_total counter',
        'istio_requests_total{reporter="destination",response_code="200"} 1',
        '',
        '# TYPE envoy_server_live gauge',
        'envoy_server_live{} 1',
        '',
        '# TYPE envoy_cluster_upstream_cx_connect_ms histogram',
        'envoy_cluster_upstream_cx_connect_ms_bucket{cluster_name="xds-grpc",le="1"} 0',
        'envoy_cluster_upstream_cx_connect_ms_bucket{cluster_name="xds-grpc",le="10"} 1',
        'envoy_cluster_upstream_cx_connect_ms_bucket{cluster_name="xds-grpc",le="+Inf"} 1',
        'envoy_cluster_upstream_cx_connect_ms_sum{cluster_name="xds-grpc"} 4',
        'envoy_cluster_upstream_cx_connect_ms_count{cluster_name="xds-grpc"} 1',
        '',
        '',
      ].join('\n'),
    );
  });

  it("names stats with Envoy's default tags as Envoy does", () => {
    const store = new StatsStore();
    store.counter('cluster.xds-grpc.upstream_rq_2xx').add(5);
    const { types, samples } = parseExposition(renderPrometheus(store));
    assert.equal(types.get('envoy_cluster_upstream_rq_xx'), 'counter');
    assert.deepEqual(samples, [
      {
        name: 'envoy_cluster_upstream_rq_xx',
        labels: 'envoy_response_code_class="2",envoy_cluster_name="xds-grpc"',
        value: 5,
      },
    ]);
  });

  it('prints every default bucket of a histogram, cumulative, plus +Inf, _sum and _count', () => {
    const store = new StatsStore();
    const h = store.labeledHistogram('istio_request_duration_milliseconds', ['reporter']).labels('source');
    for (const v of [3, 30, 3000, 7_200_000]) h.record(v);
    const { types, samples } = parseExposition(renderPrometheus(store));
    assert.equal(types.get('istio_request_duration_milliseconds'), 'histogram');
    const buckets = samples.filter((s) => s.name === 'istio_request_duration_milliseconds_bucket');
    assert.deepEqual(
      buckets.map((b) => /le="([^"]+)"/.exec(b.labels)?.[1]),
      ['0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '30000', '60000',
        '300000', '600000', '1800000', '3600000', '+Inf'],
    );
    assert.deepEqual(
      buckets.map((b) => b.value),
      [0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4],
    );
    assert.ok(buckets.every((b) => b.labels.startsWith('reporter="source",le=')));
    const sum = samples.find((s) => s.name === 'istio_request_duration_milliseconds_sum');
    const count = samples.find((s) => s.name === 'istio_request_duration_milliseconds_count');
    assert.equal(sum?.value, 7_203_033);
    assert.equal(count?.value, 4);
  });

  it('filters by used and by name', () => {
    const store = new StatsStore();
    store.counter('cluster.a.upstream_cx_total').inc();
    store.counter('cluster.a.upstream_cx_none_healthy');
    store.gauge('server.live').set(1);
    const used = parseExposition(renderPrometheus(store, { usedOnly: true }));
    assert.deepEqual([...used.types.keys()], ['envoy_cluster_upstream_cx_total', 'envoy_server_live']);
    const filtered = parseExposition(renderPrometheus(store, { filter: /none_healthy/ }));
    assert.deepEqual([...filtered.types.keys()], ['envoy_cluster_upstream_cx_none_healthy']);
  });

  it('escapes label values and sanitizes names', () => {
    const store = new StatsStore();
    store.labeledCounter('m', ['path']).labels('a"b\\c\nd').inc();
    store.counter('weird-name:with.dots').inc();
    const text = renderPrometheus(store);
    assert.ok(text.includes('m{path="a\\"b\\\\c\\nd"} 1\n'), text);
    assert.ok(text.includes('envoy_weird_name_with_dots{} 1\n'), text);
    parseExposition(text);
    assert.equal(sanitizePrometheusName('a.b-c:d'), 'a_b_c_d');
    assert.equal(escapeLabelValue('plain'), 'plain');
  });

  it('is empty for an empty store', () => {
    assert.equal(renderPrometheus(new StatsStore()), '');
  });
});
