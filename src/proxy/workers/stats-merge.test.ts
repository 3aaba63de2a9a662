import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsStore } from '../stats/stats-store.js';
import { renderStatsText } from '../stats/admin-format.js';
import { parseStatsQuery } from '../stats/admin-format.js';
import { countersOnly, mergeSnapshot, snapshotStats } from './stats-merge.js';

/** What the primary does: snapshots cross the IPC channel (structured clone), then merge into a new store. */
function merged(...stores: StatsStore[]): StatsStore {
  const out = new StatsStore();
  for (const s of stores) mergeSnapshot(out, structuredClone(snapshotStats(s)));
  return out;
}

function text(store: StatsStore): string {
  const q = parseStatsQuery(new URLSearchParams());
  assert.ok(q.ok);
  return renderStatsText(store, q.value);
}

describe('stats merged across workers', () => {
  it('sums counters and gauges of the same name, and keeps names only one worker has', () => {
    const a = new StatsStore();
    const b = new StatsStore();
    a.counter('http.ingress.downstream_rq_total').add(120);
    b.counter('http.ingress.downstream_rq_total').add(80);
    a.gauge('http.ingress.downstream_rq_active').set(3);
    b.gauge('http.ingress.downstream_rq_active').set(2);
    a.counter('listener.0.0.0.0_8080.worker_0.downstream_cx_total').add(7);
    b.counter('listener.0.0.0.0_8080.worker_1.downstream_cx_total').add(5);
    const m = merged(a, b);
    assert.equal(m.counter('http.ingress.downstream_rq_total').value, 200);
    assert.equal(m.gauge('http.ingress.downstream_rq_active').value, 5);
    assert.equal(m.counter('listener.0.0.0.0_8080.worker_0.downstream_cx_total').value, 7);
    assert.equal(m.counter('listener.0.0.0.0_8080.worker_1.downstream_cx_total').value, 5);
  });

  it("keeps one copy of what every worker derives from the config (a cluster's membership), where traffic stats add up", () => {
    const workers = [new StatsStore(), new StatsStore()];
    for (const [i, w] of workers.entries()) {
      const total = w.gauge('cluster.svc.membership_total');
      total.shared = true;
      total.set(3);
      const healthy = w.gauge('cluster.svc.membership_healthy');
      healthy.shared = true;
      healthy.set(i === 0 ? 2 : 3); // one worker has not yet seen a host come back
      const change = w.counter('cluster.svc.membership_change');
      change.shared = true;
      change.add(4);
      w.counter('cluster.svc.upstream_rq_total').add(10);
    }
    const m = merged(...workers);
    assert.deepEqual(
      [m.gauge('cluster.svc.membership_total').value, m.gauge('cluster.svc.membership_healthy').value, m.counter('cluster.svc.membership_change').value, m.counter('cluster.svc.upstream_rq_total').value],
      [3, 3, 4, 20],
    );
    // An exited worker's counters (kept by the primary) do not add a second copy either.
    const retired = new StatsStore();
    mergeSnapshot(retired, countersOnly(structuredClone(snapshotStats(workers[0] as StatsStore))));
    const again = merged(retired, ...workers);
    assert.deepEqual([again.counter('cluster.svc.membership_change').value, again.counter('cluster.svc.upstream_rq_total').value], [4, 30]);
  });

  it('marks a stat used when any worker used it (what /stats?usedonly filters on)', () => {
    const a = new StatsStore();
    const b = new StatsStore();
    a.counter('c');
    b.counter('c').add(0);
    a.counter('never');
    const m = merged(a, b);
    assert.equal(m.counter('c').used, true);
    assert.equal(m.counter('never').used, false);
  });

  it('sums labeled family members by their labels', () => {
    const a = new StatsStore();
    const b = new StatsStore();
    a.labeledCounter('istio_requests_total', ['reporter', 'response_code']).labels('destination', '200').add(3);
    b.labeledCounter('istio_requests_total', ['reporter', 'response_code']).labels('destination', '200').add(4);
    b.labeledCounter('istio_requests_total', ['reporter', 'response_code']).labels('destination', '503').inc();
    const m = merged(a, b);
    const f = m.labeledCounter('istio_requests_total', ['reporter', 'response_code']);
    assert.equal(f.labels('destination', '200').value, 7);
    assert.equal(f.labels('destination', '503').value, 1);
  });

  it('merges histograms as if one store had recorded every value: buckets, sum, count and quantiles', () => {
    const values = [0, 0.4, 1, 3, 7, 12, 40, 90, 240, 900, 2500, 8000];
    const a = new StatsStore();
    const b = new StatsStore();
    const one = new StatsStore();
    values.forEach((v, i) => {
      (i % 2 === 0 ? a : b).histogram('cluster.x.upstream_rq_time').record(v);
      one.histogram('cluster.x.upstream_rq_time').record(v);
    });
    const m = merged(a, b).histogram('cluster.x.upstream_rq_time');
    const want = one.histogram('cluster.x.upstream_rq_time');
    assert.equal(m.count, want.count);
    assert.equal(m.sum, want.sum);
    assert.deepEqual(m.cumulativeBucketCounts(), want.cumulativeBucketCounts());
    assert.deepEqual(m.cumulativeQuantiles(), want.cumulativeQuantiles());
    assert.equal(m.used, true);
  });

  it('renders the merged store with the ordinary /stats text', () => {
    const a = new StatsStore();
    const b = new StatsStore();
    a.counter('cluster.a.upstream_rq_200').add(2);
    b.counter('cluster.a.upstream_rq_200').add(3);
    assert.match(text(merged(a, b)), /^cluster\.a\.upstream_rq_200: 5$/m);
  });

  it('leaves out a histogram whose buckets differ from the first one seen (they cannot be added)', () => {
    const a = new StatsStore();
    const b = new StatsStore();
    a.histogram('h', [1, 10]).record(5);
    b.histogram('h', [1, 10, 100]).record(50);
    const m = merged(a, b).histogram('h');
    assert.deepEqual([m.count, m.sum, [...m.bounds]], [1, 5, [1, 10]]);
  });

  it('keeps only the counters of a worker that exited (its gauges described live state)', () => {
    const a = new StatsStore();
    a.counter('c').add(9);
    a.gauge('g').set(4);
    a.histogram('h').record(1);
    const s = countersOnly(snapshotStats(a));
    assert.deepEqual([s.counters.map((c) => [c.name, c.value]), s.gauges.length, s.histograms.length], [[['c', 9]], 0, 0]);
  });
});
