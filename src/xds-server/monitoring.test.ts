import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_TYPE, LISTENER_TYPE } from '../xds/type-urls.js';
import { waitFor } from '../../test/support/wait.js';
import { startMonitoringServer, type MonitoringServer } from './monitoring.js';
import type { ProxySyncDetail, SyncStatus } from './sync-status.js';
import { openSotw, sidecarNode, sotwRequest } from '../../test/support/xds-server/ads-client.js';
import { clusterName, fakeSnapshot } from '../../test/support/xds-server/fake-mesh.js';
import { startHarness, type Harness } from '../../test/support/xds-server/harness.js';

const REVIEWS = 'reviews.default.svc.cluster.local';

let h: Harness | undefined;
let mon: MonitoringServer | undefined;
afterEach(async () => {
  await mon?.close();
  await h?.close();
  mon = undefined;
  h = undefined;
});

async function get(path: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(mon!.url + path);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** A server with one synced proxy `productpage-v1.default` (CDS acked, LDS sent but not acked). */
async function oneProxy(): Promise<void> {
  h = await startHarness({ snapshot: fakeSnapshot('v1', [{ host: REVIEWS, namespace: 'default', port: 9080, endpoints: ['10.1.0.1'] }]), controlPlaneId: 'istiod-0' });
  mon = await startMonitoringServer(h.ds, { port: 0 });
  const s = openSotw(h.client());
  s.send(sotwRequest({ node: sidecarNode('productpage-v1', 'default'), typeUrl: CLUSTER_TYPE }));
  const cds = await s.next();
  s.send(sotwRequest({ typeUrl: CLUSTER_TYPE, versionInfo: cds.versionInfo, responseNonce: cds.nonce }));
  s.send(sotwRequest({ typeUrl: LISTENER_TYPE }));
  await s.next();
}

describe('monitoring server', () => {
  it('is ready only once a snapshot is set', async () => {
    h = await startHarness();
    mon = await startMonitoringServer(h.ds, { port: 0 });
    assert.equal((await get('/ready')).status, 503);
    h.ds.pushSnapshot(fakeSnapshot('v1', []));
    assert.equal((await get('/ready')).status, 200);
  });

  it("serves istiod's metric names on /metrics", async () => {
    await oneProxy();
    const { status, body, type } = await get('/metrics');
    assert.equal(status, 200);
    assert.match(type, /^text\/plain/);
    for (const name of [
      'pilot_xds',
      'pilot_xds_pushes',
      'pilot_xds_push_time',
      'pilot_proxy_convergence_time',
      'pilot_total_xds_rejects',
      'pilot_xds_cds_reject',
      'pilot_xds_eds_reject',
      'pilot_xds_lds_reject',
      'pilot_xds_rds_reject',
      'pilot_xds_send_time',
    ]) {
      assert.match(body, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.match(body, /^pilot_xds\{version="1\.24\.0"\} 1$/m);
    assert.match(body, /^pilot_xds_pushes\{type="cds"\} 1$/m);
    assert.match(body, /^pilot_xds_pushes\{type="lds"\} 1$/m);
    assert.match(body, /^pilot_xds_push_time_count\{type="cds"\} 1$/m);
  });

  it('lists connected proxies on /debug/syncz as istiod does', async () => {
    await oneProxy();
    await waitFor(async () => {
      const [e] = JSON.parse((await get('/debug/syncz')).body) as SyncStatus[];
      return e?.resources[CLUSTER_TYPE]?.status === 'SYNCED';
    }, 'CDS synced in syncz');
    const entries = JSON.parse((await get('/debug/syncz')).body) as SyncStatus[];
    assert.equal(entries.length, 1);
    const e = entries[0]!;
    assert.equal(e.proxy, 'productpage-v1.default');
    assert.equal(e.node_id, 'sidecar~10.0.0.1~productpage-v1.default~default.svc.cluster.local');
    assert.equal(e.istio_version, '1.24.0');
    assert.equal(e.cluster_id, 'Kubernetes');
    assert.equal(e.istiod, 'istiod-0');
    assert.equal(e.cluster_acked, e.cluster_sent);
    assert.notEqual(e.listener_sent, undefined);
    assert.equal(e.listener_acked, undefined);
    assert.equal(e.resources[LISTENER_TYPE]?.status, 'STALE');
    assert.equal(JSON.parse((await get('/debug/syncz?namespace=other')).body).length, 0);
  });

  it('dumps what a proxy would be sent on /debug/config_dump, and 404s an unknown proxy', async () => {
    await oneProxy();
    const { status, body } = await get('/debug/config_dump?proxyID=productpage-v1.default');
    assert.equal(status, 200);
    const dump = JSON.parse(body) as { configs: Record<string, unknown>[] };
    assert.deepEqual(
      dump.configs.map((c) => c['@type']),
      ['ClustersConfigDump', 'EndpointsConfigDump', 'ListenersConfigDump', 'RoutesConfigDump', 'SecretsConfigDump'].map((t) => `type.googleapis.com/envoy.admin.v3.${t}`),
    );
    const clusters = dump.configs[0]!['dynamicActiveClusters'] as { cluster: { name: string; type: string } }[];
    assert.deepEqual(clusters.map((c) => c.cluster.name), [clusterName(REVIEWS, 9080)]);
    assert.equal(clusters[0]?.cluster.type, 'EDS');

    const missing = await get('/debug/config_dump?proxyID=nobody.default');
    assert.equal(missing.status, 404);
    assert.match(missing.body, /proxy "nobody\.default" is not connected to this control plane/);
    assert.equal((await get('/debug/config_dump')).status, 400);
    assert.equal((await get('/debug/nothing-here')).status, 404);
  });

  it('reports acked vs expected on /debug/proxy_status', async () => {
    await oneProxy();
    await waitFor(() => h!.ds.proxyStatus('productpage-v1.default')?.types[0]?.status === 'SYNCED', 'CDS synced');
    const d = JSON.parse((await get('/debug/proxy_status?proxyID=productpage-v1.default')).body) as ProxySyncDetail;
    const cds = d.types.find((t) => t.type === 'CDS')!;
    assert.deepEqual(cds.acked, cds.expected);
    assert.deepEqual(Object.keys(cds.acked), [clusterName(REVIEWS, 9080)]);
    const lds = d.types.find((t) => t.type === 'LDS')!;
    assert.deepEqual(lds.acked, {});
    assert.deepEqual(Object.keys(lds.expected ?? {}), ['0.0.0.0_9080']);
  });
});
