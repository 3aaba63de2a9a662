import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isCumulative, parsePrometheusText, parsePromValue } from './prometheus-text.js';

const PROXY_OUTPUT = `# TYPE envoy_cluster_upstream_rq counter
envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="outbound|9080||reviews.default.svc.cluster.local"} 7
# TYPE istio_requests_total counter
istio_requests_total{reporter="destination",source_workload="productpage-v1",response_code="200",response_flags="-"} 4
istio_requests_total{reporter="source",source_workload="productpage-v1",response_code="503",response_flags="UH"} 1

# TYPE istio_request_duration_milliseconds histogram
istio_request_duration_milliseconds_bucket{reporter="destination",le="0.5"} 0
istio_request_duration_milliseconds_bucket{reporter="destination",le="1"} 2
istio_request_duration_milliseconds_bucket{reporter="destination",le="+Inf"} 4
istio_request_duration_milliseconds_sum{reporter="destination"} 6.5
istio_request_duration_milliseconds_count{reporter="destination"} 4
`;

describe('parsePrometheusText', () => {
  it('reads counters and histograms as proxies print them, keeping only the names asked for', () => {
    const r = parsePrometheusText(PROXY_OUTPUT, (n) => n.startsWith('istio_'));
    assert.deepEqual(r.issues, []);
    assert.deepEqual([...r.types], [['istio_requests_total', 'counter'], ['istio_request_duration_milliseconds', 'histogram']]);
    assert.equal(r.samples.length, 7);
    assert.deepEqual(r.samples[0], { name: 'istio_requests_total', labels: { reporter: 'destination', source_workload: 'productpage-v1', response_code: '200', response_flags: '-' }, value: 4 });
    assert.deepEqual(r.samples[4], { name: 'istio_request_duration_milliseconds_bucket', labels: { reporter: 'destination', le: '+Inf' }, value: 4 });
    assert.equal(r.samples[5]?.value, 6.5);
  });

  const lines: { name: string; text: string; labels?: Record<string, string>; value?: number; timestampMs?: number }[] = [
    { name: 'no labels', text: 'up 1', labels: {}, value: 1 },
    { name: 'empty braces', text: 'up{} 1', labels: {}, value: 1 },
    { name: 'escaped quote, backslash and newline', text: 'm{a="say \\"hi\\"",b="c:\\\\x",c="l1\\nl2"} 2', labels: { a: 'say "hi"', b: 'c:\\x', c: 'l1\nl2' }, value: 2 },
    { name: 'commas and braces inside a value', text: 'm{path="/a,b}{"} 3', labels: { path: '/a,b}{' }, value: 3 },
    { name: 'trailing comma and spaces', text: 'm{ a = "1" , } 4', labels: { a: '1' }, value: 4 },
    { name: 'a timestamp', text: 'm{a="1"} 5 1700000000000', labels: { a: '1' }, value: 5, timestampMs: 1700000000000 },
    { name: 'scientific notation', text: 'm 1.5e3', labels: {}, value: 1500 },
    { name: '+Inf', text: 'm +Inf', labels: {}, value: Infinity },
    { name: '-Inf', text: 'm -Inf', labels: {}, value: -Infinity },
    { name: 'tabs between fields', text: 'm{a="1"}\t6', labels: { a: '1' }, value: 6 },
  ];
  for (const c of lines) {
    it(`parses a sample with ${c.name}`, () => {
      const r = parsePrometheusText(c.text);
      assert.deepEqual(r.issues, []);
      assert.deepEqual(r.samples, [{ name: c.text.split(/[{ \t]/)[0], labels: c.labels, value: c.value, ...(c.timestampMs !== undefined ? { timestampMs: c.timestampMs } : {}) }]);
    });
  }

  it('reads NaN', () => {
    assert.ok(Number.isNaN(parsePrometheusText('m NaN').samples[0]?.value));
  });

  const bad: { name: string; text: string; message: RegExp }[] = [
    { name: 'an unquoted value', text: 'm{a=1} 1', message: /quoted value for label a/ },
    { name: 'an unterminated value', text: 'm{a="1} 1', message: /unterminated value for label a/ },
    { name: 'a bad escape', text: 'm{a="\\t"} 1', message: /invalid escape/ },
    { name: 'a missing value', text: 'm{a="1"}', message: /no value for m/ },
    { name: 'a non-number value', text: 'm 12abc', message: /invalid value "12abc"/ },
    { name: 'a duplicate label', text: 'm{a="1",a="2"} 1', message: /label a appears twice/ },
    { name: 'text after the timestamp', text: 'm 1 2 3', message: /unexpected text/ },
  ];
  for (const c of bad) {
    it(`reports ${c.name} with its line number and keeps the other lines`, () => {
      const r = parsePrometheusText(`ok 1\n${c.text}\nok 2`);
      assert.deepEqual(r.samples.map((s) => s.value), [1, 2]);
      assert.equal(r.issues.length, 1);
      assert.equal(r.issues[0]?.line, 2);
      assert.match(r.issues[0]?.message ?? '', c.message);
    });
  }

  it('skips comments, HELP lines and blank lines', () => {
    const r = parsePrometheusText('# HELP m the help\n# a comment\n\n   \nm 1\n');
    assert.deepEqual(r.samples, [{ name: 'm', labels: {}, value: 1 }]);
    assert.deepEqual(r.issues, []);
  });
});

describe('isCumulative', () => {
  const types = parsePrometheusText(PROXY_OUTPUT).types;
  const cases: [string, boolean][] = [
    ['istio_requests_total', true],
    ['envoy_cluster_upstream_rq', true],
    ['istio_request_duration_milliseconds_bucket', true],
    ['istio_request_duration_milliseconds_sum', true],
    ['istio_request_duration_milliseconds_count', true],
    ['envoy_server_live', false],
    ['untyped_things_total', true],
  ];
  for (const [name, want] of cases) it(`${name}: ${want}`, () => assert.equal(isCumulative(name, new Map([...types, ['envoy_server_live', 'gauge']])), want));
});

describe('parsePromValue', () => {
  for (const [s, v] of [['1', 1], ['-2.5', -2.5], ['.5', 0.5], ['1e-3', 0.001], ['+Inf', Infinity], ['x', undefined], ['', undefined]] as const) {
    it(`"${s}"`, () => assert.equal(parsePromValue(s), v));
  }
});
