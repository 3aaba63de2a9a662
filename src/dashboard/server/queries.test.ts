import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { histogramQuantile } from './histogram-quantile.js';
import { labelMatcher, parseLabelMatchers } from './label-matchers.js';
import { parsePrometheusText } from './prometheus-text.js';
import { quantileBy, rateBy } from './queries.js';
import { SeriesStore } from './series-store.js';

const T0 = Date.UTC(2025, 0, 1);
const S = 1000;

/** One scrape per element of `values`, 10 s apart, of `text` with `$v` replaced per series index. */
function storeOf(scrapes: { proxy: string; at: number; text: string }[]): SeriesStore {
  const store = new SeriesStore();
  for (const s of scrapes) store.ingest(s.proxy, parsePrometheusText(`# TYPE req_total counter\n# TYPE dur histogram\n${s.text}`), T0 + s.at);
  return store;
}

describe('rateBy', () => {
  it('counts a drop as a counter reset: the new value is all increase', () => {
    // 10 -> 40 (+30), reset -> 5 (+5), 5 -> 25 (+20): 55 over 30 s.
    const store = storeOf([10, 40, 5, 25].map((v, i) => ({ proxy: 'a', at: i * 10 * S, text: `req_total ${v}` })));
    const [g] = rateBy(store, 'req_total', [], 60 * S, T0 + 30 * S);
    assert.equal(g?.value, 55 / 30);
  });

  const cases: { name: string; windowMs: number; now: number; want: number | undefined }[] = [
    { name: 'all samples in a wide window', windowMs: 60 * S, now: 30 * S, want: 55 / 30 },
    { name: 'only the samples inside the window (20 s ago and newer)', windowMs: 20 * S, now: 30 * S, want: 25 / 20 },
    { name: 'no rate from a single sample', windowMs: 5 * S, now: 30 * S, want: undefined },
    { name: 'the window ends at `now`', windowMs: 10 * S, now: 10 * S, want: 3 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const store = storeOf([10, 40, 5, 25].map((v, i) => ({ proxy: 'a', at: i * 10 * S, text: `req_total ${v}` })));
      assert.deepEqual(rateBy(store, 'req_total', [], c.windowMs, T0 + c.now), c.want === undefined ? [] : [{ labels: {}, value: c.want }]);
    });
  }

  it('sums the series of every proxy by the chosen labels, after the matchers', () => {
    const store = storeOf([
      { proxy: 'p1', at: 0, text: 'req_total{code="200",dst="reviews"} 0\nreq_total{code="503",dst="reviews"} 0\nreq_total{code="200",dst="ratings"} 0' },
      { proxy: 'p2', at: 0, text: 'req_total{code="200",dst="reviews"} 100' },
      { proxy: 'p1', at: 10 * S, text: 'req_total{code="200",dst="reviews"} 20\nreq_total{code="503",dst="reviews"} 5\nreq_total{code="200",dst="ratings"} 10' },
      { proxy: 'p2', at: 10 * S, text: 'req_total{code="200",dst="reviews"} 130' },
    ]);
    const now = T0 + 10 * S;
    assert.deepEqual(rateBy(store, 'req_total', [], 60 * S, now, ['dst']), [
      { labels: { dst: 'ratings' }, value: 1 },
      { labels: { dst: 'reviews' }, value: 2 + 0.5 + 3 },
    ]);
    assert.deepEqual(rateBy(store, 'req_total', parseLabelMatchers('dst="reviews",code=~"5.."'), 60 * S, now), [{ labels: {}, value: 0.5 }]);
    assert.deepEqual(rateBy(store, 'req_total', [labelMatcher('dst', '=', 'nope')], 60 * S, now), []);
    assert.deepEqual(rateBy(store, 'req_total', [], 60 * S, now, ['code', 'missing']).map((g) => g.labels), [
      { code: '200', missing: '' },
      { code: '503', missing: '' },
    ]);
  });
});

describe('quantileBy', () => {
  // Over 10 s: 2 requests <= 10 ms, 4 more <= 50, 3 more <= 100, 1 slower; bucket rates 0.2, 0.6, 0.9, 1.0 /s.
  const bucketScrape = (at: number, c: [number, number, number, number], extra = '') => ({
    proxy: 'a',
    at,
    text: [`dur_bucket{le="10"${extra}} ${c[0]}`, `dur_bucket{le="50"${extra}} ${c[1]}`, `dur_bucket{le="100"${extra}} ${c[2]}`, `dur_bucket{le="+Inf"${extra}} ${c[3]}`].join('\n'),
  });
  const store = storeOf([bucketScrape(0, [0, 0, 0, 0]), bucketScrape(10 * S, [2, 6, 9, 10])]);
  const cases: [number, number | null][] = [
    [0.1, 5], // rank 1 in (0, 10]: 0 + 10 * 1/2
    [0.5, 40], // rank 5 in (10, 50]: 10 + 40 * (5-2)/4
    [0.9, 100], // rank 9 reaches the top of (50, 100]
    [0.95, 100], // rank 9.5 is in +Inf: the last finite bound
    [0.99, 100],
  ];
  for (const [q, want] of cases) {
    it(`p${q * 100} interpolates as histogram_quantile: ${want}`, () => {
      const [g] = quantileBy(store, 'dur', q, [], 60 * S, T0 + 10 * S);
      assert.ok(g !== undefined && g.value !== null && Math.abs(g.value - (want as number)) < 1e-9, `got ${g?.value}`);
    });
  }

  it('sums buckets across series and proxies before the quantile, per group', () => {
    const s = storeOf([
      bucketScrape(0, [0, 0, 0, 0], ',w="a"'),
      bucketScrape(10 * S, [10, 10, 10, 10], ',w="a"'),
      { ...bucketScrape(0, [0, 0, 0, 0], ',w="a"'), proxy: 'b' },
      { ...bucketScrape(10 * S, [0, 0, 10, 10], ',w="a"'), proxy: 'b' },
      bucketScrape(0, [0, 0, 0, 0], ',w="b"'),
      bucketScrape(10 * S, [0, 0, 0, 0], ',w="b"'),
    ]);
    // w=a: 20 observations, 10 <= 10 ms, 10 in (50, 100]: the median is the top of the first bucket.
    assert.deepEqual(quantileBy(s, 'dur', 0.5, [], 60 * S, T0 + 10 * S, ['w']), [
      { labels: { w: 'a' }, value: 10 },
      { labels: { w: 'b' }, value: null },
    ]);
  });
});

describe('histogramQuantile', () => {
  const inf = Infinity;
  const cases: { name: string; q: number; buckets: [number, number][]; want: number }[] = [
    { name: 'no +Inf bucket', q: 0.5, buckets: [[1, 1], [2, 2]], want: NaN },
    { name: 'a single bucket', q: 0.5, buckets: [[inf, 3]], want: NaN },
    { name: 'no observations', q: 0.5, buckets: [[1, 0], [inf, 0]], want: NaN },
    { name: 'q above 1', q: 1.5, buckets: [[1, 1], [inf, 1]], want: inf },
    { name: 'q below 0', q: -1, buckets: [[1, 1], [inf, 1]], want: -inf },
    { name: 'unsorted input', q: 0.5, buckets: [[inf, 4], [2, 4], [1, 0]], want: 1.5 },
    { name: 'non-monotonic counts are raised to the running max', q: 0.5, buckets: [[1, 2], [2, 1], [4, 4], [inf, 4]], want: 1 },
    { name: 'a rank in +Inf', q: 0.9, buckets: [[1, 1], [inf, 10]], want: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = histogramQuantile(c.q, c.buckets.map(([le, count]) => ({ le, count })));
      if (Number.isNaN(c.want)) assert.ok(Number.isNaN(got), `got ${got}`);
      else assert.equal(got, c.want);
    });
  }
});

describe('parseLabelMatchers', () => {
  it('reads a PromQL selector body, with or without braces', () => {
    const ms = parseLabelMatchers('{reporter="destination", code=~"5..",x!="a,b",y!~"q\\"r"}');
    assert.deepEqual(ms.map((m) => [m.name, m.op, m.value]), [['reporter', '=', 'destination'], ['code', '=~', '5..'], ['x', '!=', 'a,b'], ['y', '!~', 'q"r']]);
    assert.equal(ms[1]?.matches({ code: '503' }), true);
    assert.equal(ms[1]?.matches({ code: '1503' }), false, 'regexes are anchored');
    assert.deepEqual(parseLabelMatchers(''), []);
  });
  for (const [text, message] of [
    ['a=b', /must be quoted/],
    ['a~"b"', /expected =, !=, =~ or !~/],
    ['a="b" c="d"', /expected ","/],
    ['a=~"("', /invalid regular expression for a/],
    ['="x"', /expected a label name/],
  ] as const) {
    it(`rejects ${text}`, () => assert.throws(() => parseLabelMatchers(text), message));
  }
});
