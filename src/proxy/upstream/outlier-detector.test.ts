import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { OutlierDetectionSchema } from '../../xds/gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import type { Clock } from '../../lib/clock.js';
import { seededRandom, type Random } from '../lib/random.js';
import { OutlierDetector, compileOutlierConfig, outlierDetectionProblems, type OutlierEvent, type OutlierResult } from './outlier-detector.js';

/** A clock whose time only moves when the test says so; timers fire in order as it passes them. */
class FakeClock implements Clock {
  private t = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.live = false;
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    this.timers = this.timers.filter((x) => x.live);
  }

  pending(): number {
    return this.timers.filter((x) => x.live).length;
  }
}

const HOSTS = Array.from({ length: 10 }, (_, i) => `10.0.0.${i + 1}:80`);
const A = HOSTS[0] as string;

function detector(init: MessageInitShape<typeof OutlierDetectionSchema> = {}, hosts = HOSTS, random: Random = seededRandom(1)) {
  const clock = new FakeClock();
  const events: OutlierEvent[] = [];
  const d = new OutlierDetector(create(OutlierDetectionSchema, init), clock, random, (e) => events.push(e));
  d.setHosts(hosts);
  return { d, clock, events };
}

function report(d: OutlierDetector, key: string, kind: OutlierResult, times: number): void {
  for (let i = 0; i < times; i++) d.reportResult(key, kind);
}

test('outlier: 5 consecutive 5xx eject the host', () => {
  const { d, events } = detector();
  report(d, A, '5xx', 4);
  assert.equal(d.isEjected(A), false);
  d.reportResult(A, '5xx');
  assert.equal(d.isEjected(A), true);
  assert.equal(d.ejectionCount(), 1);
  assert.deepEqual(events, [{ action: 'eject', hostKey: A, type: 'consecutive_5xx', enforced: true, numEjections: 1 }]);
  assert.equal(d.stats().ejections_enforced_consecutive_5xx, 1);
});

test('outlier: a success in between resets the count', () => {
  const { d } = detector();
  report(d, A, '5xx', 4);
  d.reportResult(A, 'success');
  report(d, A, '5xx', 4);
  assert.equal(d.isEjected(A), false);
});

test('outlier: the host returns at the first interval tick after base_ejection_time', () => {
  const { d, clock, events } = detector();
  clock.advance(5000);
  report(d, A, '5xx', 5); // ejected at t = 5 s; ticks every 10 s
  clock.advance(30000); // t = 35 s: at the 30 s tick it had been out 25 s < 30 s
  assert.equal(d.isEjected(A), true);
  clock.advance(5000); // tick at 40 s: out 35 s ≥ 30 s
  assert.equal(d.isEjected(A), false);
  assert.equal(events.at(-1)?.action, 'uneject');
  assert.equal(d.ejectionCount(), 0);
});

test('outlier: a second ejection lasts twice as long; backoff wears off while healthy', () => {
  const { d, clock } = detector({ interval: { seconds: 1n }, baseEjectionTime: { seconds: 10n } });
  report(d, A, '5xx', 5);
  clock.advance(10000);
  assert.equal(d.isEjected(A), false);
  report(d, A, '5xx', 5);
  clock.advance(10000);
  assert.equal(d.isEjected(A), true, 'second ejection: 20 s');
  clock.advance(10000);
  assert.equal(d.isEjected(A), false);
  // Each healthy interval after returning takes one step off the backoff: the next ejection is 10 s again.
  clock.advance(5000);
  report(d, A, '5xx', 5);
  clock.advance(10000);
  assert.equal(d.isEjected(A), false);
  assert.equal(d.numEjections(A), 3);
});

test('outlier: max_ejection_time caps the ejection', () => {
  const { d, clock } = detector({ interval: { seconds: 1n }, baseEjectionTime: { seconds: 10n }, maxEjectionTime: { seconds: 15n } });
  for (let i = 0; i < 3; i++) {
    report(d, A, '5xx', 5);
    clock.advance(15000);
    assert.equal(d.isEjected(A), false, `ejection ${i + 1} within 15 s`);
  }
});

const PERCENT: { name: string; hosts: number; init: MessageInitShape<typeof OutlierDetectionSchema>; failing: number; ejected: number }[] = [
  { name: 'default 10% of 10 hosts: one', hosts: 10, init: {}, failing: 3, ejected: 1 },
  { name: 'default 10% of 4 hosts: none', hosts: 4, init: {}, failing: 2, ejected: 0 },
  { name: 'always_eject_one_host: one of 4', hosts: 4, init: { alwaysEjectOneHost: true }, failing: 2, ejected: 1 },
  { name: '50% of 4 hosts: two', hosts: 4, init: { maxEjectionPercent: 50 }, failing: 4, ejected: 2 },
  { name: '100%: all', hosts: 3, init: { maxEjectionPercent: 100 }, failing: 3, ejected: 3 },
];

for (const c of PERCENT) {
  test(`outlier: max_ejection_percent, ${c.name}`, () => {
    const { d } = detector(c.init, HOSTS.slice(0, c.hosts));
    for (const h of HOSTS.slice(0, c.failing)) report(d, h, '5xx', 5);
    assert.equal(d.ejectionCount(), c.ejected);
    assert.equal(d.stats().ejections_overflow, c.failing - c.ejected);
  });
}

test('outlier: gateway failures are detected but not enforced by default, while 5xx still ejects', () => {
  const { d, events } = detector();
  report(d, A, 'gateway', 5);
  assert.equal(d.isEjected(A), true);
  assert.deepEqual(
    events.map((e) => (e.action === 'eject' ? `${e.type}:${e.enforced}` : e.action)),
    ['consecutive_gateway_failure:false', 'consecutive_5xx:true'],
  );
});

test('outlier: consecutive_gateway_failure enforced when asked', () => {
  const { d, events } = detector({ enforcingConsecutiveGatewayFailure: 100, consecutive5xx: 100 });
  report(d, A, 'gateway', 5);
  assert.equal(d.isEjected(A), true);
  assert.equal(events[0]?.action === 'eject' && events[0].type, 'consecutive_gateway_failure');
});

test('outlier: a plain 5xx breaks a gateway-failure streak', () => {
  const { d } = detector({ enforcingConsecutiveGatewayFailure: 100, consecutive5xx: 100 });
  report(d, A, 'gateway', 4);
  d.reportResult(A, '5xx');
  report(d, A, 'gateway', 4);
  assert.equal(d.isEjected(A), false);
});

test('outlier: local-origin failures count as gateway errors unless split', () => {
  const merged = detector();
  report(merged.d, A, 'local-origin-failure', 5);
  assert.equal(merged.d.isEjected(A), true);

  const split = detector({ splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailure: 3 });
  report(split.d, A, 'local-origin-failure', 2);
  split.d.reportResult(A, '5xx'); // the connection worked: local streak resets
  report(split.d, A, 'local-origin-failure', 2);
  assert.equal(split.d.isEjected(A), false);
  split.d.reportResult(A, 'local-origin-failure');
  assert.equal(split.d.isEjected(A), true);
  assert.equal(split.d.stats().ejections_enforced_consecutive_local_origin_failure, 1);
});

test('outlier: enforcing percentages draw from the injected Random', () => {
  const high: Random = { next: () => 0.99 };
  const { d, events } = detector({ enforcingConsecutive5xx: 50 }, HOSTS, high);
  report(d, A, '5xx', 5);
  assert.equal(d.isEjected(A), false);
  assert.deepEqual(events, [{ action: 'eject', hostKey: A, type: 'consecutive_5xx', enforced: false, numEjections: 0 }]);
  const low: Random = { next: () => 0.1 };
  const second = detector({ enforcingConsecutive5xx: 50 }, HOSTS, low);
  report(second.d, A, '5xx', 5);
  assert.equal(second.d.isEjected(A), true);
});

test('outlier: success rate ejects the host far below the others', () => {
  const hosts = HOSTS.slice(0, 5);
  const { d, clock } = detector({ maxEjectionPercent: 100, consecutive5xx: 1000 }, hosts);
  for (const h of hosts) {
    for (let i = 0; i < 100; i++) d.reportResult(h, h === A && i % 2 === 0 ? '5xx' : 'success');
  }
  clock.advance(10000);
  assert.deepEqual(hosts.filter((h) => d.isEjected(h)), [A]);
  assert.equal(d.stats().ejections_enforced_success_rate, 1);
});

test('outlier: success rate needs enough hosts and volume', () => {
  const hosts = HOSTS.slice(0, 4);
  const { d, clock } = detector({ maxEjectionPercent: 100, consecutive5xx: 1000 }, hosts);
  for (const h of hosts) for (let i = 0; i < 100; i++) d.reportResult(h, h === A ? '5xx' : 'success');
  clock.advance(10000);
  assert.equal(d.ejectionCount(), 0);
});

test('outlier: failure percentage ejects when enforced', () => {
  const hosts = HOSTS.slice(0, 5);
  const { d, clock } = detector({ maxEjectionPercent: 100, consecutive5xx: 1000, enforcingSuccessRate: 0, enforcingFailurePercentage: 100 }, hosts);
  for (const h of hosts) for (let i = 0; i < 60; i++) d.reportResult(h, h === A && i % 10 !== 0 ? '5xx' : 'success');
  clock.advance(10000);
  assert.deepEqual(hosts.filter((h) => d.isEjected(h)), [A]);
  assert.equal(d.stats().ejections_enforced_failure_percentage, 1);
});

test('outlier: removing an ejected host frees its ejection slot; unknown hosts are ignored', () => {
  const { d } = detector();
  report(d, A, '5xx', 5);
  const v = d.version();
  d.setHosts(HOSTS.slice(1));
  assert.equal(d.ejectionCount(), 0);
  assert.notEqual(d.version(), v);
  report(d, A, '5xx', 10);
  assert.equal(d.isEjected(A), false);
});

test('outlier: version changes on eject and uneject only', () => {
  const { d, clock } = detector();
  const v0 = d.version();
  report(d, A, '5xx', 4);
  assert.equal(d.version(), v0);
  d.reportResult(A, '5xx');
  const v1 = d.version();
  assert.notEqual(v1, v0);
  clock.advance(30000);
  assert.notEqual(d.version(), v1);
});

test('outlier: close stops the interval timer', () => {
  const { d, clock } = detector();
  assert.equal(clock.pending(), 1);
  d.close();
  assert.equal(clock.pending(), 0);
});

test('outlier config: Envoy defaults and problems', () => {
  const c = compileOutlierConfig(create(OutlierDetectionSchema, {}));
  assert.equal(c.intervalMs, 10000);
  assert.equal(c.baseEjectionTimeMs, 30000);
  assert.equal(c.maxEjectionTimeMs, 300000);
  assert.equal(c.maxEjectionPercent, 10);
  assert.equal(c.consecutive5xx, 5);
  assert.equal(c.consecutiveGatewayFailure, 5);
  assert.equal(c.enforcing.consecutive_gateway_failure, 0);
  assert.equal(c.enforcing.consecutive_5xx, 100);
  assert.equal(compileOutlierConfig(create(OutlierDetectionSchema, { baseEjectionTime: { seconds: 400n } })).maxEjectionTimeMs, 400000);
  assert.deepEqual(outlierDetectionProblems(create(OutlierDetectionSchema, { baseEjectionTime: { seconds: 60n }, maxEjectionTime: { seconds: 30n } })), [
    "outlier_detection: outlier detector's max_ejection_time cannot be smaller than base_ejection_time",
  ]);
  assert.deepEqual(outlierDetectionProblems(create(OutlierDetectionSchema, {})), []);
});

// successful_active_health_check_uneject_host (default true): "If active health checking is enabled and a host
// is ejected by outlier detection, a successful active health check unejects the host by default and considers
// it as healthy. Unejection also clears all the outlier detection counters." (outlier_detection.proto)
test('outlier: a passed active health check brings an ejected host back at once, its counters cleared', () => {
  const { d, events } = detector({ baseEjectionTime: { seconds: 300n } });
  d.reportResult(A, 'active-hc-success');
  assert.equal(d.isEjected(A), false, 'nothing to do for a host that is not ejected');
  assert.equal(events.length, 0);
  report(d, A, '5xx', 5);
  assert.equal(d.isEjected(A), true);
  d.reportResult(A, 'active-hc-success');
  assert.equal(d.isEjected(A), false, 'back long before the 300 s ejection is over');
  assert.deepEqual(events.at(-1), { action: 'uneject', hostKey: A, numEjections: 1 });
  report(d, A, '5xx', 4);
  assert.equal(d.isEjected(A), false, 'the consecutive count started again from zero');
  report(d, A, '5xx', 1);
  assert.equal(d.isEjected(A), true);
});

test('outlier: with successful_active_health_check_uneject_host false, the ejection runs its time', () => {
  const { d, clock } = detector({ baseEjectionTime: { seconds: 30n }, successfulActiveHealthCheckUnejectHost: false });
  report(d, A, '5xx', 5);
  d.reportResult(A, 'active-hc-success');
  assert.equal(d.isEjected(A), true);
  clock.advance(40_000);
  assert.equal(d.isEjected(A), false, 'back at the first interval after its ejection time');
});
