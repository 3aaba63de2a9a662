import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../test/support/xds-server/fake-clock.js';
import { MetricsScraper, type FetchText, type ScrapeTarget } from './scraper.js';
import { SeriesStore } from './series-store.js';

/** Lets pending promise callbacks run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

interface Call {
  readonly url: string;
  readonly signal: AbortSignal;
  resolve(text: string): void;
  reject(e: Error): void;
}

function manualFetch(): { fetchText: FetchText; calls: Call[] } {
  const calls: Call[] = [];
  const fetchText: FetchText = (url, signal) =>
    new Promise<string>((resolve, reject) => {
      calls.push({ url, signal, resolve, reject });
      signal.addEventListener('abort', () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')));
    });
  return { fetchText, calls };
}

const A: ScrapeTarget = { id: 'a.default', url: 'http://127.0.0.1:1/stats/prometheus' };
const B: ScrapeTarget = { id: 'b.default', url: 'http://127.0.0.1:2/stats/prometheus' };

describe('MetricsScraper', () => {
  it('scrapes every target each interval, keeping only istio_* series, and never overlaps rounds', async () => {
    const clock = new FakeClock();
    const store = new SeriesStore();
    const { fetchText, calls } = manualFetch();
    const s = new MetricsScraper({ store, targets: () => [A, B], clock, intervalMs: 200, fetchText });
    s.start();
    assert.deepEqual(calls.map((c) => c.url), [A.url, B.url]);
    calls[0]?.resolve('# TYPE istio_requests_total counter\nistio_requests_total{reporter="source"} 1\nenvoy_other 5\n');
    clock.advance(500); // B is slow: no new round while it is in flight (its timeout is 1 s)
    await settle();
    assert.equal(calls.length, 2);
    calls[1]?.resolve('istio_requests_total{reporter="destination"} 2\n');
    await settle();
    await settle();
    // The round took 500 ms > 200 ms: the next starts at once.
    clock.advance(0);
    assert.equal(calls.length, 4);
    assert.deepEqual(store.metrics(), [{ metric: 'istio_requests_total', series: 2 }]);
    assert.deepEqual(s.status().map((t) => [t.id, t.health, t.samples]), [['a.default', 'up', 1], ['b.default', 'up', 1]]);
    const stopping = s.stop();
    for (const c of calls.slice(2)) c.resolve('');
    await stopping;
  });

  it('gives up on a target after the timeout and on an error, and keeps scraping the others', async () => {
    const clock = new FakeClock();
    const store = new SeriesStore();
    const { fetchText, calls } = manualFetch();
    const s = new MetricsScraper({ store, targets: () => [A, B], clock, intervalMs: 5000, timeoutMs: 1000, fetchText });
    const round = s.scrapeOnce();
    calls[0]?.reject(new Error('connect ECONNREFUSED'));
    clock.advance(1000);
    await round;
    assert.equal(calls[1]?.signal.aborted, true);
    assert.deepEqual(s.status().map((t) => [t.id, t.health, t.lastError]), [['a.default', 'down', 'connect ECONNREFUSED'], ['b.default', 'down', 'timed out after 1000 ms']]);
    assert.equal(store.stats().series, 0);
  });

  it('stops asking a target that is gone; its series age out of the store', async () => {
    const clock = new FakeClock();
    const store = new SeriesStore({ retentionMs: 10_000 });
    let targets = [A];
    const fetchText: FetchText = async () => 'istio_requests_total 1\n';
    const s = new MetricsScraper({ store, targets: () => targets, clock, intervalMs: 1000, fetchText });
    await s.scrapeOnce();
    assert.equal(store.stats().series, 1);
    targets = [];
    await s.scrapeOnce();
    assert.deepEqual(s.status(), []);
    clock.advance(10_001);
    await s.scrapeOnce();
    assert.equal(store.stats().series, 0);
  });

  it('stop() waits for the round in flight and schedules no more', async () => {
    const clock = new FakeClock();
    const { fetchText, calls } = manualFetch();
    const s = new MetricsScraper({ store: new SeriesStore(), targets: () => [A], clock, intervalMs: 100, fetchText });
    s.start();
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false);
    calls[0]?.resolve('');
    await stopping;
    clock.advance(1000);
    assert.equal(calls.length, 1);
    assert.equal(clock.pending, 0);
  });
});
