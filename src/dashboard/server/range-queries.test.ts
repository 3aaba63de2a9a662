// Rates at chart times: the same answer as queries.ts's rate at every point, from one read of the
// samples; the chart's step and rate interval; quantiles per point.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText } from './prometheus-text.js';
import { seriesRate } from './queries.js';
import { BucketRates, chartTimes, RateSum, seriesRateRange } from './range-queries.js';
import { SeriesStore, type Series } from './series-store.js';

const T0 = Date.UTC(2025, 0, 1);
const S = 1000;

/** A counter scraped every 5 s: steady 2/s, a reset at 40 s, a pause (no scrapes) from 60 s to 80 s. */
function counter(): Series {
  const store = new SeriesStore();
  const values: [number, number][] = [[0, 100], [5, 110], [10, 120], [15, 130], [20, 140], [25, 150], [30, 160], [35, 170], [40, 4], [45, 14], [50, 24], [55, 34], [80, 74], [85, 84]];
  for (const [at, v] of values) store.ingest('p', parsePrometheusText(`# TYPE req_total counter\nreq_total ${v}`), T0 + at * S);
  const [s] = store.select('req_total');
  assert.ok(s !== undefined);
  return s;
}

describe('seriesRateRange', () => {
  it("answers queries.ts's rate at every point, a reset and a gap included", () => {
    const s = counter();
    const times = Array.from({ length: 19 }, (_, i) => T0 + i * 5 * S);
    for (const r of [5 * S, 15 * S, 30 * S]) {
      const got = seriesRateRange(s, times, r);
      times.forEach((t, i) => {
        const want = seriesRate(s, r, t);
        assert.equal(Number.isNaN(got[i] ?? NaN) ? undefined : got[i], want, `rate over ${r / S}s at ${(t - T0) / S}s`);
      });
    }
  });

  it('has no rate where fewer than two samples fall in the interval', () => {
    const got = seriesRateRange(counter(), [T0, T0 + 70 * S, T0 + 85 * S], 10 * S);
    assert.deepEqual([...got].map((v) => (Number.isNaN(v) ? null : v)), [null, null, 2]);
  });
});

describe('chartTimes', () => {
  const cases: { name: string; windowMs: number; scrapeMs: number; step: number; rate: number; points: number }[] = [
    { name: '10 minutes at 5 s scrapes: 10 s steps', windowMs: 600 * S, scrapeMs: 5 * S, step: 10 * S, rate: 20 * S, points: 61 },
    { name: '1 minute at 5 s scrapes: a point per scrape', windowMs: 60 * S, scrapeMs: 5 * S, step: 5 * S, rate: 15 * S, points: 13 },
    { name: '1 minute at 1 s scrapes', windowMs: 60 * S, scrapeMs: 1 * S, step: 1 * S, rate: 3 * S, points: 61 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const now = T0 + 12_345;
      const t = chartTimes(c.windowMs, c.scrapeMs, now);
      assert.equal(t.stepMs, c.step);
      assert.equal(t.rateIntervalMs, c.rate);
      assert.equal(t.times.length, c.points);
      const last = t.times[t.times.length - 1] ?? NaN;
      assert.ok(last <= now && now - last < c.step, 'the last point is the latest step boundary');
      assert.equal(last % c.step, 0);
      assert.equal(last - (t.times[0] ?? NaN), c.windowMs - (c.windowMs % c.step));
    });
  }
});

describe('RateSum and BucketRates', () => {
  it('sums where some series has a rate, and leaves the other points empty', () => {
    const sum = new RateSum(3);
    sum.add(Float64Array.from([1, NaN, NaN]));
    sum.add(Float64Array.from([2, 5, NaN]));
    assert.deepEqual(sum.values(), [3, 5, null]);
  });

  it('computes a quantile per point from the summed bucket rates', () => {
    const b = new BucketRates(2);
    // Point 0: 10 observations <= 10 ms, 10 more <= 100; point 1: none.
    b.add('10', Float64Array.from([10, 0]));
    b.add('100', Float64Array.from([20, 0]));
    b.add('+Inf', Float64Array.from([20, 0]));
    b.add('nonsense', Float64Array.from([99, 99]));
    assert.deepEqual(b.quantile(0.5), [10, null]);
    assert.deepEqual(b.quantile(0.75), [55, null]);
  });
});
