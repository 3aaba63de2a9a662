// `isthmus proxy` against the real control plane, in process: it syncs (readiness flips to LIVE), its
// admin dump shows what the control plane serves, config changes reach it, and a response it rejects is
// NACKed (the control plane's /debug/syncz shows ERROR with the proxy's message) while it keeps the last
// good config.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonValue } from '@bufbuild/protobuf';
import { ALL_KINDS } from '../../src/api/kinds.js';
import { createKindRegistry } from '../../src/api/kind.js';
import { startControlPlane } from '../../src/cli/control-plane.js';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import { parseBootstrap } from '../../src/proxy/bootstrap.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { CLUSTER_TYPE } from '../../src/xds/type-urls.js';
import type { Cluster } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { waitFor } from '../support/wait.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
`;
const RULE = (subsets: string[]): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [${subsets.map((s) => `{name: ${s}, labels: {version: ${s}}}`).join(', ')}]
`;
const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';

interface Dump {
  configs: { '@type': string; dynamic_active_clusters?: { cluster: { name: string } }[]; dynamic_listeners?: { name: string }[] }[];
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

function clusterNames(d: Dump): string[] {
  return (d.configs.find((c) => c['@type'].endsWith('ClustersConfigDump'))?.dynamic_active_clusters ?? []).map((c) => c.cluster.name);
}

describe('isthmus proxy (in process)', () => {
  it('syncs from the control plane, follows changes, and NACKs what it rejects while keeping the last good config', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-proxy-'));
    await writeFile(join(dir, 'svc.yaml'), SERVICE);
    const cp = await startControlPlane({ configDir: dir, registry: createKindRegistry(ALL_KINDS), xdsPort: 0, monitoringPort: 0, debounceMs: 10 });
    t.after(async () => {
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    });
    const boot = parseBootstrap(
      envoyBootstrap({ node: 'productpage-v1', proxyless: false, xdsAddress: cp.xdsAddress, namespace: 'default', type: 'sidecar', ip: '10.1.0.5', labels: { app: 'productpage' }, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } }),
      'test bootstrap',
    );
    // This build's extra rule for the test: a cluster for subset v2 is refused.
    const proxy = await startProxy({
      bootstrap: boot,
      adminPort: 0,
      readinessPort: 0,
      extraChecks: (type, m) => (type === CLUSTER_TYPE && (m as Cluster).name.includes('|v2|') ? ['name: subset v2 is refused by this proxy'] : []),
    });
    t.after(() => proxy.close());

    const ready = await waitFor(async () => {
      const r = await get(`${proxy.adminUrl}/ready`);
      return r.status === 200 ? r : undefined;
    }, 'the proxy to become LIVE', 10_000);
    assert.equal(ready.body, 'LIVE\n');
    assert.equal((await get(proxy.readinessUrl)).status, 200);
    const info = JSON.parse((await get(`${proxy.adminUrl}/server_info`)).body) as { state: string; node: { id: string } };
    assert.deepEqual([info.state, info.node.id], ['LIVE', 'sidecar~10.1.0.5~productpage-v1.default~default.svc.cluster.local']);

    const dump = JSON.parse((await get(`${proxy.adminUrl}/config_dump`)).body) as Dump;
    assert.deepEqual(
      dump.configs.map((c) => c['@type']),
      ['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump'].map((n) => `type.googleapis.com/envoy.admin.v3.${n}`),
    );
    assert.ok(clusterNames(dump).includes(REVIEWS), clusterNames(dump).join(' '));
    const listeners = (dump.configs.find((c) => c['@type'].endsWith('ListenersConfigDump'))?.dynamic_listeners ?? []).map((l) => l.name);
    assert.ok(listeners.includes('0.0.0.0_9080'), listeners.join(' '));
    assert.match((await get(`${proxy.adminUrl}/listeners`)).body, /^0\.0\.0\.0_9080::0\.0\.0\.0:9080$/m);
    assert.match((await get(`${proxy.adminUrl}/clusters`)).body, /^outbound\|9080\|\|reviews\.default\.svc\.cluster\.local::added_via_api::true$/m);

    // Envoy's subscription stats, as a Prometheus scrape of the proxy sees them.
    const stat = async (name: string): Promise<number | undefined> => {
      const json = JSON.parse((await get(`${proxy.adminUrl}/stats?format=json`)).body) as { stats: { name?: string; value?: number }[] };
      return json.stats.find((x) => x.name === name)?.value;
    };
    assert.equal(await stat('control_plane.connected_state'), 1);
    // The ADS cluster's own connection under its alt_stat_name `xds-grpc;`, as Istio's bootstrap names it and its default stats inclusion exports it.
    assert.deepEqual([await stat('cluster.xds-grpc;.upstream_cx_active'), await stat('cluster.xds-grpc;.upstream_rq_active')], [1, 1]);
    assert.match((await get(`${proxy.adminUrl}/stats/prometheus`)).body, /^envoy_cluster_upstream_cx_active\{cluster_name="xds-grpc"\} 1$/m);
    // Istio's agent's readiness query, answered as Envoy answers it once LIVE.
    const probe = await get(`${proxy.adminUrl}/stats?usedonly&filter=${encodeURIComponent('^(server\\.state|listener_manager\\.workers_started)$')}`);
    assert.equal(probe.body, 'listener_manager.workers_started: 1\nserver.state: 0\n');
    assert.deepEqual([await stat('server.live'), await stat('server.concurrency')], [1, 1]);
    // The config gauges Istio exports by default: every cluster and listener the dump has is active, none warms.
    const dumpNow = JSON.parse((await get(`${proxy.adminUrl}/config_dump`)).body) as Dump;
    assert.equal(await stat('cluster_manager.active_clusters'), clusterNames(dumpNow).length);
    assert.deepEqual([await stat('cluster_manager.warming_clusters'), await stat('listener_manager.total_listeners_warming')], [0, 0]);
    assert.ok(((await stat('listener_manager.total_listeners_active')) ?? 0) >= 1);
    assert.ok(((await stat('server.memory_physical_size')) ?? 0) > 10 * 2 ** 20, 'resident memory in bytes');
    const cdsBefore = (await stat('cluster_manager.cds.update_success')) ?? 0;
    assert.ok(cdsBefore >= 1, 'the first CDS update counts as a success');
    assert.ok(((await stat('listener_manager.lds.update_success')) ?? 0) >= 1);
    assert.equal(await stat('cluster_manager.cds.update_rejected'), 0);
    assert.ok(((await stat('cluster_manager.cds.update_time')) ?? 0) > Date.now() - 60_000, 'update_time is ms since the epoch');
    // Endpoints and routes count per resource, in the scopes Envoy gives their subscriptions: the cluster's
    // own, and the connection manager's `rds.<route name>`.
    const statsNamed = async (re: RegExp): Promise<{ name: string; value: number }[]> => {
      const json = JSON.parse((await get(`${proxy.adminUrl}/stats?format=json`)).body) as { stats: { name?: string; value?: number }[] };
      return json.stats.filter((x): x is { name: string; value: number } => x.name !== undefined && re.test(x.name) && typeof x.value === 'number');
    };
    const eds = await statsNamed(/^cluster\.outbound\|9080\|\|reviews\.default\.svc\.cluster\.local;?\.update_(success|rejected)$/);
    assert.deepEqual(eds.map((x) => [x.name.replace(/^.*\./, ''), x.value >= 1]), [['update_rejected', false], ['update_success', true]], JSON.stringify(eds));
    const rds = await statsNamed(/^http\.[^.]*0\.0\.0\.0_9080;?\.rds\.9080\.(update_success|config_reload)$/);
    assert.deepEqual(rds.map((x) => [x.name.replace(/^.*\./, ''), x.value >= 1]), [['config_reload', true], ['update_success', true]], JSON.stringify(rds));

    // A change reaches the dump.
    await writeFile(join(dir, 'rule.yaml'), RULE(['v1']));
    await waitFor(async () => clusterNames(JSON.parse((await get(`${proxy.adminUrl}/config_dump`)).body) as Dump).includes('outbound|9080|v1|reviews.default.svc.cluster.local'), 'subset v1 in the dump', 10_000);

    // A response the proxy rejects: NACKed with its message; the dump keeps the last good clusters.
    await writeFile(join(dir, 'rule.yaml'), RULE(['v1', 'v2']));
    const entry = await waitFor(async () => {
      const syncz = JSON.parse((await get(`${cp.monitoringUrl}/debug/syncz`)).body) as { node_id: string; resources: Record<string, { status: string; lastError?: string }> }[];
      const cds = syncz.find((s) => s.node_id === boot.nodeId)?.resources[CLUSTER_TYPE];
      return cds?.status === 'ERROR' ? cds : undefined;
    }, 'the CDS NACK in /debug/syncz', 10_000);
    assert.match(entry.lastError ?? '', /outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local: name: subset v2 is refused by this proxy/);
    const kept = clusterNames(JSON.parse((await get(`${proxy.adminUrl}/config_dump`)).body) as Dump);
    assert.ok(kept.includes('outbound|9080|v1|reviews.default.svc.cluster.local'));
    assert.ok(!kept.some((n) => n.includes('|v2|')));
    assert.match(proxy.xds.typeState(CLUSTER_TYPE).lastError ?? '', /CDS update rejected/);
    // The NACK shows in the proxy's own stats; the accepted update before it counted as a success and a reload.
    assert.ok(((await stat('cluster_manager.cds.update_rejected')) ?? 0) >= 1);
    assert.ok(((await stat('cluster_manager.cds.update_success')) ?? 0) > cdsBefore);
    const attempts = (await stat('cluster_manager.cds.update_attempt')) ?? 0;
    const outcomes = ((await stat('cluster_manager.cds.update_success')) ?? 0) + ((await stat('cluster_manager.cds.update_rejected')) ?? 0);
    assert.equal(attempts, outcomes, 'every attempt is a success or a rejection while the stream stays up');
    assert.ok(((await stat('cluster_manager.cds.config_reload')) ?? 0) >= 2);
  });

  it('answers 503 on /healthz/ready until it has a config', async (t) => {
    // A control plane address nobody listens on: the proxy never syncs.
    const boot = parseBootstrap(
      envoyBootstrap({ node: 'lonely', proxyless: false, xdsAddress: '127.0.0.1:1', namespace: 'default', type: 'sidecar', ip: '10.1.0.6', labels: {}, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } }),
      'test bootstrap',
    );
    const proxy = await startProxy({ bootstrap: boot, adminPort: 0, readinessPort: 0 });
    t.after(() => proxy.close());
    const r = await get(proxy.readinessUrl);
    assert.equal(r.status, 503);
    assert.match(r.body, /not ready: server state PRE_INITIALIZING/);
    assert.equal((await get(`${proxy.adminUrl}/ready`)).status, 503);
    // What Istio's agent asks Envoy to decide readiness: not LIVE (PRE_INITIALIZING is 2), workers not started.
    const probe = await get(`${proxy.adminUrl}/stats?usedonly&filter=${encodeURIComponent('^(server\\.state|listener_manager\\.workers_started)$')}`);
    assert.equal(probe.body, 'listener_manager.workers_started: 0\nserver.state: 2\n');
  });

  it('refuses a bootstrap without what the proxy needs, naming the fields', () => {
    const json = { node: {}, admin: {} } as JsonValue;
    assert.throws(() => parseBootstrap(json, 'b.json'), (e: Error) => {
      assert.match(e.message, /invalid bootstrap b\.json: node\.id: must be set/);
      assert.match(e.message, /dynamic_resources\.ads_config: must be set/);
      assert.match(e.message, /admin\.address\.socket_address: must have an address and a port_value/);
      return true;
    });
  });
});
