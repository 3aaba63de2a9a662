import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { CLUSTER_TYPE, LISTENER_TYPE, SECRET_TYPE } from '../xds/type-urls.js';
import { waitFor } from '../../test/support/wait.js';
import { startMonitoringServer, type MonitoringServer } from '../xds-server/monitoring.js';
import { openSotw, sidecarNode, sotwRequest } from '../../test/support/xds-server/ads-client.js';
import { clusterName, fakeSnapshot, type FakeService } from '../../test/support/xds-server/fake-mesh.js';
import { FakeClock } from '../../test/support/xds-server/fake-clock.js';
import { startHarness, type Harness } from '../../test/support/xds-server/harness.js';
import type { CliIO } from './output.js';
import { humanDuration, proxyStatus, renderStatusTable } from './proxy-status.js';

const REVIEWS = 'reviews.default.svc.cluster.local';
const RATINGS = 'ratings.default.svc.cluster.local';
const v1: FakeService[] = [{ host: REVIEWS, namespace: 'default', port: 9080, endpoints: ['10.1.0.1'] }];

function bufferIO(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    stdin: () => Promise.resolve(''),
    cwd: process.cwd(),
    setExitCode: () => undefined,
    out: () => out,
    err: () => err,
  };
}

let h: Harness | undefined;
let mon: MonitoringServer | undefined;
afterEach(async () => {
  await mon?.close();
  await h?.close();
  mon = undefined;
  h = undefined;
});

describe('proxy-status', () => {
  it("prints istioctl's per-type table for every connected proxy", async () => {
    const clock = new FakeClock();
    h = await startHarness({ snapshot: fakeSnapshot('v1', v1), controlPlaneId: 'istiod-0', clock });
    mon = await startMonitoringServer(h.ds, { port: 0 });
    const a = openSotw(h.client());
    a.send(sotwRequest({ node: sidecarNode('reviews-v1-abc', 'default'), typeUrl: CLUSTER_TYPE }));
    const cds = await a.next();
    a.send(sotwRequest({ typeUrl: CLUSTER_TYPE, versionInfo: cds.versionInfo, responseNonce: cds.nonce }));
    a.send(sotwRequest({ typeUrl: LISTENER_TYPE }));
    await a.next();
    const b = openSotw(h.client());
    b.send(sotwRequest({ node: sidecarNode('details-v1-xyz', 'default', '10.0.0.2', { ISTIO_VERSION: '1.23.2' }), typeUrl: CLUSTER_TYPE }));
    const bcds = await b.next();
    b.send(sotwRequest({ typeUrl: CLUSTER_TYPE, versionInfo: bcds.versionInfo, responseNonce: bcds.nonce, errorDetail: { code: 3, message: 'nope' } }));
    await waitFor(() => h!.ds.proxyStatus('details-v1-xyz.default')?.types[0]?.status === 'ERROR' && h!.ds.proxyStatus('reviews-v1-abc.default')?.types[0]?.status === 'SYNCED', 'ACK and NACK');

    const io = bufferIO();
    const now = clock.now() + 5000;
    await proxyStatus(io, { controlPlane: `127.0.0.1:${mon.port}`, output: 'table', now });
    const lines = io.out().trimEnd().split('\n');
    assert.deepEqual(lines[0]?.split(/\s{3,}/), ['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'ISTIOD', 'VERSION']);
    assert.equal(lines.length, 3);
    assert.deepEqual(lines[1]?.split(/\s{3,}/), ['details-v1-xyz.default', 'Kubernetes', 'ERROR (5s)', 'IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'istiod-0', '1.23.2']);
    assert.deepEqual(lines[2]?.split(/\s{3,}/), ['reviews-v1-abc.default', 'Kubernetes', 'SYNCED (5s)', 'STALE (5s)', 'IGNORED', 'IGNORED', 'IGNORED', 'istiod-0', '1.24.0']);

    const json = bufferIO();
    await proxyStatus(json, { controlPlane: `http://127.0.0.1:${mon.port}/`, output: 'json' });
    assert.deepEqual((JSON.parse(json.out()) as { proxy: string }[]).map((e) => e.proxy), ['details-v1-xyz.default', 'reviews-v1-abc.default']);
  });

  it('shows which resources a named proxy has not acknowledged', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', v1) });
    mon = await startMonitoringServer(h.ds, { port: 0 });
    const s = openSotw(h.client());
    s.send(sotwRequest({ node: sidecarNode('productpage-v1', 'default'), typeUrl: CLUSTER_TYPE }));
    const r1 = await s.next();
    s.send(sotwRequest({ typeUrl: CLUSTER_TYPE, versionInfo: r1.versionInfo, responseNonce: r1.nonce }));
    s.send(sotwRequest({ typeUrl: LISTENER_TYPE }));
    const lds = await s.next();
    s.send(sotwRequest({ typeUrl: LISTENER_TYPE, versionInfo: lds.versionInfo, responseNonce: lds.nonce }));
    await waitFor(() => h!.ds.syncz()[0]?.listener_acked === lds.nonce, 'LDS ACK');

    const matching = bufferIO();
    await proxyStatus(matching, { controlPlane: `127.0.0.1:${mon.port}`, proxy: 'productpage-v1.default', output: 'table' });
    assert.equal(matching.out(), 'Clusters Match\nListeners Match\n');

    h.ds.pushSnapshot(fakeSnapshot('v2', [...v1, { host: RATINGS, namespace: 'default', port: 9081 }]));
    const r2 = await s.next();
    s.send(sotwRequest({ typeUrl: CLUSTER_TYPE, versionInfo: r1.versionInfo, responseNonce: r2.nonce, errorDetail: { code: 3, message: 'bad cluster' } }));
    await waitFor(() => h!.ds.proxyStatus('productpage-v1.default')?.types[0]?.status === 'ERROR', 'the NACK');

    const diff = bufferIO();
    await proxyStatus(diff, { controlPlane: `127.0.0.1:${mon.port}`, proxy: 'productpage-v1.default', output: 'table' });
    const text = diff.out();
    assert.match(text, /^Clusters Don't Match\n {3}\+ outbound\|9081\|\|ratings\.default\.svc\.cluster\.local \(expected \S+, not acknowledged\)\n/);
    assert.match(text, /last push rejected \(nonce \d+, InvalidArgument\): bad cluster\n/);
    assert.match(text, /Listeners Don't Match\n {3}\+ 0\.0\.0\.0_9081 /);
    assert.ok(!text.includes(clusterName(REVIEWS, 9080)), 'matching resources are not listed');

    const yaml = bufferIO();
    await proxyStatus(yaml, { controlPlane: `127.0.0.1:${mon.port}`, proxy: 'productpage-v1.default', output: 'yaml' });
    assert.equal((parseYaml(yaml.out()) as { proxy: string }).proxy, 'productpage-v1.default');
  });

  it('names the proxy and the control plane when it cannot answer', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', v1) });
    mon = await startMonitoringServer(h.ds, { port: 0 });
    await assert.rejects(
      proxyStatus(bufferIO(), { controlPlane: `127.0.0.1:${mon.port}`, proxy: 'ghost.default', output: 'table' }),
      /HTTP 404: proxy "ghost\.default" is not connected to this control plane/,
    );
    const port = mon.port;
    await mon.close();
    mon = undefined;
    await assert.rejects(proxyStatus(bufferIO(), { controlPlane: `127.0.0.1:${port}`, output: 'table' }), /cannot reach the control plane at http:\/\/127\.0\.0\.1:\d+\/debug\/syncz: .*ECONNREFUSED/);
  });

  it("reads istiod's own syncz entries (no status field) and adds an SDS column when SDS is used", () => {
    const t = Date.parse('2025-01-01T00:00:00Z');
    const out = renderStatusTable(
      [
        {
          proxy: 'a.ns',
          cluster_id: 'Kubernetes',
          istio_version: '1.22.0',
          resources: {
            [CLUSTER_TYPE]: { sent: '1', acked: '1', sentTime: '2025-01-01T00:00:00Z' },
            [LISTENER_TYPE]: { sent: '2', acked: '1', sentTime: '2025-01-01T00:00:00Z' },
            [SECRET_TYPE]: { status: 'NOT SENT' },
          },
        } as never,
      ],
      t + 3 * 60_000 + 7000,
      'istiod.istio-system:15014',
    );
    assert.deepEqual(out.trimEnd().split('\n')[0]?.split(/\s{3,}/), ['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'SDS', 'ISTIOD', 'VERSION']);
    assert.deepEqual(out.trimEnd().split('\n')[1]?.split(/\s{3,}/), ['a.ns', 'Kubernetes', 'SYNCED (3m7s)', 'STALE (3m7s)', 'IGNORED', 'IGNORED', 'IGNORED', 'NOT SENT', 'istiod.istio-system:15014', '1.22.0']);
  });

  it('prints ages as kubectl and istioctl do', () => {
    assert.deepEqual(
      [0, 119_000, 125_000, 600_000, 3 * 3600_000 + 5 * 60_000, 8 * 3600_000, 50 * 3600_000, 9 * 86400_000].map(humanDuration),
      ['0s', '119s', '2m5s', '10m', '3h5m', '8h', '2d2h', '9d'],
    );
  });
});

describe('proxy-status for one proxy: skipped config', () => {
  it('lists what translation skipped for the proxy and why', async () => {
    const { renderProxyDiff } = await import('./proxy-status.js');
    const out = renderProxyDiff({
      proxy: 'gw.istio-system',
      node_id: 'router~10.0.0.1~gw.istio-system~istio-system.svc.cluster.local',
      istiod: 'isthmus',
      connection_id: '1',
      xds: 'sotw',
      translation_issues: ['Gateway istio-system/web spec.servers[1].tls.credentialName: failed to fetch key and certificate for kubernetes://missing'],
      types: [],
      nacks: [],
    });
    assert.match(out, /Config skipped for gw\.istio-system:\n {3}Gateway istio-system\/web spec\.servers\[1\]\.tls\.credentialName: failed to fetch key and certificate for kubernetes:\/\/missing\n/);
  });
});
