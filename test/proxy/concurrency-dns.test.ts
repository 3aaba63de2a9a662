// DNS clusters in `isthmus proxy --concurrency 2` as a user runs it (a real CLI child: a primary and two
// worker processes, fed by a real xDS server): Envoy resolves a DNS cluster's names on its main thread and
// hands the hosts to every worker, so a name is asked once per refresh whatever the concurrency. The
// cluster's c-ares resolver points at a real DNS server on 127.0.0.1, which counts the questions. When each
// worker resolved for itself, the name was asked once per worker. The primary's outlier detector watches the
// resolved addresses, which the workers report on.

import { it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cluster } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { dnsCluster, startDnsServer } from '../support/dns-server.js';
import { send } from '../support/data-plane.js';
import { startRoutingProxy } from '../support/proxy-child.js';
import { adminStats } from '../support/gateway-mesh.js';
import { waitFor } from '../support/wait.js';

/** An HTTP server on `host`:`port` (0: any) answering `status` and `body`. */
async function serve(t: TestContext, host: string, port: number, status: number, body: string): Promise<number> {
  const up = createServer((_req, res) => {
    res.writeHead(status);
    res.end(body);
  });
  await new Promise<void>((ok) => up.listen(port, host, ok));
  t.after(() => new Promise<void>((ok) => up.close(() => ok())));
  return (up.address() as AddressInfo).port;
}

/** downstream_cx_total of each worker's listener on `port`. */
function cx(s: Map<string, number>, port: number): number[] {
  return [0, 1].map((w) => s.get(`listener.127.0.0.1_${port}.worker_${w}.downstream_cx_total`) ?? 0);
}

it('--concurrency 2: a DNS cluster’s name is resolved once for the whole proxy and every worker balances over the answer', async (t) => {
  const dns = await startDnsServer(t);
  const upPort = await serve(t, '127.0.0.2', 0, 200, 'shop');
  // A long TTL: one resolution per name for the whole test.
  dns.set('shop.test', 'A', [{ address: '127.0.0.2', ttl: 300 }]);
  const { admin, port } = await startRoutingProxy(t, dnsCluster(dns, upPort));

  // Requests on new connections (the kernel hands each to a worker) until both workers have served some:
  // only the DNS server knows shop.test, so every answer came through hosts resolved from it.
  const replies: string[] = [];
  await waitFor(
    async () => {
      const r = await send('127.0.0.1', port, { path: '/' });
      replies.push(`${r.status} ${r.body}`);
      return cx(await adminStats(admin), port).every((n) => n > 0) && replies.slice(-4).every((x) => x === '200 shop');
    },
    'both workers to answer through the resolved host',
    20_000,
    50,
  );
  const served = cx(await adminStats(admin), port);
  assert.ok(served.every((n) => n > 0), `connections per worker: ${served.join(', ')}`);
  assert.deepEqual(
    dns.queries.filter((q) => q === 'A shop.test'),
    ['A shop.test'],
    'one question for the proxy, not one per worker',
  );
  const stats = await adminStats(admin);
  assert.equal(stats.get('cluster.shop.update_success'), 1, 'the resolution counted once, in the primary');
  // The primary's /clusters lists the resolved host with the name as hostname, as a single process does.
  const clusters = await (await fetch(`${admin}/clusters`)).text();
  assert.ok(clusters.includes(`shop::127.0.0.2:${upPort}::hostname::shop.test`), clusters);
  assert.ok(!clusters.includes('shop::shop.test:'), 'not the unresolved name');
});

// Istio's DestinationRule outlierDetection on a ServiceEntry with `resolution: DNS`: the primary's detector must
// watch the resolved hosts the workers report on, not the name. It watched `shop.test:<port>`, so no outcome
// counted and the failing address was never ejected.
it('--concurrency 2: outlier detection ejects a DNS cluster’s failing address for every worker', async (t) => {
  const dns = await startDnsServer(t);
  const upPort = await serve(t, '127.0.0.2', 0, 200, 'good');
  await serve(t, '127.0.0.3', upPort, 503, 'bad');
  dns.set('shop.test', 'A', [
    { address: '127.0.0.2', ttl: 300 },
    { address: '127.0.0.3', ttl: 300 },
  ]);
  const od = { outlierDetection: { consecutive5xx: 2, interval: '1s', baseEjectionTime: '60s', maxEjectionPercent: 100 } };
  const { admin, port } = await startRoutingProxy(t, dnsCluster(dns, upPort, od));
  const bad = `shop::127.0.0.3:${upPort}::health_flags::`;
  await waitFor(
    async () => {
      await send('127.0.0.1', port, { path: '/' });
      return (await (await fetch(`${admin}/clusters`)).text()).includes(`${bad}/failed_outlier_check`);
    },
    "the primary to eject 127.0.0.3 (its /clusters' /failed_outlier_check)",
    20_000,
    20,
  );
  // Every worker now sends everything to the good address, on new connections until both have served some.
  const start = cx(await adminStats(admin), port);
  const after: string[] = [];
  await waitFor(
    async () => {
      const r = await send('127.0.0.1', port, { path: '/' });
      after.push(`${r.status} ${r.body}`);
      return after.length >= 10 && cx(await adminStats(admin), port).every((n, i) => n > (start[i] ?? 0));
    },
    'both workers to serve after the ejection',
    20_000,
    20,
  );
  assert.deepEqual(new Set(after), new Set(['200 good']), 'no worker sends to the ejected address');
  assert.equal((await adminStats(admin)).get('cluster.shop.outlier_detection.ejections_enforced_consecutive_5xx'), 1, 'one ejection, for the whole proxy');
});
