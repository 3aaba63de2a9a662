import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStatsQuery, renderStatsJson, renderStatsText, type StatsQuery } from './admin-format.js';
import { StatsStore } from './stats-store.js';

function query(qs: string): StatsQuery {
  const r = parseStatsQuery(new URLSearchParams(qs));
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.value;
}

function sampleStore(): StatsStore {
  const store = new StatsStore();
  store.counter('cluster_manager.cluster_added').add(2);
  store.gauge('cluster_manager.active_clusters').set(2);
  store.counter('server.envoy_bug_failures');
  store.histogram('cluster.a.upstream_rq_time').record(1);
  store.histogram('cluster.a.upstream_cx_length_ms');
  return store;
}

describe('/stats text', () => {
  it('sorts counters and gauges together, then histograms with quantile summaries', () => {
    assert.equal(
      renderStatsText(sampleStore(), query('')),
      [
        'cluster_manager.active_clusters: 2',
        'cluster_manager.cluster_added: 2',
        'server.envoy_bug_failures: 0',
        'cluster.a.upstream_cx_length_ms: No recorded values',
        'cluster.a.upstream_rq_time: P0(nan,1) P25(nan,1.025) P50(nan,1.05) P75(nan,1.075) P90(nan,1.09) ' +
          'P95(nan,1.095) P99(nan,1.099) P99.5(nan,1.0995) P99.9(nan,1.0999) P100(nan,1.1)',
        '',
      ].join('\n'),
    );
  });

  it('shows the last interval after a flush', () => {
    const store = new StatsStore();
    const h = store.histogram('h');
    h.record(1);
    store.mergeHistograms();
    assert.ok(renderStatsText(store, query('')).startsWith('h: P0(1,1) P25(1.025,1.025)'));
  });

  const cases: { name: string; qs: string; want: string[] }[] = [
    {
      name: 'usedonly drops stats never written',
      qs: 'usedonly',
      want: ['cluster_manager.active_clusters', 'cluster_manager.cluster_added', 'cluster.a.upstream_rq_time'],
    },
    { name: 'filter is a regex search on the full name', qs: 'filter=cluster_(added|removed)', want: ['cluster_manager.cluster_added'] },
    { name: 'type=Gauges', qs: 'type=Gauges', want: ['cluster_manager.active_clusters'] },
    {
      name: 'type=Histograms',
      qs: 'type=Histograms',
      want: ['cluster.a.upstream_cx_length_ms', 'cluster.a.upstream_rq_time'],
    },
    { name: 'filter and usedonly together', qs: 'usedonly&filter=^cluster\\.', want: ['cluster.a.upstream_rq_time'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const names = renderStatsText(sampleStore(), query(c.qs))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.slice(0, l.indexOf(':')));
      assert.deepEqual(names, c.want);
    });
  }
});

describe('/stats?format=json', () => {
  it("has Envoy's shape, with histograms last and null for NaN", () => {
    const json = JSON.parse(renderStatsJson(sampleStore(), query('format=json&usedonly'))) as unknown;
    assert.deepEqual(json, {
      stats: [
        { name: 'cluster_manager.active_clusters', value: 2 },
        { name: 'cluster_manager.cluster_added', value: 2 },
        {
          histograms: {
            supported_quantiles: [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100],
            computed_quantiles: [
              {
                name: 'cluster.a.upstream_rq_time',
                values: [1, 1.025, 1.05, 1.075, 1.09, 1.095, 1.099, 1.0995, 1.0999, 1.1].map((c) => ({
                  cumulative: c,
                  interval: null,
                })),
              },
            ],
          },
        },
      ],
    });
  });

  it('omits the histograms entry when there are none', () => {
    const store = new StatsStore();
    store.counter('a').inc();
    assert.equal(renderStatsJson(store, query('format=json')), '{"stats":[{"name":"a","value":1}]}');
  });
});

describe('/stats query parameters', () => {
  const bad: [string, RegExp][] = [
    ['filter=(', /Invalid re2 regex/],
    ['format=xml', /usage/],
    ['type=Timers', /invalid &type= param/],
  ];
  for (const [qs, want] of bad) {
    it(`rejects ${qs}`, () => {
      const r = parseStatsQuery(new URLSearchParams(qs));
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.message, want);
    });
  }

  it('defaults to text, all types, everything', () => {
    assert.deepEqual(query(''), { format: 'text', type: 'All', usedOnly: false, filter: undefined });
    assert.equal(query('format=prometheus').format, 'prometheus');
  });
});
