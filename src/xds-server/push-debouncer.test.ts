import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_TYPE } from '../xds/type-urls.js';
import { DiscoveryServer } from './ads-server.js';
import { PushDebouncer, type DebouncedBurst } from './push-debouncer.js';
import { FakeClock } from '../../test/support/xds-server/fake-clock.js';
import { fakeSnapshot, fakeTranslate } from '../../test/support/xds-server/fake-mesh.js';
import { openSotw, sidecarNode, sotwRequest } from '../../test/support/xds-server/ads-client.js';
import { clusterNames, startHarness, type Harness } from '../../test/support/xds-server/harness.js';

describe('PushDebouncer', () => {
  it('flushes a burst once, after the quiet period, with the latest value', () => {
    const clock = new FakeClock();
    const flushed: DebouncedBurst<string>[] = [];
    const d = new PushDebouncer<string>({ clock, afterMs: 100, maxMs: 10_000, flush: (b) => flushed.push(b) });
    const t0 = clock.now();
    d.changed('a');
    clock.advance(60);
    d.changed('b');
    clock.advance(60);
    d.changed('c');
    clock.advance(99);
    assert.equal(flushed.length, 0, 'each change restarts the quiet period');
    clock.advance(1);
    assert.deepEqual(flushed, [{ latest: 'c', events: 3, firstAt: t0, lastAt: t0 + 120 }]);
    assert.equal(d.pending, false);
    clock.advance(1000);
    assert.equal(flushed.length, 1);
  });

  it('flushes at the max delay when changes never stop', () => {
    const clock = new FakeClock();
    const flushedAt: number[] = [];
    const d = new PushDebouncer<number>({ clock, afterMs: 100, maxMs: 1000, flush: () => flushedAt.push(clock.now()) });
    const t0 = clock.now();
    for (let i = 0; i < 30; i++) {
      d.changed(i);
      clock.advance(50);
    }
    assert.deepEqual(flushedAt, [t0 + 1000], 'the first burst is cut at max; the next is still debouncing');
    clock.advance(100);
    assert.equal(flushedAt.length, 2);
  });
});

describe('DiscoveryServer.configChanged', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('coalesces a burst into one rebuild and one push', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, snapshot: fakeSnapshot('v1', []), debounceAfterMs: 100, debounceMaxMs: 10_000 });
    const s = openSotw(h.client());
    s.send(sotwRequest({ node: sidecarNode('app', 'default'), typeUrl: CLUSTER_TYPE }));
    assert.deepEqual((await s.next()).resources, []);

    const rebuilds: string[] = [];
    const hosts = ['a.default.svc.cluster.local', 'b.default.svc.cluster.local', 'c.default.svc.cluster.local'];
    hosts.forEach((_, i) => {
      h!.ds.configChanged(() => {
        rebuilds.push(`v${i + 2}`);
        return fakeSnapshot(`v${i + 2}`, hosts.slice(0, i + 1).map((host) => ({ host, namespace: 'default', port: 80 })));
      });
      clock.advance(30);
    });
    assert.deepEqual(rebuilds, []);
    assert.equal(h.ds.snapshot?.version, 'v1');
    clock.advance(100);
    assert.deepEqual(rebuilds, ['v4'], 'only the latest rebuild runs, once');
    assert.equal(h.ds.snapshot?.version, 'v4');
    const pushed = await s.next('the debounced push');
    assert.equal(clusterNames(pushed.resources).length, 3);
    const metrics = await h.ds.metrics.text();
    assert.match(metrics, /pilot_xds_pushes\{type="cds"\} 2\n/, 'the initial response and one push');
    assert.match(metrics, /pilot_debounce_time_count 1\n/);
    assert.match(metrics, /pilot_proxy_convergence_time_count 1\n/);
  });

  it('keeps the previous snapshot when a rebuild throws', () => {
    const clock = new FakeClock();
    const ds = new DiscoveryServer({ translate: fakeTranslate, clock, snapshot: fakeSnapshot('v1', []) });
    ds.configChanged(() => {
      throw new Error('boom');
    });
    clock.advance(100);
    assert.equal(ds.snapshot?.version, 'v1');
  });
});
