// DNS clusters in `isthmus proxy --concurrency 2` as a user runs it (a real CLI child: a primary and two
// worker processes, fed by a real xDS server): Envoy resolves a DNS cluster's names on its main thread and
// hands the hosts to every worker, so a name is asked once per refresh whatever the concurrency. The
// cluster's c-ares resolver points at a real DNS server on 127.0.0.1, which counts the questions. When each
// worker resolved for itself, the name was asked once per worker.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import type { ProxyResources } from '../../src/translate/resources.js';
import { startHarness } from '../support/xds-server/harness.js';
import { fakeSnapshot } from '../support/xds-server/fake-mesh.js';
import { filterChain, hcmFilter, listener, prefix, route, routeConfig, toCluster, vhost } from '../support/xds-fixtures.js';
import { dnsCluster, startDnsServer } from '../support/dns-server.js';
import { freePort, send } from '../support/data-plane.js';
import { startProxyChild } from '../support/proxy-child.js';
import { adminStats } from '../support/gateway-mesh.js';
import { waitFor } from '../support/wait.js';

it('--concurrency 2: a DNS cluster’s name is resolved once for the whole proxy and every worker balances over the answer', async (t) => {
  const dns = await startDnsServer(t);
  const up = createServer((_req, res) => res.end('shop'));
  await new Promise<void>((ok) => up.listen(0, '127.0.0.2', ok));
  t.after(() => new Promise<void>((ok) => up.close(() => ok())));
  // A long TTL: one resolution per name for the whole test.
  dns.set('shop.test', 'A', [{ address: '127.0.0.2', ttl: 300 }]);
  const port = await freePort();
  const routes = routeConfig('local', [vhost('all', ['*'], [route('all', prefix('/'), toCluster('shop'))])]);
  const l = listener({ name: 'gw', address: '127.0.0.1', port, chains: [filterChain({ name: 'gw', filters: [hcmFilter({ routeConfig: routes })] })] });
  const resources: ProxyResources = { listeners: [l], routes: [], clusters: [dnsCluster(dns, (up.address() as AddressInfo).port)], endpoints: [], secrets: [], issues: [] };
  const harness = await startHarness({ translate: () => resources, snapshot: fakeSnapshot('1', []) });
  t.after(() => harness.close());
  const bootFile = join(tmpdir(), `isthmus-concurrency-dns-${process.pid}.json`);
  t.after(() => rm(bootFile, { force: true }));
  await writeFile(
    bootFile,
    JSON.stringify(envoyBootstrap({ node: 'gw', proxyless: false, xdsAddress: harness.ads.address, namespace: 'default', type: 'router', ip: '127.0.0.1', labels: {}, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } })),
  );
  const { admin, readiness } = await startProxyChild(t, ['--bootstrap', bootFile, '--concurrency', '2', '--bind-address', '127.0.0.1', '--admin-port', '0', '--readiness-port', '0', '--prometheus-port', '0']);
  await waitFor(async () => (await fetch(readiness)).status === 200, 'readiness 200', 60_000);

  // Requests on new connections (the kernel hands each to a worker) until both workers have served some:
  // only the DNS server knows shop.test, so every answer came through hosts resolved from it.
  const cx = (s: Map<string, number>): number[] => [0, 1].map((w) => s.get(`listener.127.0.0.1_${port}.worker_${w}.downstream_cx_total`) ?? 0);
  const replies: string[] = [];
  await waitFor(
    async () => {
      const r = await send('127.0.0.1', port, { path: '/' });
      replies.push(`${r.status} ${r.body}`);
      return cx(await adminStats(admin)).every((n) => n > 0) && replies.slice(-4).every((x) => x === '200 shop');
    },
    'both workers to answer through the resolved host',
    20_000,
    50,
  );
  const served = cx(await adminStats(admin));
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
  assert.ok(clusters.includes(`shop::127.0.0.2:${(up.address() as AddressInfo).port}::hostname::shop.test`), clusters);
  assert.ok(!clusters.includes('shop::shop.test:'), 'not the unresolved name');
});
