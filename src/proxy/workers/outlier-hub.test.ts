// Outlier detection across worker processes, without the processes: two workers' relays (outlier-relay.ts)
// feed the primary's hub (outlier-hub.ts) through the IPC message guards, as worker.ts and primary.ts wire
// them. Envoy's detector is one per cluster for all workers
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier), so failures on
// different workers add up, one ejection is counted once, and every worker stops picking the host.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { FakeClock } from '../../../test/support/xds-server/fake-clock.js';
import { compileCluster, type CompiledCluster } from '../runtime/compile-cluster.js';
import { StatsStore } from '../stats/stats-store.js';
import { seededRandom } from '../lib/random.js';
import { parseFromWorker, parseToWorker } from './ipc-protocol.js';
import { OutlierHub } from './outlier-hub.js';
import { OutlierRelay } from './outlier-relay.js';

const A = '10.0.0.1:80';
const B = '10.0.0.2:80';

function cluster(outlier: JsonObject | undefined, extra: JsonObject = {}): CompiledCluster {
  const c = compileCluster(
    fromJson(ClusterSchema, { name: 'outbound|80||svc', type: 'EDS', edsClusterConfig: { serviceName: 'svc', edsConfig: { ads: {} } }, ...(outlier !== undefined ? { outlierDetection: outlier } : {}), ...extra }, { registry: XDS_REGISTRY }),
  );
  assert.ok(c.ok);
  return c.value;
}

function assignment(...hosts: string[]): ClusterLoadAssignment {
  return fromJson(ClusterLoadAssignmentSchema, {
    clusterName: 'svc',
    endpoints: [{ lbEndpoints: hosts.map((h) => ({ endpoint: { address: { socketAddress: { address: h.split(':')[0] ?? '', portValue: Number(h.split(':')[1]) } } } })) }],
  });
}

/** A primary with a hub and `n` workers' relays, messages passed (and checked) synchronously. */
function mesh(c: CompiledCluster, cla: ClusterLoadAssignment, n = 2) {
  const clock = new FakeClock();
  const stats = new StatsStore();
  const relays: OutlierRelay[] = [];
  const sent: string[] = [];
  const hub = new OutlierHub({
    clock,
    random: seededRandom(1),
    stats,
    publish: (name, ejected) => {
      const m = parseToWorker(structuredClone({ t: 'outlier-state', cluster: name, ejected }));
      assert.ok(m !== undefined && m.t === 'outlier-state');
      sent.push(`${m.cluster} [${m.ejected.join(' ')}]`);
      for (const r of relays) r.apply(m.cluster, m.ejected);
    },
  });
  for (let i = 0; i < n; i++) {
    relays.push(
      new OutlierRelay((results) => {
        const m = parseFromWorker(structuredClone({ t: 'outlier-results', results }));
        assert.ok(m !== undefined && m.t === 'outlier-results');
        hub.report(m.results);
      }, 1_000_000),
    );
  }
  hub.apply(new Map([[c.name, c]]), () => cla);
  const views = relays.map((r) => r.forCluster(c));
  const stat = (name: string): number => {
    const full = `cluster.outbound|80||svc.outlier_detection.${name}`;
    return name === 'ejections_active' ? stats.gauge(full).value : stats.counter(full).value;
  };
  return { clock, hub, relays, views, sent, stat };
}

describe('outlier detection shared by worker processes', () => {
  it('consecutive 5xx on two workers add up to one ejection that every worker sees, counted once', () => {
    const m = mesh(cluster({ consecutive5xx: 3, interval: '1s', baseEjectionTime: '5s', maxEjectionPercent: 100 }), assignment(A, B));
    const [w0, w1] = m.views as [(typeof m.views)[0], (typeof m.views)[0]];
    w0.reportResult(A, '5xx');
    w0.reportResult(B, 'success');
    w1.reportResult(A, '5xx');
    for (const r of m.relays) r.flush();
    assert.equal(m.hub.isEjected('outbound|80||svc', A), false, 'two in a row is not three');
    w1.reportResult(A, '5xx');
    const before = [w0.version(), w1.version()];
    (m.relays[1] as OutlierRelay).flush();
    assert.equal(m.hub.isEjected('outbound|80||svc', A), true);
    assert.deepEqual([w0.isEjected(A), w1.isEjected(A), w0.isEjected(B)], [true, true, false]);
    assert.notDeepEqual([w0.version(), w1.version()], before, 'the balancers see a health change');
    assert.deepEqual(m.sent, [`outbound|80||svc [${A}]`]);
    assert.deepEqual([m.stat('ejections_active'), m.stat('ejections_enforced_total'), m.stat('ejections_enforced_consecutive_5xx'), m.stat('ejections_detected_consecutive_5xx')], [1, 1, 1, 1]);
  });

  it('a success on another worker in between breaks the run, as with Envoy’s one counter per host', () => {
    const m = mesh(cluster({ consecutive5xx: 2, maxEjectionPercent: 100 }), assignment(A, B));
    const [w0, w1] = m.views as [(typeof m.views)[0], (typeof m.views)[0]];
    w0.reportResult(A, '5xx');
    (m.relays[0] as OutlierRelay).flush();
    w1.reportResult(A, 'success');
    (m.relays[1] as OutlierRelay).flush();
    w0.reportResult(A, '5xx');
    (m.relays[0] as OutlierRelay).flush();
    assert.equal(m.hub.isEjected('outbound|80||svc', A), false);
    w1.reportResult(A, '5xx');
    (m.relays[1] as OutlierRelay).flush();
    assert.equal(m.hub.isEjected('outbound|80||svc', A), true);
  });

  it('one worker’s batch keeps its order: a success after two 5xx leaves the host in', () => {
    const m = mesh(cluster({ consecutive5xx: 3, maxEjectionPercent: 100 }), assignment(A, B));
    const w0 = m.views[0] as (typeof m.views)[0];
    for (const k of ['5xx', '5xx', 'success', '5xx', '5xx'] as const) w0.reportResult(A, k);
    (m.relays[0] as OutlierRelay).flush();
    assert.equal(m.hub.isEjected('outbound|80||svc', A), false);
    w0.reportResult(A, '5xx');
    (m.relays[0] as OutlierRelay).flush();
    assert.equal(m.hub.isEjected('outbound|80||svc', A), true);
  });

  it('the host returns to every worker at the interval tick after base_ejection_time', () => {
    const m = mesh(cluster({ consecutive5xx: 1, interval: '1s', baseEjectionTime: '2s', maxEjectionPercent: 100 }), assignment(A, B));
    const w1 = m.views[1] as (typeof m.views)[0];
    w1.reportResult(A, '5xx');
    (m.relays[1] as OutlierRelay).flush();
    assert.equal((m.views[0] as (typeof m.views)[0]).isEjected(A), true);
    m.clock.advance(1000);
    assert.equal(w1.isEjected(A), true);
    m.clock.advance(1000);
    assert.deepEqual(m.views.map((v) => v.isEjected(A)), [false, false]);
    assert.deepEqual(m.sent, [`outbound|80||svc [${A}]`, 'outbound|80||svc []']);
    assert.equal(m.stat('ejections_active'), 0);
  });

  it('a changed cluster starts a new detector and the workers drop the old one’s ejections; an unchanged one keeps them', () => {
    const c = cluster({ consecutive5xx: 1, maxEjectionPercent: 100 });
    const m = mesh(c, assignment(A, B));
    (m.views[0] as (typeof m.views)[0]).reportResult(A, '5xx');
    (m.relays[0] as OutlierRelay).flush();
    m.hub.apply(new Map([[c.name, cluster({ consecutive5xx: 1, maxEjectionPercent: 100 })]]), () => assignment(A, B));
    assert.equal(m.hub.isEjected(c.name, A), true, 'same config: same detector');
    const changed = cluster({ consecutive5xx: 2, maxEjectionPercent: 100 });
    m.hub.apply(new Map([[c.name, changed]]), () => assignment(A, B));
    assert.equal(m.hub.isEjected(c.name, A), false);
    assert.deepEqual(m.views.map((v) => v.isEjected(A)), [false, false]);
    assert.deepEqual(m.hub.ejections(), []);
  });

  it('an EDS update that removes the ejected host tells the workers', () => {
    const c = cluster({ consecutive5xx: 1, maxEjectionPercent: 100 });
    const m = mesh(c, assignment(A, B));
    (m.views[0] as (typeof m.views)[0]).reportResult(A, '5xx');
    (m.relays[0] as OutlierRelay).flush();
    assert.deepEqual(m.hub.ejections(), [{ cluster: c.name, ejected: [A] }]);
    m.hub.apply(new Map([[c.name, c]]), () => assignment(B));
    assert.deepEqual(m.views.map((v) => v.isEjected(A)), [false, false]);
    assert.equal(m.stat('ejections_active'), 0);
  });

  it('outcomes of hosts or clusters the primary does not watch are ignored', () => {
    const m = mesh(cluster({ consecutive5xx: 1, maxEjectionPercent: 100 }), assignment(A, B));
    m.hub.report([
      { cluster: 'outbound|80||other', host: A, runs: [1, 5] },
      { cluster: 'outbound|80||svc', host: '10.9.9.9:80', runs: [1, 5] },
    ]);
    assert.deepEqual(m.hub.ejections(), []);
    assert.deepEqual(m.sent, []);
  });

  it('a relay sends nothing while nothing happened, and one batch of runs per host when it did', () => {
    const batches: unknown[] = [];
    const relay = new OutlierRelay((r) => batches.push(r), 1_000_000);
    const v = relay.forCluster({ name: 'c' });
    relay.flush();
    assert.deepEqual(batches, []);
    for (let i = 0; i < 1000; i++) v.reportResult(A, 'success');
    v.reportResult(A, 'gateway');
    v.reportResult(A, 'local-origin-failure');
    v.reportResult(B, 'success');
    relay.flush();
    relay.close();
    assert.deepEqual(batches, [
      [
        { cluster: 'c', host: A, runs: [0, 1000, 2, 1, 3, 1] },
        { cluster: 'c', host: B, runs: [0, 1] },
      ],
    ]);
  });
});
