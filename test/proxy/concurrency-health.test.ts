// Active health checks in `isthmus proxy --concurrency 2` as a user runs it (a real CLI child: a primary and two
// worker processes, fed by a real xDS server, checking a real HTTP upstream): Envoy runs a cluster's health
// checker on its main thread, so the upstream sees one checker, not one per worker
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/health_checking), and every worker
// balances by its result. When each worker checked for itself, the checks came over one connection per worker and
// the primary's /clusters knew nothing of them.

import { it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { XDS_REGISTRY } from '../../src/xds/codec.js';
import { send, startUpstream } from '../support/data-plane.js';
import { startRoutingProxy } from '../support/proxy-child.js';
import { adminStats } from '../support/gateway-mesh.js';
import { waitFor } from '../support/wait.js';

/** An upstream answering its name, and /healthz with 200 or 503; it notes the connections checks came over. */
async function checkedUpstream(t: TestContext, name: string) {
  const state = { healthy: true, checks: 0, from: new Set<number>() };
  const up = await startUpstream(t, name, '127.0.0.1', 0, (req, res) => {
    if (req.url === '/healthz') {
      state.checks++;
      state.from.add(req.socket.remotePort ?? 0);
      res.writeHead(state.healthy ? 200 : 503);
      res.end();
      return;
    }
    res.end(name);
  });
  return { port: up.port, state };
}

it('--concurrency 2: a cluster’s hosts are health-checked once for the whole proxy and every worker balances by the result', async (t) => {
  const a = await checkedUpstream(t, 'a');
  const b = await checkedUpstream(t, 'b');
  const endpoint = (p: number) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } });
  // Checks every 200 ms, traffic or not; one failure fails a host, one pass brings it back.
  const shop = fromJson(
    ClusterSchema,
    {
      name: 'shop',
      type: 'STATIC',
      connect_timeout: '1s',
      load_assignment: { cluster_name: 'shop', endpoints: [{ lb_endpoints: [endpoint(a.port), endpoint(b.port)] }] },
      health_checks: [{ timeout: '1s', interval: '0.2s', no_traffic_interval: '0.2s', unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: '/healthz' } }],
    },
    { registry: XDS_REGISTRY },
  );
  const { admin, port } = await startRoutingProxy(t, shop);

  // Requests on new connections (the kernel hands each to a worker) until both workers have served some since
  // `start` and the last 20 answers are `ok`.
  const cx = async (): Promise<number[]> => {
    const s = await adminStats(admin);
    return [0, 1].map((w) => s.get(`listener.127.0.0.1_${port}.worker_${w}.downstream_cx_total`) ?? 0);
  };
  const bothWorkers = async (ok: (answers: string[]) => boolean, what: string): Promise<string[]> => {
    const start = await cx();
    const answers: string[] = [];
    await waitFor(
      async () => {
        const r = await send('127.0.0.1', port, { path: '/' });
        answers.push(`${r.status} ${r.body}`);
        return answers.length >= 20 && (await cx()).every((n, i) => n > (start[i] ?? 0)) && ok(answers.slice(-20));
      },
      what,
      20_000,
      20,
    );
    return answers.slice(-20);
  };
  const flags = async (p: number): Promise<string> =>
    (await (await fetch(`${admin}/clusters`)).text()).split('\n').find((x) => x.startsWith(`shop::127.0.0.1:${p}::health_flags::`)) ?? '(no health_flags line)';

  await bothWorkers((xs) => xs.includes('200 a') && xs.includes('200 b'), 'both workers to answer through both hosts');
  await waitFor(() => a.state.checks >= 8 && b.state.checks >= 8, 'eight health checks of each host');
  assert.equal(a.state.from.size, 1, `a: every check over the primary's one connection (connections: ${a.state.from.size}, checks: ${a.state.checks})`);
  assert.equal(b.state.from.size, 1, `b: every check over the primary's one connection (connections: ${b.state.from.size}, checks: ${b.state.checks})`);

  b.state.healthy = false;
  await waitFor(async () => (await flags(b.port)).endsWith('::/failed_active_hc'), "the primary's /clusters to show b's failed check", 20_000);
  assert.ok((await flags(a.port)).endsWith('::healthy'), await flags(a.port));
  // b's checks failed: no worker sends it anything (b still answers requests; only its checks fail).
  const whileFailed = await bothWorkers((xs) => xs.every((x) => x === '200 a'), 'both workers to send everything to a');
  assert.deepEqual(new Set(whileFailed), new Set(['200 a']));

  b.state.healthy = true;
  await waitFor(async () => (await flags(b.port)).endsWith('::healthy'), "the primary's /clusters to show b healthy again", 20_000);
  await bothWorkers((xs) => xs.includes('200 b'), 'both workers to send to b again');
  assert.equal(b.state.from.size, 1, 'still one checker');
  // Envoy's health_check.* are counted once, by the primary's checker: two hosts healthy, not one per worker.
  const stats = await adminStats(admin);
  assert.equal(stats.get('cluster.shop.health_check.healthy'), 2);
  assert.ok((stats.get('cluster.shop.health_check.failure') ?? 0) >= 1, "b's failed checks counted");
  const attempts = stats.get('cluster.shop.health_check.attempt') ?? 0;
  assert.ok(attempts <= a.state.checks + b.state.checks + 2, `attempts ${attempts}: no more than the upstreams saw (${a.state.checks + b.state.checks}, and two in flight)`);
});
