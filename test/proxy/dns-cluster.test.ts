// A STRICT_DNS cluster through the whole proxy: `isthmus proxy` (in process) fed by a real xDS server, its
// cluster's names resolved by a real DNS server on 127.0.0.1 (the cluster's c-ares resolver points at it),
// requests balanced over every address of the name, the hosts following the DNS answer after its TTL, and
// the admin /clusters and /stats showing them as Envoy's do (each address a host with the name as hostname;
// update_attempt and update_success). A cluster whose DNS settings cannot be honoured is NACKed. And a
// ServiceEntry with `resolution: DNS` from the control plane: its STRICT_DNS cluster resolves the endpoint's
// name with the system resolver (here `localhost`, from /etc/hosts).

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromJson } from '@bufbuild/protobuf';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import { parseBootstrap } from '../../src/proxy/bootstrap.js';
import { startProxy, type RunningProxy } from '../../src/proxy/proxy.js';
import { ClusterSchema, type Cluster } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { XDS_REGISTRY } from '../../src/xds/codec.js';
import type { ProxyResources } from '../../src/translate/resources.js';
import { startHarness } from '../support/xds-server/harness.js';
import { fakeSnapshot } from '../support/xds-server/fake-mesh.js';
import { filterChain, hcmFilter, listener, prefix, route, routeConfig, toCluster, vhost } from '../support/xds-fixtures.js';
import { dnsCluster, startDnsServer } from '../support/dns-server.js';
import { freePort } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { serviceEntryYaml, startGateway, virtualServiceYaml } from '../data-plane/resilience-mesh.js';
import { CLUSTER_TYPE } from '../../src/xds/type-urls.js';

/** An HTTP server on `address` answering with that address. */
async function upstream(t: TestContext, address: string, port: number): Promise<Server> {
  const s = createServer((_req, res) => res.end(address));
  await new Promise<void>((resolve) => s.listen(port, address, resolve));
  t.after(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return s;
}

interface Rig {
  readonly proxy: RunningProxy;
  readonly port: number;
  resources: ProxyResources;
  push(): void;
}

async function rig(t: TestContext, cluster: Cluster): Promise<Rig> {
  const port = await freePort();
  const routes = routeConfig('local', [vhost('all', ['*'], [route('all', prefix('/'), toCluster('shop'))])]);
  const l = listener({ name: 'gw', address: '127.0.0.1', port, chains: [filterChain({ name: 'gw', filters: [hcmFilter({ routeConfig: routes })] })] });
  const r: Rig = {
    proxy: undefined as unknown as RunningProxy,
    port,
    resources: { listeners: [l], routes: [], clusters: [cluster], endpoints: [], secrets: [], issues: [] },
    push: () => void harness.ds.pushSnapshot(fakeSnapshot(String(Date.now()), [])),
  };
  const harness = await startHarness({ translate: () => r.resources, snapshot: fakeSnapshot('1', []) });
  t.after(() => harness.close());
  const boot = parseBootstrap(
    envoyBootstrap({ node: 'gw', proxyless: false, xdsAddress: harness.ads.address, namespace: 'default', type: 'router', ip: '127.0.0.1', labels: {}, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } }),
    'test bootstrap',
  );
  const proxy = await startProxy({ bootstrap: boot, adminPort: 0, readinessPort: 0, prometheusPort: 0, readinessHost: '127.0.0.1' });
  t.after(() => proxy.close());
  Object.assign(r, { proxy });
  await waitFor(async () => (await fetch(proxy.readinessUrl)).status === 200, 'the proxy to be ready', 10_000);
  return r;
}

async function answers(port: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await (await fetch(`http://127.0.0.1:${port}/`)).text());
  return out.sort();
}

async function adminText(p: RunningProxy, path: string): Promise<string> {
  return (await fetch(`${p.adminUrl}${path}`)).text();
}

describe('a STRICT_DNS cluster in the proxy', () => {
  it('balances over every address of the name and follows the answer after its TTL', async (t) => {
    const dns = await startDnsServer(t);
    const a = await upstream(t, '127.0.0.2', 0);
    const port = (a.address() as AddressInfo).port;
    await upstream(t, '127.0.0.3', port);
    dns.set('shop.test', 'A', [
      { address: '127.0.0.2', ttl: 1 },
      { address: '127.0.0.3', ttl: 1 },
    ]);
    const r = await rig(t, dnsCluster(dns, port));
    // Until the first answer the endpoint is used by name (which only DNS here knows): wait for the answer.
    await waitFor(async () => (await adminText(r.proxy, '/clusters')).includes(`shop::127.0.0.3:${port}::`), 'the resolved hosts in /clusters');
    assert.deepEqual(await answers(r.port, 6), ['127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.3', '127.0.0.3']);
    const clusters = await adminText(r.proxy, '/clusters');
    assert.ok(clusters.includes(`shop::127.0.0.2:${port}::hostname::shop.test`), clusters);
    assert.ok(clusters.includes(`shop::127.0.0.3:${port}::hostname::shop.test`), clusters);

    // The name loses an address: after the TTL (1 s) only the other one is used.
    dns.set('shop.test', 'A', [{ address: '127.0.0.3', ttl: 1 }]);
    await waitFor(async () => !(await adminText(r.proxy, '/clusters')).includes(`127.0.0.2:${port}`), 'the host the answer dropped to go', 5000);
    assert.deepEqual(await answers(r.port, 3), ['127.0.0.3', '127.0.0.3', '127.0.0.3']);
    const stats = await adminText(r.proxy, '/stats');
    const count = (name: string): number => Number(new RegExp(`^cluster\\.shop\\.${name}: (\\d+)$`, 'm').exec(stats)?.[1] ?? -1);
    assert.ok(count('update_success') >= 2 && count('update_attempt') >= count('update_success'), stats.split('\n').filter((l) => l.includes('update_')).join('\n'));
    assert.ok(dns.queries.every((q) => q === 'A shop.test'), dns.queries.join(', '));
  });

  it('NACKs a cluster whose DNS settings it cannot honour, naming the field, and keeps the one it had', async (t) => {
    const dns = await startDnsServer(t);
    const up = await upstream(t, '127.0.0.2', 0);
    const port = (up.address() as AddressInfo).port;
    dns.set('shop.test', 'A', [{ address: '127.0.0.2', ttl: 30 }]);
    const r = await rig(t, dnsCluster(dns, port));
    await waitFor(async () => (await adminText(r.proxy, '/clusters')).includes(`shop::127.0.0.2:${port}::`), 'the resolved host');
    r.resources = { ...r.resources, clusters: [dnsCluster(dns, port, {}, { dnsResolverOptions: { useTcpForDnsLookups: true } })] };
    r.push();
    const nack = await waitFor(() => r.proxy.xds.typeState(CLUSTER_TYPE).lastError, 'the NACK');
    assert.match(nack, /shop: typed_dns_resolver_config\(envoy\.network\.dns_resolver\.cares\)\.typed_config\.dns_resolver_options\.use_tcp_for_dns_lookups: DNS over TCP only is not supported/);
    assert.deepEqual(await answers(r.port, 2), ['127.0.0.2', '127.0.0.2']);
  });
});

describe('a ServiceEntry with resolution DNS', () => {
  it('is a STRICT_DNS cluster whose endpoint name the system resolver turns into the host', async (t) => {
    const up = await upstream(t, '127.0.0.1', 0);
    const port = (up.address() as AddressInfo).port;
    const gw = await startGateway(t, () => ({
      'se.yaml': serviceEntryYaml('local', [{ address: 'localhost', port }], { resolution: 'DNS', location: 'MESH_EXTERNAL' }),
      'vs.yaml': virtualServiceYaml(`  - route: [{destination: {host: local.example.internal, port: {number: 80}}}]\n`),
    }));
    const cluster = 'outbound|80||local.example.internal';
    await waitFor(async () => (await adminText(gw.proxy, '/clusters')).includes(`${cluster}::127.0.0.1:${port}::hostname::localhost`), 'localhost resolved in /clusters');
    const r = await gw.get('/anything');
    assert.deepEqual([r.status, r.body], [200, '127.0.0.1']);
    const st = await gw.clusterStats('local');
    assert.ok((st['update_success'] ?? 0) >= 1, JSON.stringify(st));
  });
});
