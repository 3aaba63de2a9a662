import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeClock } from '../../../test/support/xds-server/fake-clock.js';
import { createMetricsApi, parseDurationMs } from './metrics-api.js';
import { parsePrometheusText } from './prometheus-text.js';
import { SeriesStore } from './series-store.js';

const clock = new FakeClock();
const T0 = clock.now();
const store = new SeriesStore();
const text = (k: number) => `# TYPE istio_requests_total counter
# TYPE istio_request_duration_milliseconds histogram
istio_requests_total{reporter="destination",destination_workload="reviews-v2",response_code="200"} ${10 * k}
istio_requests_total{reporter="destination",destination_workload="reviews-v2",response_code="500"} ${2 * k}
istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload="reviews-v2",le="10"} ${6 * k}
istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload="reviews-v2",le="+Inf"} ${12 * k}
`;
store.ingest('reviews-v2.default', parsePrometheusText(text(0)), T0 - 10_000);
store.ingest('reviews-v2.default', parsePrometheusText(text(1)), T0);

let server: Server;
let base = '';
before(async () => {
  const api = createMetricsApi({ store, clock });
  server = createServer((req, res) => {
    if (!api(req, res)) {
      res.writeHead(418);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(base + path);
  return { status: res.status, body: await res.text() };
}

describe('metrics API', () => {
  it('answers rates summed by labels', async () => {
    const r = await get('/api/metrics/rate?metric=istio_requests_total&labels=' + encodeURIComponent('reporter="destination"') + '&by=response_code&window=1m');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), [{ labels: { response_code: '200' }, value: 1 }, { labels: { response_code: '500' }, value: 0.2 }]);
  });

  it('answers histogram quantiles', async () => {
    const r = await get('/api/metrics/quantile?metric=istio_request_duration_milliseconds&q=0.25&window=30s');
    assert.deepEqual(JSON.parse(r.body), [{ labels: {}, value: 5 }]);
  });

  it('lists series with their samples, names and the store status', async () => {
    const series = JSON.parse((await get('/api/metrics/series?metric=istio_requests_total&labels=' + encodeURIComponent('response_code="500"'))).body) as unknown;
    assert.deepEqual(series, [{ metric: 'istio_requests_total', labels: { reporter: 'destination', destination_workload: 'reviews-v2', response_code: '500' }, proxy: 'reviews-v2.default', samples: [[T0 - 10_000, 0], [T0, 2]] }]);
    assert.deepEqual(JSON.parse((await get('/api/metrics/names')).body), [
      { metric: 'istio_request_duration_milliseconds_bucket', series: 2 },
      { metric: 'istio_requests_total', series: 2 },
    ]);
    const status = JSON.parse((await get('/api/metrics')).body) as { store: { series: number }; scrape: null };
    assert.equal(status.store.series, 4);
    assert.equal(status.scrape, null);
  });

  it('answers the service graph', async () => {
    const g = JSON.parse((await get('/api/metrics/graph?window=1m')).body) as { windowMs: number; edges: unknown[] };
    assert.equal(g.windowMs, 60_000);
    assert.ok(Array.isArray(g.edges));
  });

  const bad: [string, RegExp][] = [
    ['/api/metrics/rate', /^missing metric/],
    ['/api/metrics/rate?metric=a-b', /^invalid metric "a-b"/],
    ['/api/metrics/rate?metric=m&window=5x', /^invalid window "5x"/],
    ['/api/metrics/rate?metric=m&window=1h', /^invalid window "1h": longer than the 600s/],
    ['/api/metrics/rate?metric=m&labels=a%3Db', /^invalid labels "a=b": the value of a must be quoted/],
    ['/api/metrics/rate?metric=m&by=a,b-c', /^invalid by "a,b-c"/],
    ['/api/metrics/quantile?metric=m', /^invalid q ""/],
    ['/api/metrics/quantile?metric=m&q=95', /^invalid q "95"/],
    ['/api/metrics/graph?window=0s', /^invalid window "0s"/],
  ];
  for (const [path, message] of bad) {
    it(`400 naming the parameter: ${path}`, async () => {
      const r = await get(path);
      assert.equal(r.status, 400);
      assert.match(r.body, message);
    });
  }

  it('404 for an unknown metrics path; other paths are not its business', async () => {
    assert.equal((await get('/api/metrics/nope')).status, 404);
    assert.equal((await get('/api/metricsx')).status, 418);
    assert.equal((await get('/metrics')).status, 418);
  });
});

describe('parseDurationMs', () => {
  for (const [s, ms] of [['500ms', 500], ['30s', 30_000], ['1m', 60_000], ['1h30m', 5_400_000], ['1.5s', 1500], ['0s', undefined], ['1', undefined], ['m', undefined]] as const) {
    it(`"${s}"`, () => assert.equal(parseDurationMs(s), ms));
  }
});
