import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sanitizeStatsName, StatsStore } from './stats-store.js';
import { ISTIO_TAG_SPECIFIERS } from './tag-extractor.js';
import { renderPrometheus } from './prometheus-format.js';

describe('stats store handles', () => {
  it('returns the same handle for the same name, so callers keep it', () => {
    const store = new StatsStore();
    const a = store.counter('cluster_manager.cluster_added');
    a.inc();
    const b = store.counter('cluster_manager.cluster_added');
    assert.equal(a, b);
    b.add(2);
    assert.equal(a.value, 3);
  });

  it('keeps counters, gauges and histograms of one name apart', () => {
    const store = new StatsStore();
    store.counter('x').inc();
    store.gauge('x').set(7);
    store.histogram('x').record(1);
    assert.equal(store.counter('x').value, 1);
    assert.equal(store.gauge('x').value, 7);
    assert.equal(store.histogram('x').count, 1);
  });

  it('scopes prefix names with a dot, nested scopes too', () => {
    const store = new StatsStore();
    const cluster = store.scope('cluster.outbound|9080||reviews.default.svc.cluster.local;');
    cluster.counter('upstream_rq_total').inc();
    cluster.scope('outlier_detection').counter('ejections_total').inc();
    assert.equal(store.counter('cluster.outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_total').value, 1);
    assert.equal(
      store.counter('cluster.outbound|9080||reviews.default.svc.cluster.local;.outlier_detection.ejections_total').value,
      1,
    );
  });

  it('marks a stat used on its first write, even of zero', () => {
    const store = new StatsStore();
    const c = store.counter('c');
    const g = store.gauge('g');
    assert.equal(c.used, false);
    c.add(0);
    g.set(0);
    assert.equal(c.used, true);
    assert.equal(g.used, true);
  });

  it('resets counters to zero but keeps them used', () => {
    const store = new StatsStore();
    store.counter('c').inc();
    store.resetCounters();
    assert.equal(store.counter('c').value, 0);
    assert.equal(store.counter('c').used, true);
  });

  it('builds a store from a bootstrap stats_config', () => {
    const store = StatsStore.withStatsConfig(ISTIO_TAG_SPECIFIERS, false);
    const c = store.counter('cluster.xds-grpc;.upstream_cx_total');
    assert.deepEqual(store.tagsOf(c), {
      extractedName: 'cluster.upstream_cx_total',
      tags: [{ name: 'cluster_name', value: 'xds-grpc' }],
    });
    assert.throws(() => StatsStore.withStatsConfig([{ tagName: 'bad', regex: '(' }], false), /stats_config/);
  });
});

describe('labeled families', () => {
  it('cache one child per label values, named as Istio flattens them', () => {
    const store = new StatsStore();
    const requests = store.labeledCounter('istio_requests_total', ['reporter', 'response_code']);
    const ok = requests.labels('destination', '200');
    ok.inc();
    assert.equal(requests.labels('destination', '200'), ok);
    assert.notEqual(requests.labels('destination', '503'), ok);
    assert.equal(ok.name, 'reporter=.=destination;.;response_code=.=200;.;istio_requests_total');
    assert.deepEqual(store.tagsOf(ok), {
      extractedName: 'istio_requests_total',
      tags: [
        { name: 'reporter', value: 'destination' },
        { name: 'response_code', value: '200' },
      ],
    });
  });

  it('does not confuse values that would join to the same text', () => {
    const store = new StatsStore();
    const f = store.labeledCounter('m', ['a', 'b']);
    assert.notEqual(f.labels('x,y', 'z'), f.labels('x', 'y,z'));
  });

  it('counts each label set on its own child when consecutive lookups alternate or differ only in the last value', () => {
    const store = new StatsStore();
    const f = store.labeledCounter('m', ['a', 'b']);
    const seq: [string, string][] = [['x', '200'], ['x', '200'], ['x', '503'], ['x', '200'], ['y', '200'], [`x`, String(200)]];
    for (const [a, b] of seq) f.labels(a, b).inc();
    const counts = [...f.members()].map((c) => [c.family?.labelValues.join('/'), c.value]);
    assert.deepEqual(counts, [['x/200', 4], ['x/503', 1], ['y/200', 1]]);
  });

  it('labelsOf: the caller may refill its values array after each lookup; every child keeps its own values', () => {
    const store = new StatsStore();
    const f = store.labeledCounter('m', ['a', 'b']);
    const values = ['x', '200'];
    f.labelsOf(values).inc();
    values[1] = '503';
    f.labelsOf(values).inc();
    values[1] = '200';
    f.labelsOf(values).inc();
    values[0] = 'y';
    values[1] = '404';
    assert.deepEqual(
      [...f.members()].map((c) => [c.family?.labelValues.join('/'), c.value]),
      [['x/200', 2], ['x/503', 1]],
    );
    assert.equal(f.labelsOf(['x', '503']), f.labels('x', '503'));
  });

  it('fills a missing label value with an empty string instead of failing', () => {
    const store = new StatsStore();
    const f = store.labeledGauge('g', ['a', 'b']);
    assert.deepEqual(f.labels('only').family?.labelValues, ['only', '']);
  });

  it('returns the registered family again, and refuses one of another kind under the same name', () => {
    const store = new StatsStore();
    const a = store.labeledHistogram('istio_request_duration_milliseconds', ['reporter']);
    assert.equal(store.labeledHistogram('istio_request_duration_milliseconds', ['reporter']), a);
    assert.throws(() => store.labeledCounter('istio_request_duration_milliseconds', ['reporter']), /already registered/);
    assert.throws(() => store.labeledCounter('istio_request_duration_milliseconds', ['x']), /already registered/);
  });

  it('keeps several label lists under one name (a Telemetry override that removes a tag on one listener class)', () => {
    const store = new StatsStore();
    store.labeledCounter('istio_requests_total', ['reporter', 'request_protocol']).labels('source', 'http').inc();
    store.labeledCounter('istio_requests_total', ['reporter']).labels('destination').add(2);
    const text = renderPrometheus(store);
    assert.equal(text.match(/# TYPE istio_requests_total counter/g)?.length, 1);
    assert.match(text, /istio_requests_total\{reporter="source",request_protocol="http"\} 1/);
    assert.match(text, /istio_requests_total\{reporter="destination"\} 2/);
  });

  const badNames: [string, string, string[]][] = [
    ['metric name with a dot', 'istio.requests', ['a']],
    ['metric name starting with a digit', '1requests', []],
    ['label name with a dash', 'ok_name', ['source-workload']],
    ['reserved label name', 'ok_name', ['__name']],
    ['duplicate label', 'ok_name', ['a', 'a']],
  ];
  for (const [name, promName, labels] of badNames) {
    it(`rejects a ${name}`, () => {
      assert.throws(() => new StatsStore().labeledCounter(promName, labels), /metric family/);
    });
  }

  it('lists family members with the plain stats', () => {
    const store = new StatsStore();
    store.counter('plain').inc();
    store.labeledCounter('fam', ['l']).labels('v').inc();
    assert.deepEqual(
      [...store.counters()].map((c) => c.name),
      ['plain', 'l=.=v;.;fam'],
    );
  });
});

describe('sanitizeStatsName', () => {
  const cases: [string, string][] = [
    ['10.0.0.1:8080', '10.0.0.1_8080'],
    ['[::1]:80', '[__1]_80'],
    ['.a..b.', 'a.b'],
  ];
  for (const [input, want] of cases) it(`${input} -> ${want}`, () => assert.equal(sanitizeStatsName(input), want));
});
