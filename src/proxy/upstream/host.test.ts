import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { HostCountersTable, healthClass, hostKey, hostSetFromAssignment, type HostHealth } from './host.js';
import { assignment } from './lb/test-fixtures.js';

test('hostSetFromAssignment: groups by priority, levels are dense, hosts keep EDS order', () => {
  const set = hostSetFromAssignment(
    assignment([
      { zone: 'b', priority: 0, endpoints: ['10.0.0.2:80', '10.0.0.1:80'] },
      { zone: 'a', priority: 0, endpoints: ['10.0.0.3:80'] },
      { zone: 'a', priority: 2, endpoints: ['10.0.1.1:80'] },
    ]),
  );
  assert.equal(set.priorities.length, 3);
  assert.deepEqual(set.priorities[0]?.hosts.map((h) => h.key), ['10.0.0.2:80', '10.0.0.1:80', '10.0.0.3:80']);
  assert.deepEqual(set.priorities[1]?.hosts, []);
  assert.deepEqual(set.priorities[2]?.hosts.map((h) => h.priority), [2]);
  assert.deepEqual(set.hosts.map((h) => h.key), ['10.0.0.2:80', '10.0.0.1:80', '10.0.0.3:80', '10.0.1.1:80']);
  // Localities sorted by (region, zone, sub_zone) as Envoy's LocalityLess orders them.
  assert.deepEqual(set.priorities[0]?.localities.map((l) => l.locality.zone), ['a', 'b']);
  assert.deepEqual(set.problems, []);
});

test('hostSetFromAssignment: weights and defaults', () => {
  const set = hostSetFromAssignment(
    assignment([
      { zone: 'a', weight: 3, endpoints: [{ addr: '10.0.0.1:80', weight: 5 }, '10.0.0.2:80'] },
      { zone: 'b', endpoints: ['10.0.0.3:80'] },
    ]),
  );
  const level = set.priorities[0];
  assert.deepEqual(level?.hosts.map((h) => h.weight), [5, 1, 1]);
  assert.deepEqual(level?.localities.map((l) => l.weight), [3, 0]);
  assert.equal(set.overprovisioningFactor, 140);
  assert.equal(set.weightedPriorityHealth, false);
  assert.equal(hostSetFromAssignment(assignment([{ endpoints: ['10.0.0.1:80'] }], 200)).overprovisioningFactor, 200);
});

const HEALTH: { status: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED'; cls: string }[] = [
  { status: 'UNKNOWN', cls: 'healthy' },
  { status: 'HEALTHY', cls: 'healthy' },
  { status: 'DEGRADED', cls: 'degraded' },
  { status: 'UNHEALTHY', cls: 'unhealthy' },
  { status: 'DRAINING', cls: 'unhealthy' },
  { status: 'TIMEOUT', cls: 'unhealthy' },
];

for (const c of HEALTH) {
  test(`hostSetFromAssignment: EDS ${c.status} is ${c.cls}`, () => {
    const set = hostSetFromAssignment(assignment([{ endpoints: [{ addr: '10.0.0.1:80', health: c.status }] }]));
    const h = set.hosts[0];
    assert.equal(h?.health, c.status as HostHealth);
    assert.equal(healthClass(h?.health ?? 'UNKNOWN'), c.cls);
  });
}

test('hostKey: IPv6 addresses are bracketed as Envoy prints them', () => {
  assert.equal(hostKey('10.1.2.3', 8080), '10.1.2.3:8080');
  assert.equal(hostKey('::1', 80), '[::1]:80');
});

test('hostSetFromAssignment: unusable endpoints are reported and skipped; a pipe (Unix domain socket) is a host keyed by its path', () => {
  const cla = create(ClusterLoadAssignmentSchema, {
    clusterName: 'c',
    namedEndpoints: {
      web: { address: { address: { case: 'socketAddress', value: { address: '10.0.0.9', portSpecifier: { case: 'portValue', value: 9 } } } } },
    },
    endpoints: [
      {
        lbEndpoints: [
          { hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'pipe', value: { path: '/tmp/s' } } } } } },
          {
            hostIdentifier: {
              case: 'endpoint',
              value: { address: { address: { case: 'socketAddress', value: { address: '10.0.0.1', portSpecifier: { case: 'namedPort', value: 'http' } } } } },
            },
          },
          { hostIdentifier: { case: 'endpointName', value: 'missing' } },
          { hostIdentifier: { case: 'endpointName', value: 'web' }, loadBalancingWeight: 0 },
        ],
      },
    ],
  });
  const set = hostSetFromAssignment(cla);
  assert.deepEqual(set.hosts.map((h) => `${h.key}/${h.weight}`), ['/tmp/s/1', '10.0.0.9:9/1']);
  assert.equal(set.hosts[0]?.pipe, true);
  assert.deepEqual(set.problems, [
    'endpoints[0].lb_endpoints[1]: named ports are not supported',
    "endpoints[0].lb_endpoints[2]: endpoint_name 'missing' is not in named_endpoints",
    'endpoints[0].lb_endpoints[3]: load_balancing_weight must be at least 1; using 1',
  ]);
});

test('hostSetFromAssignment: hosts are frozen', () => {
  const set = hostSetFromAssignment(assignment([{ endpoints: ['10.0.0.1:80'] }]));
  assert.equal(Object.isFrozen(set.hosts[0]), true);
  assert.equal(Object.isFrozen(set.priorities), true);
});

test('HostCountersTable: counters follow the key and are dropped when idle and gone', () => {
  const t = new HostCountersTable();
  t.counters('a:1').activeRequests++;
  t.counters('b:1');
  assert.equal(t.activeRequests('a:1'), 1);
  t.retain([]);
  assert.equal(t.activeRequests('a:1'), 1, 'busy counters survive');
  t.counters('a:1').activeRequests--;
  t.retain([]);
  assert.equal(t.counters('a:1').activeRequests, 0);
});
