// Envoy's host override: which statuses an override may choose (createOverrideHostStatus), a host's health
// status (HostImpl::healthStatus), and the choice itself (selectOverrideHost and the strict flag).
// Cases follow Envoy's test/common/upstream/host_utility_test.cc.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { Cluster_CommonLbConfigSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HealthStatus } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import { hostHealthStatus, OverrideHostSelector, overrideHostStatuses } from './override-host.js';
import type { Host, HostHealth, HostSet } from './host.js';

function host(port: number, health: HostHealth = 'HEALTHY'): Host {
  return { address: '10.0.0.1', port, key: `10.0.0.1:${port}`, hostname: '', weight: 1, locality: { region: '', zone: '', subZone: '' }, priority: 0, health };
}

function set(hosts: Host[]): HostSet {
  return { clusterName: 'c', priorities: [], hosts, overprovisioningFactor: 140, weightedPriorityHealth: false, problems: [] };
}

it('override statuses: UNKNOWN, HEALTHY and DEGRADED by default; the configured set otherwise; an empty set chooses none', () => {
  assert.deepEqual([...overrideHostStatuses(undefined)].sort(), ['DEGRADED', 'HEALTHY', 'UNKNOWN']);
  assert.deepEqual([...overrideHostStatuses(create(Cluster_CommonLbConfigSchema))].sort(), ['DEGRADED', 'HEALTHY', 'UNKNOWN']);
  const istio = create(Cluster_CommonLbConfigSchema, { overrideHostStatus: { statuses: [HealthStatus.HEALTHY, HealthStatus.DRAINING, HealthStatus.UNKNOWN, HealthStatus.DEGRADED] } });
  assert.deepEqual([...overrideHostStatuses(istio)].sort(), ['DEGRADED', 'DRAINING', 'HEALTHY', 'UNKNOWN']);
  assert.equal(overrideHostStatuses(create(Cluster_CommonLbConfigSchema, { overrideHostStatus: { statuses: [] } })).size, 0);
});

it('a host health status: failed active checks or an ejection first, then EDS unhealthy states, then degraded by checks', () => {
  assert.equal(hostHealthStatus(host(1, 'DRAINING'), { failedActiveHc: true }, false), 'UNHEALTHY');
  assert.equal(hostHealthStatus(host(1, 'HEALTHY'), undefined, true), 'UNHEALTHY');
  assert.equal(hostHealthStatus(host(1, 'DRAINING'), { degradedActiveHc: true }, false), 'DRAINING');
  assert.equal(hostHealthStatus(host(1, 'TIMEOUT'), undefined, false), 'TIMEOUT');
  assert.equal(hostHealthStatus(host(1, 'HEALTHY'), { degradedActiveHc: true }, false), 'DEGRADED');
  assert.equal(hostHealthStatus(host(1, 'UNKNOWN'), {}, false), 'UNKNOWN');
});

it('selection: the named host when its status is accepted, else the balancer, or no host when strict', () => {
  const hosts = [host(1), host(2, 'DRAINING'), host(3)];
  const ejected = new Set(['10.0.0.1:3']);
  const sel = (statuses: ReadonlySet<HostHealth>) => new OverrideHostSelector(set(hosts), statuses, (h) => hostHealthStatus(h, undefined, ejected.has(h.key)));
  const plain = sel(overrideHostStatuses(undefined));
  assert.equal(plain.select({ address: '10.0.0.1:1', strict: false }), hosts[0]);
  assert.equal(plain.select({ address: '10.0.0.1:2', strict: false }), 'balance', 'DRAINING is not accepted by default');
  assert.equal(plain.select({ address: '10.0.0.1:2', strict: true }), undefined);
  assert.equal(plain.select({ address: '10.0.0.1:3', strict: false }), 'balance', 'an ejected host is UNHEALTHY');
  assert.equal(plain.select({ address: '10.9.9.9:1', strict: false }), 'balance');
  assert.equal(plain.select({ address: '10.9.9.9:1', strict: true }), undefined);
  const istio = sel(new Set<HostHealth>(['HEALTHY', 'DRAINING', 'UNKNOWN', 'DEGRADED']));
  assert.equal(istio.select({ address: '10.0.0.1:2', strict: false }), hosts[1]);
  assert.equal(sel(new Set()).select({ address: '10.0.0.1:1', strict: false }), 'balance', 'an empty set ignores overrides');
});
