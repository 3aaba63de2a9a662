// `isthmus proxy --concurrency 2` as a user runs it: a real CLI child process (a primary and two worker
// processes) in front of a real upstream, configured as an ingress gateway by the real control plane.
// Traffic spreads over both workers, /stats adds theirs up, the control plane sees one proxy, a killed
// worker is replaced, and SIGTERM stops the primary and every worker with status 0.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import { freePort, send, startMesh, startTestProxy, startUpstream, viaSidecar } from '../support/data-plane.js';
import { runIsthmus } from '../support/cli.js';
import { startProxyChild } from '../support/proxy-child.js';
import { waitFor } from '../support/wait.js';
import { adminStats, gatewayToUpstream } from '../support/gateway-mesh.js';
import { alive, childPids } from '../support/processes.js';



function sumOf(s: Map<string, number>, re: RegExp): number {
  let n = 0;
  for (const [k, v] of s) if (re.test(k)) n += v;
  return n;
}

/** `count` requests on new connections, `parallel` at a time; every one must be answered 200 by the upstream. */
async function load(port: number, count: number, parallel = 10): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next++ < count) {
        const r = await send('127.0.0.1', port, { path: '/load' });
        assert.deepEqual([r.status, r.body], [200, 'a']);
      }
    }),
  );
}



describe('isthmus proxy --concurrency (CLI, worker processes)', () => {
  it('serves through two workers sharing the listener, aggregates their stats, is one proxy to the control plane, replaces a killed worker and drains all on SIGTERM', async (t) => {
    const upstream = await startUpstream(t, 'a');
    const port = await freePort();
    const mesh = await startMesh(t, gatewayToUpstream(port, upstream.port));
    const bootFile = join(tmpdir(), `isthmus-concurrency-${process.pid}.json`);
    t.after(() => rm(bootFile, { force: true }));
    await writeFile(
      bootFile,
      JSON.stringify(
        envoyBootstrap({ node: 'ingressgateway', proxyless: false, xdsAddress: mesh.cp.xdsAddress, namespace: 'istio-system', type: 'router', ip: '127.0.0.1', labels: { istio: 'ingressgateway' }, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } }),
      ),
    );
    const proxy = await startProxyChild(t, ['--bootstrap', bootFile, '--concurrency', '2', '--bind-address', '127.0.0.1', '--admin-port', '0', '--readiness-port', '0', '--prometheus-port', '0'], /workers +2 \(pids (\d+) (\d+)\)/);
    const { child, admin, readiness, prometheus, exited } = proxy;
    const pids = (/workers +2 \(pids (\d+) (\d+)\)/.exec(proxy.out()) ?? []).slice(1).map(Number);
    assert.equal(pids.length, 2);
    assert.ok(!pids.includes(child.pid ?? 0), 'workers are processes of their own');

    // Ready only once the primary has its config and both workers applied it.
    await waitFor(async () => (await fetch(readiness)).status === 200, 'readiness 200', 60_000);
    assert.equal(await (await fetch(`${admin}/ready`)).text(), 'LIVE\n');
    const info = (await (await fetch(`${admin}/server_info`)).json()) as { state: string; node: { id: string }; command_line_options: { concurrency: number } };
    assert.equal(info.command_line_options.concurrency, 2);
    assert.equal(info.state, 'LIVE');
    assert.match(info.node.id, /^router~127\.0\.0\.1~ingressgateway\.istio-system~/);
    const dump = await (await fetch(`${admin}/config_dump`)).text();
    assert.ok(dump.includes('outbound|80||a.example.internal'), 'config_dump is the primary xDS view');

    // 200 requests on new connections: the upstream answers all, /stats counts all of them across workers.
    const cx = (s: Map<string, number>): number[] => [0, 1].map((w) => s.get(`listener.0.0.0.0_${port}.worker_${w}.downstream_cx_total`) ?? 0);
    const before = await adminStats(admin);
    const rqBefore = sumOf(before, /^http\..*\.downstream_rq_total$/);
    await load(port, 200);
    const total = await waitFor(async () => {
      const s = await adminStats(admin);
      return sumOf(s, /^http\..*\.downstream_rq_total$/) - rqBefore === 200 ? s : undefined;
    }, '/stats to count 200 requests across workers', 20_000);
    assert.equal(sumOf(total, /^http\..*\.downstream_rq_2xx$/) - sumOf(before, /^http\..*\.downstream_rq_2xx$/), 200);
    const perWorker = cx(total);
    assert.equal(perWorker[0]! + perWorker[1]! - cx(before)[0]! - cx(before)[1]!, 200, `each connection counted by the worker that took it: ${perWorker.join(', ')}`);
    // The kernel picks the worker for each connection, so a starved worker may miss a batch; more come until both served.
    await waitFor(async () => {
      if (cx(await adminStats(admin)).every((n) => n > 0)) return true;
      await load(port, 20, 4);
      return false;
    }, 'both workers to accept connections', 30_000);
    const settled = sumOf(await adminStats(admin), /^http\..*\.downstream_rq_total$/);
    const promText = await (await fetch(prometheus)).text();
    assert.match(promText, new RegExp(`^envoy_\\S*downstream_rq_total\\{[^}]*\\} ${settled}$`, 'm'), ':15090 renders the summed counters');
    // Istio's standard metrics, counted by every worker with the primary's workload, summed the same way.
    const istio = promText.split('\n').filter((l) => l.startsWith('istio_requests_total{'));
    assert.ok(istio.every((l) => l.includes('reporter="source"') && l.includes('source_workload="ingressgateway"')), istio.join('\n'));
    assert.equal(istio.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0), settled, istio.join('\n'));
    // The primary's own stats (its ADS client) join the workers': one CDS subscription, connected; and the
    // merged store renders with Istio's tags, as a single process does.
    const merged = await adminStats(admin);
    assert.equal(merged.get('control_plane.connected_state'), 1);
    assert.ok((merged.get('cluster_manager.cds.update_success') ?? 0) >= 1, 'the primary counted its CDS updates');
    assert.match(promText, /^envoy_cluster_upstream_rq_total\{cluster_name="outbound\|80\|\|[^"]+"\} \d+$/m);
    // Both workers hold the cluster's one endpoint: /stats shows one member, not one per worker.
    assert.deepEqual([merged.get('cluster.outbound|80||a.example.internal;.membership_total'), merged.get('cluster.outbound|80||a.example.internal;.membership_healthy')], [1, 1]);

    // The control plane has one stream from this node: one proxy, synced.
    const ps = await runIsthmus(['proxy-status', '--control-plane', mesh.cp.monitoringUrl, '-o', 'json']);
    assert.equal(ps.code, 0, ps.stderr);
    const proxies = JSON.parse(ps.stdout) as { proxy: string }[];
    assert.deepEqual(proxies.map((p) => p.proxy.split('.')[0]), ['ingressgateway']);

    // A worker that dies is logged and replaced in its slot; traffic keeps flowing meanwhile.
    const slot0Before = cx(await adminStats(admin))[0]!;
    process.kill(pids[0]!, 'SIGKILL');
    await waitFor(() => /worker exited; starting another in its place/.test(proxy.err()), 'the primary to log the dead worker', 20_000);
    await waitFor(async () => {
      await load(port, 20, 4);
      return ((await adminStats(admin)).get(`listener.0.0.0.0_${port}.worker_0.downstream_cx_total`) ?? 0) > slot0Before;
    }, 'the replacement worker to accept connections', 60_000, 100);
    assert.ok(!alive(pids[0]!));
    const workersNow = childPids(child.pid ?? 0);
    assert.equal(workersNow.length, 2, `two workers again: ${workersNow.join(' ')}`);

    // SIGTERM: the primary drains every worker and exits 0, leaving no process behind.
    child.kill('SIGTERM');
    assert.equal(await exited, 0, proxy.err());
    assert.match(proxy.out(), /draining\n[^]*stopped\n/);
    for (const pid of workersNow) assert.ok(!alive(pid), `worker ${pid} exited`);
  });

  it('with --token-file, the primary gets the workload certificate and every worker terminates mTLS with it (STRICT)', async (t) => {
    const target = await freePort();
    await startUpstream(t, 'reviews', '127.0.0.1', target);
    const mesh = await startMesh(t, {
      'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: ${target}}]
`,
      'pa.yaml': `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: default}
spec: {mtls: {mode: STRICT}}
`,
      // One request per upstream connection, so the kernel spreads the client's connections over both workers.
      'dr.yaml': `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy: {connectionPool: {http: {maxRequestsPerConnection: 1}}}
`,
    });
    mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: '127.0.8.2', labels: { app: 'reviews' }, serviceAccount: 'reviews', ports: { http: target }, tlsMode: 'istio' });
    mesh.cp.workloads.register({ name: 'client', namespace: 'default', address: '127.0.8.1', labels: { app: 'client' }, serviceAccount: 'client', tlsMode: 'istio' });
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-concurrency-id-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const bootFile = join(dir, 'reviews.json');
    const tokenFile = join(dir, 'reviews.token');
    await writeFile(bootFile, JSON.stringify(envoyBootstrap({ node: 'reviews-v1', proxyless: false, xdsAddress: mesh.cp.xdsAddress, namespace: 'default', type: 'sidecar', ip: '127.0.8.2', labels: { app: 'reviews' }, serviceAccount: 'reviews', locality: { region: '', zone: '', subZone: '' } })));
    await writeFile(tokenFile, await mesh.cp.ca.issueToken({ namespace: 'default', serviceAccount: 'reviews' }), { mode: 0o600 });
    const { admin, readiness } = await startProxyChild(t, ['--bootstrap', bootFile, '--concurrency', '2', '--capture-address', '127.0.8.2', '--token-file', tokenFile, '--admin-port', '0', '--readiness-port', '0', '--prometheus-port', '0']);
    await waitFor(async () => (await fetch(readiness)).status === 200, 'readiness 200 (certificate and config in every worker)', 60_000);
    const dump = await (await fetch(`${admin}/config_dump`)).text();
    assert.match(dump, /"dynamic_active_secrets":\s*\[\s*\{\s*"name":\s*"default"/);

    const client = await startTestProxy(t, mesh, { node: 'client', ip: '127.0.8.1', labels: { app: 'client' }, serviceAccount: 'client' }, { identity: { token: () => mesh.cp.ca.issueToken({ namespace: 'default', serviceAccount: 'client' }) } });
    void client;
    // Each request on a new mTLS connection: both workers must take some, each with the relayed certificate.
    const cx = async (): Promise<number[]> => {
      const st = await adminStats(admin);
      return [0, 1].map((w) => sumOf(st, new RegExp(`^listener\\..*_${target}\\.worker_${w}\\.downstream_cx_total$`)));
    };
    await waitFor(async () => {
      for (let i = 0; i < 10; i++) {
        const r = await viaSidecar('127.0.8.1', 'http://reviews:9080/x');
        assert.deepEqual([r.status, r.body], [200, 'reviews']);
      }
      return (await cx()).every((n) => n > 0);
    }, 'mTLS requests answered by both workers', 60_000, 50);
  });
});
