// Envoy active health checking on a live upstream cluster built from a Cluster proto (Istio's API does not
// configure active health checks, so the cluster is hand-written xDS): two real HTTP upstreams, one of
// which starts answering /healthz with 503. After unhealthy_threshold failed checks every pick goes to the
// other, /clusters shows /failed_active_hc, and once the host recovers and passes healthy_threshold checks
// it takes traffic again. With EDS, a host that discovery removes keeps its traffic while it passes its
// checks and leaves when it fails one. Envoy's membership gauges follow all of it, and EDS health statuses.
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/health_checking

import { it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../src/xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { XDS_REGISTRY } from '../../src/xds/codec.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../src/xds/type-urls.js';
import { compileCluster } from '../../src/proxy/runtime/compile-cluster.js';
import { compileResource } from '../../src/proxy/runtime/compile-resource.js';
import { NO_SECRETS } from '../../src/proxy/upstream/connection-pools.js';
import { UpstreamCluster } from '../../src/proxy/upstream/upstream-cluster.js';
import { clustersText, type DumpSource } from '../../src/proxy/admin/config-dump.js';
import { seededRandom } from '../../src/proxy/lib/random.js';
import { StatsStore } from '../../src/proxy/stats/stats-store.js';
import { FakeClock } from '../support/xds-server/fake-clock.js';
import { startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { clusterManagerOf, prefix, route, routeConfig, toCluster, vhost } from '../support/xds-fixtures.js';
import { startHcmListener } from '../support/hcm-listener.js';
import { ask } from '../support/http-ask.js';

const INTERVAL_MS = 2000;

function endpoints(ports: number[]): JsonObject {
  return { cluster_name: 'svc', endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }] };
}

function healthCheck(extra: JsonObject = {}): JsonObject {
  return {
    timeout: '1s',
    interval: `${INTERVAL_MS / 1000}s`,
    unhealthy_threshold: 2,
    healthy_threshold: 2,
    http_health_check: { path: '/healthz', ...extra },
  };
}

async function twoUpstreams(t: TestContext) {
  let brokenHealth = false;
  const a = await startUpstream(t, 'a');
  const b = await startUpstream(t, 'b', '127.0.0.1', 0, (req, res) => {
    const status = req.url === '/healthz' && brokenHealth ? 503 : 200;
    res.writeHead(status);
    res.end('b');
  });
  return { a, b, setBroken: (v: boolean) => void (brokenHealth = v) };
}

/** Which upstream ports 20 picks land on. */
function pickedPorts(c: UpstreamCluster): Set<number> {
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const h = c.pick({ hash: undefined, avoid: undefined, originalDestination: undefined });
    if (h !== undefined) ports.add(h.port);
  }
  return ports;
}

/** Moves time to the next round of checks and waits until every checked host has answered. */
async function checkRound(c: UpstreamCluster, clock: FakeClock, hosts: number): Promise<void> {
  const hc = c.healthChecker;
  assert.ok(hc !== undefined);
  const done = hc.stats.success + hc.stats.failure;
  clock.advance(INTERVAL_MS);
  await waitFor(() => hc.stats.success + hc.stats.failure >= done + hosts, 'a round of health checks');
}

/** Envoy's membership gauges and counter of cluster `svc`, read as /stats reads them (after a refresh). */
function membership(store: StatsStore, c: UpstreamCluster): { total: number; healthy: number; excluded: number; change: number } {
  c.refreshStats();
  const v = (n: string): number => store.gauge(`cluster.svc.membership_${n}`).value;
  return { total: v('total'), healthy: v('healthy'), excluded: v('excluded'), change: store.counter('cluster.svc.membership_change').value };
}

it("EDS health statuses set Envoy's membership gauges: degraded, draining (excluded) and unhealthy hosts are members but not healthy", () => {
  const json: JsonObject = { name: 'svc', connect_timeout: '1s', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } }, lb_policy: 'ROUND_ROBIN' };
  const compiled = compileCluster(fromJson(ClusterSchema, json, { registry: XDS_REGISTRY }));
  assert.ok(compiled.ok);
  const statuses = ['HEALTHY', 'UNKNOWN', 'DEGRADED', 'DRAINING', 'UNHEALTHY'];
  const cla = (health: readonly string[]): ClusterLoadAssignment =>
    fromJson(
      ClusterLoadAssignmentSchema,
      { cluster_name: 'svc', endpoints: [{ lb_endpoints: health.map((h, i) => ({ health_status: h, endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9000 + i } } } })) }] },
      { registry: XDS_REGISTRY },
    );
  const store = new StatsStore();
  const cluster = new UpstreamCluster(compiled.value, { clock: new FakeClock(), random: seededRandom(7), secrets: NO_SECRETS, stats: store }, cla(statuses));
  const degraded = (): number => store.gauge('cluster.svc.membership_degraded').value;
  assert.deepEqual([membership(store, cluster), degraded()], [{ total: 5, healthy: 2, excluded: 1, change: 1 }, 1]);
  // A change of health alone is no membership change; a host leaving is.
  cluster.setAssignment(cla(['HEALTHY', 'HEALTHY', 'HEALTHY', 'HEALTHY', 'HEALTHY']), '2');
  assert.deepEqual([membership(store, cluster), degraded()], [{ total: 5, healthy: 5, excluded: 0, change: 1 }, 0]);
  cluster.setAssignment(cla(['HEALTHY']), '3');
  assert.deepEqual(membership(store, cluster), { total: 1, healthy: 1, excluded: 0, change: 2 });
  // A cluster CDS removes has no members left.
  cluster.close();
  assert.equal(store.gauge('cluster.svc.membership_total').value, 0);
});

function dumpSource(c: UpstreamCluster, cluster: JsonObject): DumpSource {
  const message = fromJson(ClusterSchema, cluster, { registry: XDS_REGISTRY });
  const tables = new Map<string, Map<string, unknown>>([
    [CLUSTER_TYPE, new Map([['svc', { message, compiled: undefined, version: '1', lastUpdated: '' }]])],
    [ENDPOINT_TYPE, new Map()],
  ]);
  return {
    table: ((type: string) => tables.get(type) ?? new Map()) as DumpSource['table'],
    typeState: () => ({ version: '1', received: true, names: [] }) as unknown as ReturnType<DumpSource['typeState']>,
    hostHealthFlags: (cluster, host) => (cluster === 'svc' ? c.healthFlags(host) : undefined),
  };
}

it('active HTTP health checks take a failing host out of load balancing and bring it back', async (t) => {
  const { a, b, setBroken } = await twoUpstreams(t);
  const json: JsonObject = {
    name: 'svc',
    connect_timeout: '1s',
    type: 'STATIC',
    lb_policy: 'ROUND_ROBIN',
    load_assignment: endpoints([a.port, b.port]),
    // 503 counts toward unhealthy_threshold only as a retriable status; otherwise it fails a host at once.
    health_checks: [healthCheck({ retriable_statuses: [{ start: 503, end: 504 }] })],
  };
  const proto = fromJson(ClusterSchema, json, { registry: XDS_REGISTRY });
  assert.equal(compileResource(CLUSTER_TYPE, proto).ok, true);
  const compiled = compileCluster(proto);
  assert.ok(compiled.ok);
  const clock = new FakeClock();
  const store = new StatsStore();
  const cluster = new UpstreamCluster(compiled.value, { clock, random: seededRandom(7), secrets: NO_SECRETS, stats: store }, undefined);
  t.after(() => cluster.close());
  const keyB = `127.0.0.1:${b.port}`;
  const admin = dumpSource(cluster, json);
  assert.deepEqual(membership(store, cluster), { total: 2, healthy: 0, excluded: 0, change: 1 }, 'hosts start failed until their first check');
  // The cluster has carried traffic, so checks run every `interval` rather than no_traffic_interval.
  assert.equal(cluster.tryAcquire('requests'), true);
  cluster.release('requests');

  await t.test('hosts start failed and turn healthy on their first passing check', async () => {
    await waitFor(() => cluster.healthFlags(keyB) === 'healthy' && cluster.healthFlags(`127.0.0.1:${a.port}`) === 'healthy', 'both hosts healthy');
    assert.deepEqual(pickedPorts(cluster), new Set([a.port, b.port]));
    assert.deepEqual(membership(store, cluster), { total: 2, healthy: 2, excluded: 0, change: 1 });
    assert.equal(b.seen.filter((r) => r.url === '/healthz' && r.headers['user-agent'] === 'Envoy/HC' && r.headers.host === 'svc').length, 1);
  });

  await t.test('after unhealthy_threshold (2) failed checks every pick goes to the healthy host', async () => {
    setBroken(true);
    await checkRound(cluster, clock, 2);
    assert.deepEqual(pickedPorts(cluster), new Set([a.port, b.port]), 'one failure is not enough');
    await checkRound(cluster, clock, 2);
    assert.deepEqual(pickedPorts(cluster), new Set([a.port]));
    assert.match(clustersText(admin), new RegExp(`svc::127\\.0\\.0\\.1:${b.port}::health_flags::/failed_active_hc\\n`));
    assert.deepEqual(membership(store, cluster), { total: 2, healthy: 1, excluded: 0, change: 1 }, 'a failing host stays a member');
  });

  await t.test('after it recovers and passes healthy_threshold (2) checks it takes traffic again', async () => {
    setBroken(false);
    await checkRound(cluster, clock, 2);
    assert.deepEqual(pickedPorts(cluster), new Set([a.port]), 'one pass is not enough');
    await checkRound(cluster, clock, 2);
    assert.deepEqual(pickedPorts(cluster), new Set([a.port, b.port]));
    assert.match(clustersText(admin), new RegExp(`svc::127\\.0\\.0\\.1:${b.port}::health_flags::healthy\\n`));
  });

  await t.test("Envoy's health_check.* stats count the checks: 2 hosts x 5 rounds, b's 2 failures, 2 hosts healthy", () => {
    const hc = (n: string): number => store.counter(`cluster.svc.health_check.${n}`).value;
    assert.deepEqual(
      { attempt: hc('attempt'), success: hc('success'), failure: hc('failure'), network_failure: hc('network_failure') },
      { attempt: 10, success: 8, failure: 2, network_failure: 0 },
    );
    assert.equal(store.gauge('cluster.svc.health_check.healthy').value, 2);
    assert.equal(store.gauge('cluster.svc.health_check.degraded').value, 0);
  });
});

it('an EDS host removed by discovery stays while it passes its checks and leaves when it fails one', async (t) => {
  const { a, b, setBroken } = await twoUpstreams(t);
  const json: JsonObject = { name: 'svc', connect_timeout: '1s', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } }, lb_policy: 'ROUND_ROBIN', health_checks: [healthCheck()] };
  const compiled = compileCluster(fromJson(ClusterSchema, json, { registry: XDS_REGISTRY }));
  assert.ok(compiled.ok);
  const clock = new FakeClock();
  const cla = (ports: number[]): ClusterLoadAssignment => fromJson(ClusterLoadAssignmentSchema, endpoints(ports), { registry: XDS_REGISTRY });
  const store = new StatsStore();
  const cluster = new UpstreamCluster(compiled.value, { clock, random: seededRandom(7), secrets: NO_SECRETS, stats: store }, cla([a.port, b.port]));
  t.after(() => cluster.close());
  const keyB = `127.0.0.1:${b.port}`;
  assert.equal(cluster.tryAcquire('requests'), true);
  cluster.release('requests');
  await waitFor(() => cluster.healthFlags(keyB) === 'healthy' && cluster.healthFlags(`127.0.0.1:${a.port}`) === 'healthy', 'both hosts healthy');

  cluster.setAssignment(cla([a.port]), '2');
  assert.equal(cluster.healthFlags(keyB), '/pending_dynamic_removal');
  assert.deepEqual(pickedPorts(cluster), new Set([a.port, b.port]));
  assert.deepEqual(membership(store, cluster), { total: 2, healthy: 2, excluded: 0, change: 1 }, 'a host kept while it passes is still a member');
  cluster.setAssignment(cla([a.port]), '3');
  assert.equal(membership(store, cluster).change, 1, 'an update that adds and removes nobody is no membership change');

  // Without retriable_statuses a 503 fails the host at once, and a host pending removal then leaves.
  setBroken(true);
  await checkRound(cluster, clock, 2);
  assert.equal(cluster.healthFlags(keyB), undefined);
  assert.deepEqual(pickedPorts(cluster), new Set([a.port]));
  assert.deepEqual(membership(store, cluster), { total: 1, healthy: 1, excluded: 0, change: 2 });
});

it('health checks Envoy cannot run are rejected with the cluster (NACK)', () => {
  const proto = fromJson(
    ClusterSchema,
    { name: 'svc', connect_timeout: '1s', health_checks: [{ timeout: '1s', interval: '1s', unhealthy_threshold: 1, healthy_threshold: 1, custom_health_check: { name: 'envoy.health_checkers.redis' } }] },
    { registry: XDS_REGISTRY },
  );
  const r = compileResource(CLUSTER_TYPE, proto);
  assert.equal(r.ok, false);
  if (!r.ok) assert.deepEqual(r.problems, ["health_checks[0].custom_health_check: custom health checker 'envoy.health_checkers.redis' is not supported"]);
});

it('a host outlier detection ejected comes back at its next passed health check (successful_active_health_check_uneject_host)', async (t) => {
  // Envoy's default: the active check vouches for the host, whatever is left of its 300 s ejection.
  const { a, b } = await twoUpstreams(t);
  const make = (unejectOnCheck: boolean): UpstreamCluster => {
    const json: JsonObject = {
      name: 'svc',
      connect_timeout: '1s',
      lb_policy: 'ROUND_ROBIN',
      load_assignment: endpoints([a.port, b.port]),
      health_checks: [healthCheck()],
      outlier_detection: { consecutive_5xx: 2, base_ejection_time: '300s', max_ejection_percent: 50, successful_active_health_check_uneject_host: unejectOnCheck },
    };
    const compiled = compileCluster(fromJson(ClusterSchema, json, { registry: XDS_REGISTRY }));
    assert.ok(compiled.ok);
    const c = new UpstreamCluster(compiled.value, { clock, random: seededRandom(7), secrets: NO_SECRETS, stats: new StatsStore() }, undefined);
    t.after(() => c.close());
    return c;
  };
  const clock = new FakeClock();
  const keyB = `127.0.0.1:${b.port}`;
  for (const unejectOnCheck of [true, false]) {
    const cluster = make(unejectOnCheck);
    assert.equal(cluster.tryAcquire('requests'), true); // traffic: checks run every interval, not no_traffic_interval
    cluster.release('requests');
    await waitFor(() => cluster.healthFlags(keyB) === 'healthy', 'the first checks');
    const hostB = cluster.pick({ hash: undefined, avoid: new Set([`127.0.0.1:${a.port}`]), originalDestination: undefined });
    assert.equal(hostB?.port, b.port);
    if (hostB === undefined) return;
    cluster.report(hostB, '5xx');
    cluster.report(hostB, '5xx');
    assert.equal(cluster.healthFlags(keyB), '/failed_outlier_check');
    assert.deepEqual(pickedPorts(cluster), new Set([a.port]));
    await checkRound(cluster, clock, 2);
    if (unejectOnCheck) {
      assert.equal(cluster.healthFlags(keyB), 'healthy', 'the passed check brought it back');
      assert.deepEqual(pickedPorts(cluster), new Set([a.port, b.port]));
    } else {
      assert.equal(cluster.healthFlags(keyB), '/failed_outlier_check', 'ejected until its time is over');
      assert.deepEqual(pickedPorts(cluster), new Set([a.port]));
    }
  }
});

// Envoy's "active health checking fast failure" (arch_overview/upstream/health_checking; router.cc onUpstreamHeaders):
// a response carrying x-envoy-immediate-health-check-fail, on any request, fails the host's active check at once
// and excludes it, without waiting for its next check (60 s away here), counted in health_check.passive_failure.
it('a response with x-envoy-immediate-health-check-fail takes its host out at once (through the router)', async (t) => {
  let failing = false;
  const a = await startUpstream(t, 'a');
  const b = await startUpstream(t, 'b', '127.0.0.1', 0, (req, res) => {
    res.writeHead(200, req.url !== '/healthz' && failing ? { 'x-envoy-immediate-health-check-fail': 'true' } : {});
    res.end('b');
  });
  const cluster = fromJson(
    ClusterSchema,
    { name: 'svc', connect_timeout: '1s', type: 'STATIC', lb_policy: 'ROUND_ROBIN', load_assignment: endpoints([a.port, b.port]), health_checks: [{ ...healthCheck(), interval: '60s' }] },
    { registry: XDS_REGISTRY },
  );
  const store = new StatsStore();
  const clusters = clusterManagerOf([cluster], store);
  const svc = clusters.get('svc') as UpstreamCluster;
  const { port, manager } = await startHcmListener('gw', { routes: routeConfig('r', [vhost('all', ['*'], [route('all', prefix('/'), toCluster('svc'))])]), clusters, stats: store });
  t.after(() => {
    manager.close();
    clusters.close();
  });
  const keyB = `127.0.0.1:${b.port}`;
  await waitFor(() => svc.healthFlags(keyB) === 'healthy' && svc.healthFlags(`127.0.0.1:${a.port}`) === 'healthy', 'both hosts healthy after their first checks');
  failing = true;
  const bodies: string[] = [];
  await waitFor(async () => {
    bodies.push((await ask(port, { path: '/' })).body);
    return bodies.includes('b');
  }, 'b to answer once');
  assert.equal(svc.healthFlags(keyB), '/failed_active_hc/excluded_via_immediate_hc_fail');
  const after = await Promise.all(Array.from({ length: 10 }, () => ask(port, { path: '/' })));
  assert.deepEqual(new Set(after.map((r) => r.body)), new Set(['a']), 'no request reaches b any more');
  assert.equal(store.counter('cluster.svc.health_check.passive_failure').value, 1);
  assert.equal(store.counter('cluster.svc.health_check.failure').value, 1);
});
