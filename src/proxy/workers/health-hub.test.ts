// Active health checks with `--concurrency N`: the primary's hub runs one checker per cluster and every worker's
// cluster balances by the flags it sends. Two worker clusters here take the hub's messages through the IPC
// parser, as a worker process does; the probes are answered by the test and time is a FakeClock.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { FakeClock } from '../../../test/support/xds-server/fake-clock.js';
import { BAD, PASS, ScriptedProbes } from '../../../test/support/scripted-probes.js';
import { compileCluster, type CompiledCluster } from '../runtime/compile-cluster.js';
import { NO_SECRETS } from '../upstream/connection-pools.js';
import { UpstreamCluster } from '../upstream/upstream-cluster.js';
import { healthFlagsText } from '../upstream/health-checker-flags.js';
import { HealthHub } from './health-hub.js';
import { OutlierHub } from './outlier-hub.js';
import { StatsStore } from '../stats/stats-store.js';
import { HealthRelay } from './health-relay.js';
import { parseFromWorker, parseToWorker } from './ipc-protocol.js';
import { clustersText } from '../admin/clusters-status.js';
import type { DumpSource } from '../admin/dump-source.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../xds/type-urls.js';

const A = '10.0.0.1:80';
const B = '10.0.0.2:80';

function assignment(keys: string[]): JsonObject {
  return {
    cluster_name: 'svc',
    endpoints: [{ lb_endpoints: keys.map((k) => ({ endpoint: { address: { socket_address: { address: k.split(':')[0] as string, port_value: Number(k.split(':')[1]) } } } })) }],
  };
}

function cla(keys: string[]): ClusterLoadAssignment {
  return fromJson(ClusterLoadAssignmentSchema, assignment(keys), { registry: XDS_REGISTRY });
}

function cluster(json: JsonObject): CompiledCluster {
  const c = compileCluster(
    fromJson(
      ClusterSchema,
      {
        name: 'svc',
        connect_timeout: '1s',
        health_checks: [{ timeout: '1s', interval: '5s', unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: '/healthz' } }],
        ...json,
      },
      { registry: XDS_REGISTRY },
    ),
  );
  assert.ok(c.ok);
  return c.value;
}

/** A hub and two workers, each with its relay and its cluster of `config`, wired through the IPC messages' parsers. */
function mesh(config: CompiledCluster, eds?: ClusterLoadAssignment) {
  const clock = new FakeClock();
  const probes = new ScriptedProbes();
  const sent: string[] = [];
  const relays: HealthRelay[] = [];
  const hub = new HealthHub({
    clock,
    random: { next: () => 0 },
    secrets: NO_SECRETS,
    probeFactory: probes.factory,
    publish: (name, hosts) => {
      const m = parseToWorker(structuredClone({ t: 'health-state', cluster: name, hosts }));
      assert.ok(m?.t === 'health-state');
      sent.push(`${name} ${hosts.length}`);
      for (const r of relays) r.apply(m.cluster, m.hosts);
    },
  });
  const workers = [0, 1].map(() => {
    const relay = new HealthRelay((msg) => {
      const m = parseFromWorker(structuredClone(msg));
      if (m?.t === 'health-traffic') hub.traffic(m.cluster);
      else if (m?.t === 'health-fail') hub.failImmediately(m.cluster, m.host);
      else assert.fail(`not a health message: ${JSON.stringify(msg)}`);
    });
    relays.push(relay);
    return new UpstreamCluster(config, { clock, random: { next: () => 0 }, secrets: NO_SECRETS, healthChecks: relay.forCluster }, eds);
  });
  let current: ClusterLoadAssignment | undefined = eds;
  const apply = (next?: ClusterLoadAssignment): void => {
    if (next !== undefined) current = next;
    hub.apply(new Map([['svc', config]]), () => (config.kind === 'eds' ? current : config.proto.loadAssignment));
  };
  apply();
  return { clock, probes, hub, workers, sent, apply };
}

/** The primary's /clusters text for `config` with EDS `eds`, its health flags and retained hosts from the hub. */
function primaryClusters(config: CompiledCluster, eds: ClusterLoadAssignment, hub: HealthHub): string {
  const entry = (message: unknown) => ({ message, compiled: undefined, version: '1', lastUpdated: '' });
  const tables = new Map<string, Map<string, unknown>>([
    [CLUSTER_TYPE, new Map([['svc', entry(config.proto)]])],
    [ENDPOINT_TYPE, new Map([['svc', entry(eds)]])],
  ]);
  const src: DumpSource = {
    table: ((type: string) => tables.get(type) ?? new Map()) as DumpSource['table'],
    typeState: () => ({ version: '1', received: true, names: [] }) as unknown as ReturnType<DumpSource['typeState']>,
    hostHealthFlags: (c, host) => healthFlagsText(hub.flags(c, host) ?? {}),
    retainedHosts: (c) => hub.retainedHosts(c),
  };
  return clustersText(src);
}

/** The ports of every host a cluster picks in 20 tries. */
function picked(c: UpstreamCluster): string[] {
  const keys = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const h = c.pick({ hash: undefined, avoid: undefined, originalDestination: undefined });
    if (h !== undefined) keys.add(h.key);
  }
  return [...keys].sort();
}

describe('active health checks run in the primary for every worker', () => {
  it('each host is checked once for the proxy, and both workers balance by the result', () => {
    const m = mesh(cluster({ type: 'STATIC', load_assignment: assignment([A, B]) }));
    assert.equal(m.probes.count(A), 1, 'one check of A, not one per worker');
    assert.equal(m.probes.count(B), 1);
    // Not checked yet: failed, as before a host's first check (with every host failed the balancer panics and
    // uses them all, as Envoy's does below healthy_panic_threshold).
    for (const w of m.workers) assert.deepEqual([w.healthFlags(A), w.healthFlags(B)], ['/failed_active_hc', '/failed_active_hc']);
    m.probes.answer(A, PASS);
    m.probes.answer(B, PASS);
    for (const w of m.workers) assert.deepEqual(picked(w), [A, B]);
    m.clock.advance(60_000);
    m.probes.answer(A, BAD);
    for (const w of m.workers) {
      assert.deepEqual(picked(w), [B], 'A failed its check: no worker sends to it');
      assert.equal(w.healthFlags(A), '/failed_active_hc');
      assert.equal(w.healthFlags(B), 'healthy');
    }
    assert.equal(healthFlagsText(m.hub.flags('svc', A) ?? {}), '/failed_active_hc', "the primary's /clusters shows it too");
  });

  it('x-envoy-immediate-health-check-fail on one worker fails the host for every worker at once', () => {
    const m = mesh(cluster({ type: 'STATIC', load_assignment: assignment([A, B]) }));
    m.probes.answer(A, PASS);
    m.probes.answer(B, PASS);
    const w0 = m.workers[0] as UpstreamCluster;
    const a = w0.pick({ hash: undefined, avoid: new Set([B]), originalDestination: undefined });
    assert.equal(a?.key, A);
    w0.reportResponse(a, 200, { 'x-envoy-immediate-health-check-fail': 'true' });
    for (const w of m.workers) {
      assert.deepEqual(picked(w), [B], 'no worker sends to A');
      assert.equal(w.healthFlags(A), '/failed_active_hc/excluded_via_immediate_hc_fail');
    }
    assert.equal(m.probes.count(A), 1, 'no check was started for it: its next one keeps its time');
  });

  it('sends the flags only when they change', () => {
    const m = mesh(cluster({ type: 'STATIC', load_assignment: assignment([A]) }));
    m.probes.answer(A, PASS);
    const before = m.sent.length;
    m.clock.advance(60_000);
    m.probes.answer(A, PASS);
    m.clock.advance(60_000);
    m.probes.answer(A, PASS);
    assert.equal(m.sent.length, before, 'passing checks of a healthy host send nothing');
  });

  it('a host EDS removes stays while it passes its checks, and leaves every worker when it fails one', () => {
    const config = cluster({ type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } });
    const m = mesh(config, cla([A, B]));
    m.probes.answer(A, PASS);
    m.probes.answer(B, PASS);
    const next = cla([B]);
    m.apply(next);
    for (const w of m.workers) w.setAssignment(next, '2');
    for (const w of m.workers) {
      assert.deepEqual(picked(w), [A, B], 'A passes its checks: it stays');
      assert.equal(w.healthFlags(A), '/pending_dynamic_removal');
    }
    assert.equal(healthFlagsText(m.hub.flags('svc', A) ?? {}), '/pending_dynamic_removal');
    // The primary's /clusters lists A too, as the workers balance over it (a single process's lists it).
    const primary = primaryClusters(config, next, m.hub);
    assert.match(primary, /^svc::10\.0\.0\.1:80::health_flags::\/pending_dynamic_removal$/m);
    assert.match(primary, /^svc::10\.0\.0\.2:80::health_flags::healthy$/m);
    m.clock.advance(60_000);
    m.probes.answer(A, BAD);
    assert.ok(m.probes.closed.has(A), 'the primary stopped checking A');
    for (const w of m.workers) {
      assert.deepEqual(picked(w), [B]);
      assert.deepEqual(
        w.hosts.hosts.map((h) => h.key),
        [B],
        'A left the host set',
      );
    }
  });

  it('no_traffic_interval applies until a worker’s cluster carries a request', () => {
    const m = mesh(cluster({ type: 'STATIC', load_assignment: assignment([A]) }));
    m.probes.answer(A, PASS);
    m.clock.advance(59_000);
    assert.equal(m.probes.count(A), 1, 'no traffic yet: the next check waits no_traffic_interval (60 s), not interval (5 s)');
    m.clock.advance(1_000);
    assert.equal(m.probes.count(A), 2);
    assert.ok(m.workers[1]?.tryAcquire('requests'));
    m.probes.answer(A, PASS);
    m.clock.advance(5_000);
    assert.equal(m.probes.count(A), 3, 'after the first request: interval');
  });

  it('the outlier detector watches a host kept after EDS removed it, until it fails its check and leaves', () => {
    const config = cluster({
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {} } },
      outlier_detection: { consecutive_5xx: 1, max_ejection_percent: 100, base_ejection_time: '60s' },
    });
    const clock = new FakeClock();
    const probes = new ScriptedProbes();
    let current = cla([A, B]);
    const outliers = new OutlierHub({ clock, random: { next: () => 0 }, stats: new StatsStore(), publish: () => undefined });
    const apply = (): void => {
      health.apply(new Map([['svc', config]]), () => current);
      outliers.apply(new Map([['svc', config]]), () => current, (n) => health.retained(n));
    };
    const health: HealthHub = new HealthHub({
      clock,
      random: { next: () => 0 },
      secrets: NO_SECRETS,
      probeFactory: probes.factory,
      publish: () => undefined,
      onRetainedChange: () => outliers.apply(new Map([['svc', config]]), () => current, (n) => health.retained(n)),
    });
    apply();
    probes.answer(A, PASS);
    probes.answer(B, PASS);
    current = cla([B]);
    apply();
    assert.deepEqual(health.retained('svc'), [A]);
    // A worker still sends to A (it passes its checks) and sees a 5xx: one in a row ejects it.
    outliers.report([{ cluster: 'svc', host: A, runs: [1, 1] }]);
    assert.equal(outliers.isEjected('svc', A), true, 'the 5xx of a kept host counts');
    clock.advance(60_000);
    probes.answer(A, BAD);
    assert.deepEqual(health.retained('svc'), [], 'A failed its check and left');
    assert.equal(outliers.isEjected('svc', A), false, 'no longer watched');
  });
});
