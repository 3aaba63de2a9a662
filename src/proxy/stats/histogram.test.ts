import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_HISTOGRAM_BUCKETS, Histogram, SUPPORTED_QUANTILES } from './histogram.js';

function close(actual: readonly number[], want: readonly number[]): void {
  assert.equal(actual.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const a = actual[i] ?? NaN;
    const w = want[i] ?? NaN;
    if (Number.isNaN(w)) assert.ok(Number.isNaN(a), `index ${i}: want NaN, got ${a}`);
    else assert.ok(Math.abs(a - w) < 1e-9 * Math.max(1, Math.abs(w)), `index ${i}: want ${w}, got ${a}`);
  }
}

describe('histogram buckets', () => {
  it("uses Envoy's default bounds", () => {
    assert.deepEqual(
      [...new Histogram('h').bounds],
      [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000],
    );
  });

  const cases: { name: string; values: number[]; le: number; want: number }[] = [
    { name: 'a value equal to a bound counts in that bucket', values: [1], le: 1, want: 1 },
    { name: 'a value just above a bound does not', values: [1.0001], le: 1, want: 0 },
    { name: 'buckets are cumulative', values: [0.2, 3, 7, 700], le: 10, want: 3 },
    { name: 'zero counts in the first bucket', values: [0], le: 0.5, want: 1 },
    { name: 'values above the last bound only reach +Inf', values: [5_000_000], le: 3_600_000, want: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = new Histogram('h');
      for (const v of c.values) h.record(v);
      const i = DEFAULT_HISTOGRAM_BUCKETS.indexOf(c.le);
      assert.equal(h.cumulativeBucketCounts()[i], c.want);
      assert.equal(h.count, c.values.length);
      assert.equal(h.sum, c.values.reduce((a, b) => a + b, 0));
    });
  }

  it('honours custom bounds', () => {
    const h = new Histogram('h', [1, 2]);
    for (const v of [0.5, 1.5, 3]) h.record(v);
    assert.deepEqual(h.cumulativeBucketCounts(), [1, 2]);
    assert.equal(h.count, 3);
  });
});

describe('histogram quantiles', () => {
  it('are NaN with nothing recorded', () => {
    close(new Histogram('h').cumulativeQuantiles(), SUPPORTED_QUANTILES.map(() => NaN));
  });

  it('interpolate inside the two-significant-digit bin, as Envoy prints a single value 1', () => {
    const h = new Histogram('h');
    h.record(1);
    close(h.cumulativeQuantiles(), [1, 1.025, 1.05, 1.075, 1.09, 1.095, 1.099, 1.0995, 1.0999, 1.1]);
  });

  it('spread over bins of different decades', () => {
    const h = new Histogram('h');
    for (const v of [0.3, 4, 250]) h.record(v);
    const q = h.cumulativeQuantiles();
    assert.ok(Math.abs((q[0] ?? NaN) - 0.3) < 1e-9, `P0 ${q[0]}`);
    assert.ok((q[2] ?? NaN) >= 4 && (q[2] ?? NaN) <= 4.1, `P50 ${q[2]}`);
    assert.ok(Math.abs((q[9] ?? NaN) - 260) < 1e-9, `P100 ${q[9]}`);
  });

  it('keep zeros at zero', () => {
    const h = new Histogram('h');
    h.record(0);
    h.record(0);
    close(h.cumulativeQuantiles(), SUPPORTED_QUANTILES.map(() => 0));
  });

  it('per interval are NaN until a merge, then cover only that interval', () => {
    const h = new Histogram('h');
    h.record(1);
    close(h.intervalQuantiles(), SUPPORTED_QUANTILES.map(() => NaN));
    h.merge();
    assert.equal(h.intervalQuantiles()[0], 1);
    h.record(50);
    h.merge();
    assert.equal(h.intervalQuantiles()[0], 50);
    assert.equal(h.cumulativeQuantiles()[0], 1);
    h.merge();
    close(h.intervalQuantiles(), SUPPORTED_QUANTILES.map(() => NaN));
  });
});
