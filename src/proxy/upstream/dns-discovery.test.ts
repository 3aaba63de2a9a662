// DNS cluster host discovery against a real DNS server on 127.0.0.1 (test/support/dns-server.ts), queried by
// the c-ares resolver the proxy uses for a cluster with its own nameservers; time is a fake clock, so each
// refresh is the test's step. Expected behaviour: Envoy's dns_cluster.cc (see dns-discovery.ts).

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { compileCluster } from '../runtime/compile-cluster.js';
import type { CompiledDns } from '../runtime/compile-dns.js';
import { seededRandom } from '../lib/random.js';
import { StatsStore } from '../stats/stats-store.js';
import type { Clock } from '../../lib/clock.js';
import { DnsDiscovery } from './dns-discovery.js';
import { caresResolver } from './dns-resolver.js';
import { hostSetFromAssignment } from './host.js';
import { FakeClock } from '../../../test/support/xds-server/fake-clock.js';
import { startDnsServer, type TestDnsServer } from '../../../test/support/dns-server.js';
import { waitFor } from '../../../test/support/wait.js';

interface Rig {
  readonly dns: TestDnsServer;
  readonly clock: FakeClock;
  /** The delay of each refresh timer the discovery set, in order. */
  readonly waits: number[];
  /** Every host list the discovery handed over, as `hostname address:port` per host. */
  readonly updates: string[][];
  readonly discovery: DnsDiscovery;
  readonly stats: StatsStore;
  stat(name: string): number;
  /** Fires the pending refresh and waits until it has been answered. */
  refresh(): Promise<void>;
}

function hostsOf(cla: ClusterLoadAssignment): string[] {
  const set = hostSetFromAssignment(cla);
  return set.priorities.flatMap((p) => p.hosts.map((h) => `${h.hostname} ${h.key}`));
}

function compiled(json: Record<string, unknown>): { dns: CompiledDns; cla: ClusterLoadAssignment } {
  const c = compileCluster(fromJson(ClusterSchema, { name: 'c', connectTimeout: '1s', ...json } as never, { registry: XDS_REGISTRY }));
  assert.ok(c.ok, c.ok ? '' : c.problems.join('; '));
  const cla = c.value.proto.loadAssignment;
  assert.ok(c.value.dns !== undefined && cla !== undefined);
  return { dns: c.value.dns, cla };
}

const endpoint = (address: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ endpoint: { address: { socketAddress: { address, portValue: port } } }, ...extra });

async function rig(t: TestContext, cluster: Record<string, unknown>, setup: (dns: TestDnsServer) => void): Promise<Rig> {
  const dns = await startDnsServer(t);
  setup(dns);
  const { dns: settings, cla } = compiled(cluster);
  const fake = new FakeClock();
  const waits: number[] = [];
  const clock: Clock = { now: () => fake.now(), setTimeout: (fn, ms) => (waits.push(ms), fake.setTimeout(fn, ms)) };
  const stats = new StatsStore();
  const updates: string[][] = [];
  const resolver = caresResolver({ servers: [dns.address], timeoutMs: 200, tries: 1 });
  const discovery = new DnsDiscovery(cla, settings, { clock, random: seededRandom(3), resolver, stats: stats.scope('cluster.c') }, (next) => updates.push(hostsOf(next)));
  t.after(() => discovery.close());
  const r: Rig = {
    dns,
    clock: fake,
    waits,
    updates,
    discovery,
    stats,
    stat: (name) => stats.scope('cluster.c').counter(name).value,
    async refresh() {
      const done = r.stat('update_success') + r.stat('update_failure');
      fake.advance(waits[waits.length - 1] ?? 0);
      await waitFor(() => r.stat('update_success') + r.stat('update_failure') > done && fake.pending > 0, 'the refresh to be answered');
    },
  };
  return r;
}

async function started(r: Rig, resolutions = 1): Promise<void> {
  r.discovery.start();
  await waitFor(() => r.stat('update_success') + r.stat('update_failure') >= resolutions && r.clock.pending >= resolutions, 'the first resolution');
}

const strict = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'STRICT_DNS',
  loadAssignment: { clusterName: 'c', endpoints: [{ lbEndpoints: [endpoint('svc.test', 8080, { loadBalancingWeight: 3 })] }] },
  ...extra,
});

describe('STRICT_DNS host discovery', () => {
  it('serves an endpoint by its name until the first answer, then every address is a host named after it', async (t) => {
    const r = await rig(t, strict({ dnsLookupFamily: 'V4_ONLY' }), (dns) =>
      dns.set('svc.test', 'A', [
        { address: '127.0.0.2', ttl: 30 },
        { address: '127.0.0.3', ttl: 30 },
      ]),
    );
    assert.deepEqual(hostsOf(r.discovery.current()), [' svc.test:8080']);
    await started(r);
    assert.deepEqual(r.updates, [['svc.test 127.0.0.2:8080', 'svc.test 127.0.0.3:8080']]);
    // The endpoint's weight goes with each of its hosts.
    assert.deepEqual(hostSetFromAssignment(r.discovery.current()).priorities[0]?.hosts.map((h) => h.weight), [3, 3]);
    assert.deepEqual([r.stat('update_attempt'), r.stat('update_success'), r.stat('update_failure')], [1, 1, 0]);
    assert.deepEqual(r.dns.queries, ['A svc.test']);
    // Without respect_dns_ttl the next resolution is after dns_refresh_rate (5 s by default).
    assert.deepEqual(r.waits, [5000]);
  });

  it('follows the answer: an address added or gone changes the hosts, the same answer rebuilds nothing', async (t) => {
    const r = await rig(t, strict({ dnsLookupFamily: 'V4_ONLY', dnsRefreshRate: '2s' }), (dns) => dns.set('svc.test', 'A', [{ address: '127.0.0.2', ttl: 30 }]));
    await started(r);
    await r.refresh();
    assert.equal(r.stat('update_no_rebuild'), 1);
    r.dns.set('svc.test', 'A', [
      { address: '127.0.0.4', ttl: 30 },
      { address: '127.0.0.2', ttl: 30 },
    ]);
    await r.refresh();
    r.dns.set('svc.test', 'A', []);
    await r.refresh();
    assert.deepEqual(r.updates, [['svc.test 127.0.0.2:8080'], ['svc.test 127.0.0.4:8080', 'svc.test 127.0.0.2:8080'], []]);
    assert.deepEqual([r.stat('update_attempt'), r.stat('update_success'), r.stat('update_no_rebuild')], [4, 4, 1]);
    assert.deepEqual(r.waits, [2000, 2000, 2000, 2000]);
  });

  it('with respect_dns_ttl refreshes after the smallest TTL of the answer', async (t) => {
    const r = await rig(t, strict({ dnsLookupFamily: 'V4_ONLY', respectDnsTtl: true }), (dns) =>
      dns.set('svc.test', 'A', [
        { address: '127.0.0.2', ttl: 7 },
        { address: '127.0.0.3', ttl: 3 },
      ]),
    );
    await started(r);
    assert.deepEqual(r.waits, [3000]);
  });

  it('a name that does not exist is no hosts (not a failure); a failing server keeps the hosts and backs off', async (t) => {
    const r = await rig(t, strict({ dnsLookupFamily: 'V4_ONLY', dnsFailureRefreshRate: { baseInterval: '1s', maxInterval: '4s' } }), (dns) => dns.set('other.test', 'A', []));
    await started(r);
    assert.deepEqual(r.updates, [[]]);
    assert.deepEqual([r.stat('update_success'), r.stat('update_failure')], [1, 0]);
    r.dns.set('svc.test', 'A', [{ address: '127.0.0.2', ttl: 30 }]);
    await r.refresh();
    r.dns.mode = 'servfail';
    await r.refresh();
    await r.refresh();
    await r.refresh();
    assert.deepEqual(r.updates, [[], ['svc.test 127.0.0.2:8080']], 'failures changed the hosts');
    assert.equal(r.stat('update_failure'), 3);
    // After failures: random waits below 1 s, 2 s, then 4 s (the max); the first two followed successes (5 s).
    const [a, b, c] = r.waits.slice(2);
    assert.ok(a !== undefined && b !== undefined && c !== undefined);
    assert.ok(a < 1000 && b < 2000 && c < 4000, `waits ${r.waits.join(', ')}`);
    assert.deepEqual(r.waits.slice(0, 2), [5000, 5000]);
    r.dns.mode = 'answer';
    await r.refresh();
    assert.equal(r.waits[r.waits.length - 1], 5000, 'a success resets the back-off');
  });

  it('a first resolution that fails leaves no hosts, as Envoy has none before its first answer', async (t) => {
    const r = await rig(t, strict({ dnsLookupFamily: 'V4_ONLY' }), (dns) => {
      dns.mode = 'servfail';
    });
    await started(r);
    assert.deepEqual(r.updates, [[]]);
    assert.equal(r.stat('update_failure'), 1);
  });

  it('an IP literal is a host from the start, named after itself', async (t) => {
    const r = await rig(t, strict({ loadAssignment: { clusterName: 'c', endpoints: [{ lbEndpoints: [endpoint('127.0.0.9', 81), endpoint('svc.test', 82)] }] } }), (dns) =>
      dns.set('svc.test', 'AAAA', [{ address: '::1', ttl: 30 }]),
    );
    assert.deepEqual(hostsOf(r.discovery.current()), ['127.0.0.9 127.0.0.9:81', ' svc.test:82']);
    await started(r, 2);
    assert.deepEqual(hostsOf(r.discovery.current()), ['127.0.0.9 127.0.0.9:81', 'svc.test [::1]:82']);
    assert.ok(!r.dns.queries.some((q) => q.includes('127.0.0.9')), 'the literal was looked up');
  });

  it('lookup families: AUTO prefers IPv6, V4_PREFERRED IPv4, ALL takes both', async (t) => {
    const both = (dns: TestDnsServer): void => {
      dns.set('svc.test', 'A', [{ address: '127.0.0.2', ttl: 30 }]);
      dns.set('svc.test', 'AAAA', [{ address: '::1', ttl: 30 }]);
    };
    const families: [string, string[]][] = [
      ['AUTO', ['svc.test [::1]:8080']],
      ['V4_PREFERRED', ['svc.test 127.0.0.2:8080']],
      ['ALL', ['svc.test 127.0.0.2:8080', 'svc.test [::1]:8080']],
      ['V6_ONLY', ['svc.test [::1]:8080']],
    ];
    for (const [family, want] of families) {
      const r = await rig(t, strict({ dnsLookupFamily: family }), both);
      await started(r);
      assert.deepEqual(r.updates, [want], family);
    }
    // AUTO falls back to IPv4 when the name has no IPv6 address.
    const v4 = await rig(t, strict(), (dns) => dns.set('svc.test', 'A', [{ address: '127.0.0.2', ttl: 30 }]));
    await started(v4);
    assert.deepEqual(v4.updates, [['svc.test 127.0.0.2:8080']]);
  });

  it('stops resolving when closed', async (t) => {
    const r = await rig(t, strict({ dnsLookupFamily: 'V4_ONLY' }), (dns) => dns.set('svc.test', 'A', [{ address: '127.0.0.2', ttl: 30 }]));
    await started(r);
    r.discovery.close();
    assert.equal(r.clock.pending, 0);
  });
});

describe('LOGICAL_DNS host discovery', () => {
  const logical = { type: 'LOGICAL_DNS', dnsLookupFamily: 'V4_ONLY', loadAssignment: { clusterName: 'c', endpoints: [{ lbEndpoints: [endpoint('svc.test', 9090)] }] } };

  it('is one host, the first address of the answer; an empty answer is a failure that keeps it', async (t) => {
    const r = await rig(t, logical, (dns) =>
      dns.set('svc.test', 'A', [
        { address: '127.0.0.5', ttl: 30 },
        { address: '127.0.0.6', ttl: 30 },
      ]),
    );
    await started(r);
    assert.deepEqual(r.updates, [['svc.test 127.0.0.5:9090']]);
    r.dns.set('svc.test', 'A', []);
    await r.refresh();
    assert.deepEqual(r.updates, [['svc.test 127.0.0.5:9090']]);
    assert.deepEqual([r.stat('update_success'), r.stat('update_failure')], [1, 1]);
    r.dns.set('svc.test', 'A', [{ address: '127.0.0.6', ttl: 30 }]);
    await r.refresh();
    assert.deepEqual(r.updates, [['svc.test 127.0.0.5:9090'], ['svc.test 127.0.0.6:9090']]);
  });
});
