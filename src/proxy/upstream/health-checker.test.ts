import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ClusterSchema, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HealthCheckSchema } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { FakeClock } from '../../../test/support/xds-server/fake-clock.js';
import { compileCluster } from '../runtime/compile-cluster.js';
import { NO_SECRETS } from './connection-pools.js';
import { compileHealthCheck, healthCheckProblems, type CompiledHealthCheck } from './health-checker-config.js';
import { healthFlagsText } from './health-checker-flags.js';
import type { HostCheckSpec } from './health-checker-hosts.js';
import type { ProbeOutcome } from './health-checker-probe.js';
import { BAD, NET, PASS, RETRY, ScriptedProbes } from '../../../test/support/scripted-probes.js';
import { HealthChecker } from './health-checker.js';
import type { Random } from '../lib/random.js';

const BASE: JsonObject = { timeout: '1s', interval: '5s', unhealthy_threshold: 2, healthy_threshold: 2, http_health_check: { path: '/healthz' } };

/** BASE without some fields, plus others. */
function base(drop: string[], add: JsonObject = {}): JsonObject {
  const o: JsonObject = { ...BASE };
  for (const k of drop) delete o[k];
  return { ...o, ...add };
}

function hc(extra: JsonObject = {}): CompiledHealthCheck {
  const problems: string[] = [];
  const c = compileHealthCheck(fromJson(HealthCheckSchema, { ...BASE, ...extra }, { registry: XDS_REGISTRY }), 'hc', problems);
  assert.deepEqual(problems, []);
  return c as CompiledHealthCheck;
}

function cluster(json: JsonObject): Cluster {
  return fromJson(ClusterSchema, { name: 'c', connect_timeout: '1s', ...json }, { registry: XDS_REGISTRY });
}


function spec(key: string, extra: Partial<HostCheckSpec> = {}): HostCheckSpec {
  const i = key.lastIndexOf(':');
  return { key, address: key.slice(0, i), port: Number(key.slice(i + 1)), hostname: '', disabled: false, socketMatch: undefined, ...extra };
}

function setup(config: CompiledHealthCheck, opts: { traffic?: boolean; random?: Random; warm?: boolean; hosts?: string[] } = {}) {
  const clock = new FakeClock();
  const probes = new ScriptedProbes();
  const changes: string[] = [];
  const compiled = compileCluster(cluster({}));
  assert.ok(compiled.ok);
  const checker = new HealthChecker(
    config,
    compiled.value,
    {
      clock,
      random: opts.random ?? { next: () => 0 },
      secrets: NO_SECRETS,
      hasTraffic: () => opts.traffic ?? true,
      onHealthChange: (k, failed) => changes.push(`${k} ${failed ? 'failed' : 'healthy'}`),
      probeFactory: probes.factory,
    },
    opts.warm ?? false,
  );
  checker.setHosts((opts.hosts ?? ['10.0.0.1:80']).map((k) => spec(k)));
  return { clock, probes, checker, changes };
}

const H = '10.0.0.1:80';

/** Answers the check in flight, then advances the clock until the next check starts (never past its timeout). */
function step(s: ReturnType<typeof setup>, o: ProbeOutcome): void {
  const runs = s.probes.count(H);
  s.probes.answer(H, o);
  for (let i = 0; i < 10_000 && s.probes.count(H) === runs; i++) s.clock.advance(100);
}

describe('health checker: host state', () => {
  it('a new host is failed and checked at once; its first pass makes it healthy immediately', () => {
    const s = setup(hc());
    assert.equal(s.probes.count(H), 1);
    assert.equal(s.checker.isFailed(H), true);
    assert.equal(healthFlagsText(s.checker.flags(H) ?? {}), '/failed_active_hc');
    s.probes.answer(H, PASS);
    assert.equal(s.checker.isFailed(H), false);
    assert.deepEqual(s.changes, [`${H} healthy`]);
    assert.equal(healthFlagsText(s.checker.flags(H) ?? {}), 'healthy');
  });

  const cases: { name: string; outcomes: ProbeOutcome[]; failed: boolean[] }[] = [
    { name: 'network failures need unhealthy_threshold (2) in a row', outcomes: [PASS, NET, NET], failed: [false, false, true] },
    { name: 'a pass resets the run of failures', outcomes: [PASS, NET, PASS, NET, NET], failed: [false, false, false, false, true] },
    { name: 'an active failure fails the host at once', outcomes: [PASS, BAD], failed: [false, true] },
    { name: 'a retriable status counts toward unhealthy_threshold', outcomes: [PASS, RETRY, RETRY], failed: [false, false, true] },
    { name: 'a failed host needs healthy_threshold (2) passes', outcomes: [PASS, BAD, PASS, PASS], failed: [false, true, true, false] },
    { name: 'a failure resets the run of passes', outcomes: [PASS, BAD, PASS, NET, PASS, PASS], failed: [false, true, true, true, true, false] },
    { name: 'a first check that fails leaves the host failed; then the threshold applies', outcomes: [NET, PASS, PASS], failed: [true, true, false] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = setup(hc());
      const seen = c.outcomes.map((o) => {
        step(s, o);
        return s.checker.isFailed(H);
      });
      assert.deepEqual(seen, c.failed);
    });
  }

  it('a check that times out is a network failure; a failed host that keeps timing out shows /active_hc_timeout', () => {
    const s = setup(hc({ unhealthy_threshold: 1 }));
    step(s, PASS);
    assert.equal(s.probes.count(H), 2);
    s.clock.advance(1000);
    assert.equal(s.probes.aborted.get(H), 1);
    assert.equal(s.checker.isFailed(H), true);
    assert.equal(healthFlagsText(s.checker.flags(H) ?? {}), '/failed_active_hc/active_hc_timeout');
    s.clock.advance(5000);
    s.probes.answer(H, BAD);
    assert.equal(healthFlagsText(s.checker.flags(H) ?? {}), '/failed_active_hc');
    assert.equal(s.checker.stats.network_failure, 1);
  });

  it('checks that compared the healthchecked cluster header are counted in verify_cluster, passing or not', () => {
    const s = setup(hc({ unhealthy_threshold: 1 }));
    step(s, { ok: true, degraded: false, verifiedCluster: true });
    step(s, { ok: false, type: 'active', retriable: false, excludeImmediately: false, verifiedCluster: true });
    step(s, BAD);
    assert.deepEqual([s.checker.stats.verify_cluster, s.checker.stats.success, s.checker.stats.failure], [2, 1, 2]);
  });

  it('x-envoy-immediate-health-check-fail excludes the host until it passes again', () => {
    const s = setup(hc({ healthy_threshold: 1 }));
    step(s, PASS);
    step(s, { ok: false, type: 'active', retriable: false, excludeImmediately: true });
    assert.equal(healthFlagsText(s.checker.flags(H) ?? {}), '/failed_active_hc/excluded_via_immediate_hc_fail');
    step(s, PASS);
    assert.equal(healthFlagsText(s.checker.flags(H) ?? {}), 'healthy');
  });

  it('a degraded pass shows /degraded_active_hc and keeps the host healthy', () => {
    const s = setup(hc());
    s.probes.answer(H, { ok: true, degraded: true });
    assert.equal(s.checker.isFailed(H), false);
    assert.equal(healthFlagsText(s.checker.flags(H) ?? {}), '/degraded_active_hc');
  });

  it('with ignore_new_hosts_until_first_hc a new host is also pending until its first result', () => {
    const s = setup(hc(), { warm: true });
    assert.equal(healthFlagsText(s.checker.flags(H) ?? {}), '/failed_active_hc/pending_active_hc');
    s.probes.answer(H, NET);
    assert.equal(healthFlagsText(s.checker.flags(H) ?? {}), '/failed_active_hc');
  });

  it('version changes whenever a host flips, and only then', () => {
    const s = setup(hc());
    const v0 = s.checker.version();
    step(s, PASS);
    const v1 = s.checker.version();
    assert.notEqual(v1, v0);
    step(s, PASS);
    step(s, NET);
    assert.equal(s.checker.version(), v1);
    step(s, NET);
    assert.notEqual(s.checker.version(), v1);
  });
});

describe('health checker: hosts come and go', () => {
  it('a host that leaves has its probe closed and stops being checked; one that stays keeps its state', () => {
    const B = '10.0.0.2:80';
    const s = setup(hc(), { hosts: [H, B] });
    s.probes.answer(H, PASS);
    s.probes.answer(B, PASS);
    s.checker.setHosts([spec(H)]);
    assert.equal(s.probes.closed.has(B), true);
    assert.equal(s.checker.isFailed(H), false);
    assert.equal(s.checker.flags(B), undefined);
    s.clock.advance(60_000);
    assert.equal(s.probes.count(B), 1);
  });

  it('a host whose check target changed starts over, failed', () => {
    const s = setup(hc());
    s.probes.answer(H, PASS);
    s.checker.setHosts([spec(H, { port: 81 })]);
    assert.equal(s.checker.isFailed(H), true);
    assert.equal(s.probes.count('10.0.0.1:81'), 1);
  });

  it('a host with disable_active_health_check is never checked nor failed', () => {
    const s = setup(hc(), { hosts: [] });
    s.checker.setHosts([spec(H, { disabled: true })]);
    assert.equal(s.probes.count(H), 0);
    assert.equal(s.checker.isFailed(H), false);
  });

  it('the Host header is http_health_check.host, else the endpoint health-check hostname, else the cluster name', () => {
    const s = setup(hc(), { hosts: [] });
    s.checker.setHosts([spec(H, { hostname: 'ep.example' }), spec('10.0.0.2:80')]);
    assert.equal(s.probes.targets.get(H)?.authority, 'ep.example');
    assert.equal(s.probes.targets.get('10.0.0.2:80')?.authority, 'c');
    const t = setup(hc({ http_health_check: { path: '/h', host: 'hc.example' } }), { hosts: [] });
    t.checker.setHosts([spec(H, { hostname: 'ep.example' })]);
    assert.equal(t.probes.targets.get(H)?.authority, 'hc.example');
  });

  it('close stops every check', () => {
    const s = setup(hc());
    s.checker.close();
    assert.equal(s.probes.closed.has(H), true);
    assert.equal(s.clock.pending, 0);
  });
});

describe('health checker: when the next check runs', () => {
  const I = {
    interval: '5s',
    no_traffic_interval: '30s',
    no_traffic_healthy_interval: '40s',
    unhealthy_interval: '7s',
    unhealthy_edge_interval: '3s',
    healthy_edge_interval: '2s',
  };
  const cases: { name: string; config: JsonObject; traffic: boolean; before: ProbeOutcome[]; last: ProbeOutcome; wait: number }[] = [
    { name: 'no traffic yet: no_traffic_interval defaults to 60 s', config: {}, traffic: false, before: [], last: PASS, wait: 60_000 },
    { name: 'no traffic, after a pass: no_traffic_healthy_interval', config: I, traffic: false, before: [], last: PASS, wait: 40_000 },
    { name: 'no traffic, after a failure: no_traffic_interval', config: I, traffic: false, before: [], last: NET, wait: 30_000 },
    { name: 'traffic, healthy host passes: interval', config: I, traffic: true, before: [PASS], last: PASS, wait: 5000 },
    { name: 'traffic, failed host fails again: unhealthy_interval', config: I, traffic: true, before: [], last: NET, wait: 7000 },
    { name: 'traffic, failure pending the threshold: unhealthy_edge_interval', config: I, traffic: true, before: [PASS], last: NET, wait: 3000 },
    { name: 'traffic, pass pending the threshold: healthy_edge_interval', config: I, traffic: true, before: [PASS, BAD], last: PASS, wait: 2000 },
    { name: 'traffic, host just marked healthy: interval', config: I, traffic: true, before: [PASS, BAD, PASS], last: PASS, wait: 5000 },
    { name: 'unhealthy_interval defaults to interval', config: {}, traffic: true, before: [], last: NET, wait: 5000 },
    { name: 'interval_jitter_percent adds up to that share of the interval', config: { interval_jitter_percent: 10 }, traffic: true, before: [PASS], last: PASS, wait: 5250 },
    { name: 'interval_jitter adds up to that many ms', config: { interval_jitter: '0.4s' }, traffic: true, before: [PASS], last: PASS, wait: 5200 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = setup(hc(c.config), { traffic: c.traffic, random: { next: () => 0.5 } });
      for (const o of c.before) step(s, o);
      const runs = s.probes.count(H);
      s.probes.answer(H, c.last);
      s.clock.advance(c.wait - 1);
      assert.equal(s.probes.count(H), runs, 'not before');
      s.clock.advance(1);
      assert.equal(s.probes.count(H), runs + 1, 'at the interval');
    });
  }

  it('initial_jitter delays the first check by a random share of it', () => {
    const s = setup(hc({ initial_jitter: '1s' }), { random: { next: () => 0.25 } });
    assert.equal(s.probes.count(H), 0);
    s.clock.advance(249);
    assert.equal(s.probes.count(H), 0);
    s.clock.advance(1);
    assert.equal(s.probes.count(H), 1);
  });
});

describe('health check config', () => {
  const bad: { name: string; health_checks: JsonObject[]; problem: RegExp }[] = [
    { name: 'two health checks', health_checks: [BASE, BASE], problem: /Multiple health checks not supported/ },
    { name: 'a custom (redis) health checker', health_checks: [base(['http_health_check'], { custom_health_check: { name: 'envoy.health_checkers.redis' } })], problem: /custom health checker 'envoy.health_checkers.redis' is not supported/ },
    { name: 'no timeout', health_checks: [base(['timeout'])], problem: /health_checks\[0\]\.timeout: value is required/ },
    { name: 'a zero interval', health_checks: [{ ...BASE, interval: '0s' }], problem: /interval: value must be greater than 0s/ },
    { name: 'no healthy_threshold', health_checks: [base(['healthy_threshold'])], problem: /healthy_threshold: value is required/ },
    { name: 'no checker at all', health_checks: [base(['http_health_check'])], problem: /must be set/ },
    { name: 'an empty path', health_checks: [{ ...BASE, http_health_check: { path: '' } }], problem: /path: value length must be at least 1/ },
    { name: 'a status range above 600', health_checks: [{ ...BASE, http_health_check: { path: '/', expected_statuses: [{ start: 200, end: 700 }] } }], problem: /expecting end <= 600/ },
    { name: 'an empty status range', health_checks: [{ ...BASE, http_health_check: { path: '/', retriable_statuses: [{ start: 503, end: 503 }] } }], problem: /retriable status range: expecting start < end/ },
    { name: 'HTTP/3', health_checks: [{ ...BASE, http_health_check: { path: '/', codec_client_type: 'HTTP3' } }], problem: /HTTP3 health checks are not supported/ },
    { name: 'a GET with a payload', health_checks: [{ ...BASE, http_health_check: { path: '/', send: { text: '00' } } }], problem: /cannot specify a request payload with method 'GET'/ },
    { name: 'invalid hex', health_checks: [base(['http_health_check'], { tcp_health_check: { send: { text: 'zz' } } })], problem: /invalid hex string 'zz'/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      const problems = healthCheckProblems(cluster({ health_checks: c.health_checks }));
      assert.ok(problems.some((p) => c.problem.test(p)), problems.join('; '));
    });
  }

  it("applies Envoy's defaults", () => {
    const c = hc();
    assert.deepEqual(
      [c.noTrafficIntervalMs, c.noTrafficHealthyIntervalMs, c.unhealthyIntervalMs, c.unhealthyEdgeIntervalMs, c.healthyEdgeIntervalMs, c.reuseConnection],
      [60_000, 60_000, 5000, 5000, 5000, true],
    );
    assert.equal(c.probe.kind, 'http');
    if (c.probe.kind === 'http') {
      assert.deepEqual(c.probe.expected, [[200, 201]]);
      assert.equal(c.probe.method, 'GET');
    }
  });

  it('accepts tcp and grpc checks and clusters without health checks', () => {
    assert.deepEqual(healthCheckProblems(cluster({})), []);
    const common = base(['http_health_check']);
    assert.deepEqual(healthCheckProblems(cluster({ health_checks: [{ ...common, tcp_health_check: { send: { text: '50494e47' }, receive: [{ text: '504f4e47' }] } }] })), []);
    assert.deepEqual(healthCheckProblems(cluster({ health_checks: [{ ...common, grpc_health_check: { service_name: 's' } }] })), []);
  });
});

describe('health flags text', () => {
  it("orders flags as Envoy's HostUtility::healthFlagsToString", () => {
    assert.equal(healthFlagsText({}), 'healthy');
    assert.equal(
      healthFlagsText({ activeHcTimeout: true, failedOutlierCheck: true, failedActiveHc: true, pendingDynamicRemoval: true, failedEdsHealth: true }),
      '/failed_active_hc/failed_outlier_check/failed_eds_health/pending_dynamic_removal/active_hc_timeout',
    );
  });
});
