import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText } from './prometheus-text.js';
import { labelMatcher } from './label-matchers.js';
import { seriesRate } from './queries.js';
import { SampleRing } from './sample-ring.js';
import { SeriesStore } from './series-store.js';

const T0 = Date.UTC(2025, 0, 1);
const scrape = (text: string) => parsePrometheusText(`# TYPE req_total counter\n# TYPE live gauge\n${text}`);
const samplesOf = (ring: SampleRing): [number, number][] => {
  const out: [number, number][] = [];
  ring.forEachIn(-Infinity, Infinity, (t, v) => out.push([t - T0, v]));
  return out;
};

describe('SeriesStore', () => {
  it('keys a series by name, labels in any order, and proxy', () => {
    const store = new SeriesStore();
    store.ingest('a.default', scrape('req_total{x="1",y="2"} 1'), T0);
    store.ingest('a.default', scrape('req_total{y="2",x="1"} 2'), T0 + 1000);
    store.ingest('b.default', scrape('req_total{x="1",y="2"} 5'), T0 + 1000);
    const series = store.select('req_total');
    assert.deepEqual(series.map((s) => [s.proxy, samplesOf(s.samples)]), [
      ['a.default', [[0, 1], [1000, 2]]],
      ['b.default', [[1000, 5]]],
    ]);
    assert.deepEqual(store.select('req_total', [labelMatcher('x', '=', '1'), labelMatcher('y', '=~', '[0-9]')]).length, 2);
    assert.deepEqual(store.select('req_total', [labelMatcher('z', '=', '')]).length, 2, 'a missing label is ""');
    assert.deepEqual(store.select('req_total', [labelMatcher('x', '!=', '1')]).length, 0);
  });

  it('drops samples older than the retention, then the series left empty', () => {
    const store = new SeriesStore({ retentionMs: 60_000 });
    store.ingest('a', scrape('req_total 1\nlive 1'), T0);
    store.ingest('a', scrape('req_total 2'), T0 + 30_000);
    store.prune(T0 + 60_000);
    assert.equal(store.stats().series, 2, 'nothing is older than 60 s yet');
    store.prune(T0 + 61_000);
    assert.deepEqual(store.metrics(), [{ metric: 'req_total', series: 1 }], 'the gauge had only its first sample');
    assert.deepEqual(samplesOf(store.select('req_total')[0]?.samples as SampleRing), [[30_000, 2]]);
    store.prune(T0 + 91_000);
    assert.deepEqual(store.stats(), { series: 0, samples: 0, maxSeries: 20_000, retentionMs: 60_000, droppedSeries: 0 });
  });

  it('refuses new series beyond maxSeries, counts them, and keeps updating the stored ones', () => {
    const store = new SeriesStore({ maxSeries: 2 });
    assert.deepEqual(store.ingest('a', scrape('req_total{n="1"} 1\nreq_total{n="2"} 1\nreq_total{n="3"} 1'), T0), { added: 2, updated: 0, dropped: 1 });
    assert.deepEqual(store.ingest('a', scrape('req_total{n="1"} 2\nreq_total{n="2"} 2\nreq_total{n="3"} 2'), T0 + 1000), { added: 0, updated: 2, dropped: 1 });
    assert.deepEqual(store.select('req_total').map((s) => s.labels['n']), ['1', '2']);
    assert.equal(store.stats().droppedSeries, 2);
    // Once a series ages out there is room again.
    store.ingest('a', scrape('req_total{n="1"} 3'), T0 + 700_000);
    store.prune(T0 + 700_000);
    assert.deepEqual(store.ingest('a', scrape('req_total{n="3"} 3'), T0 + 701_000), { added: 1, updated: 0, dropped: 0 });
  });

  it('keeps at most maxSamplesPerSeries samples, overwriting the oldest', () => {
    const store = new SeriesStore({ maxSamplesPerSeries: 3 });
    for (let i = 0; i < 5; i++) store.ingest('a', scrape(`req_total ${i}`), T0 + i * 1000);
    assert.deepEqual(samplesOf(store.select('req_total')[0]?.samples as SampleRing), [[2000, 2], [3000, 3], [4000, 4]]);
  });

  it('starts a counter that appears on an already scraped proxy from 0 at the previous scrape', () => {
    const store = new SeriesStore();
    store.ingest('a', scrape('live 1'), T0);
    store.ingest('a', scrape('live 1\nreq_total{code="503"} 3\n'), T0 + 5000);
    store.ingest('b', scrape('req_total{code="200"} 7'), T0 + 5000);
    const [a, b] = store.select('req_total');
    assert.deepEqual(samplesOf(a?.samples as SampleRing), [[0, 0], [5000, 3]]);
    assert.equal(seriesRate(a as NonNullable<typeof a>, 60_000, T0 + 5000), 0.6, 'the 3 requests that created it count');
    assert.deepEqual(samplesOf(b?.samples as SampleRing), [[5000, 7]], 'a proxy seen for the first time: its history is unknown');
    assert.deepEqual(samplesOf(store.select('live')[0]?.samples as SampleRing), [[0, 1], [5000, 1]]);
  });

  it('keeps a sample\'s own timestamp and ignores one that goes back in time', () => {
    const store = new SeriesStore();
    store.ingest('a', scrape(`req_total 1 ${T0 + 10}`), T0 + 500);
    store.ingest('a', scrape(`req_total 2 ${T0 + 5}`), T0 + 1000);
    assert.deepEqual(samplesOf(store.select('req_total')[0]?.samples as SampleRing), [[10, 1]]);
  });
});

describe('SampleRing', () => {
  it('grows up to its capacity, then wraps', () => {
    const r = new SampleRing(20);
    for (let i = 1; i <= 25; i++) r.push(i, i * 10);
    assert.equal(r.length, 20);
    const seen: number[] = [];
    r.forEachIn(8, 12, (t) => seen.push(t));
    assert.deepEqual(seen, [8, 9, 10, 11, 12]);
    r.dropBefore(24);
    assert.equal(r.length, 2);
    assert.equal(r.lastTime, 25);
  });
});
