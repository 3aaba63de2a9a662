// Route-level stats from a VirtualService match's `statPrefix`, through a real gateway: Istio puts it in the
// route's stat_prefix and Envoy then counts that route under `vhost.<virtual host>.route.<stat_prefix>.`
// (the virtual cluster stats set), beside the cluster's own. A route without one counts nothing of its own.
// https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest (statPrefix);
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto (Route.stat_prefix).

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../support/data-plane.js';
import { serviceEntryYaml, startGateway, virtualServiceYaml } from './resilience-mesh.js';
import { fromJson } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { XDS_REGISTRY } from '../../src/xds/codec.js';
import { StatsStore } from '../../src/proxy/stats/stats-store.js';
import { compileRouteConfig } from '../../src/proxy/http/route/compile-route-config.js';
import { clusterManagerOf, prefix, route, routeConfig, toCluster, vhost } from '../support/xds-fixtures.js';
import { startHcmListener } from '../support/hcm-listener.js';
import { ask } from '../support/http-ask.js';

it('a VirtualService statPrefix counts its route: requests, response codes, retries and their limit', async (t) => {
  const ok = await startUpstream(t, 'ok');
  const flaky = await startUpstream(t, 'flaky', '127.0.0.1', 0, (_req, res) => {
    res.writeHead(503);
    res.end('down');
  });
  const gw = await startGateway(t, () => ({
    'ok.yaml': serviceEntryYaml('ok', [{ port: ok.port }]),
    'flaky.yaml': serviceEntryYaml('flaky', [{ port: flaky.port }]),
    'vs.yaml': virtualServiceYaml(
      `  - match: [{uri: {prefix: /shop}, statPrefix: shop}]
    route: [{destination: {host: ok.example.internal, port: {number: 80}}}]
  - match: [{uri: {prefix: /pay}, statPrefix: pay}]
    route: [{destination: {host: flaky.example.internal, port: {number: 80}}}]
    retries: {attempts: 2, retryOn: 5xx}
  - match: [{uri: {prefix: /plain}}]
    route: [{destination: {host: ok.example.internal, port: {number: 80}}}]
`,
    ),
  }));
  for (let i = 0; i < 3; i++) assert.equal((await gw.get('/shop/cart')).status, 200);
  assert.equal((await gw.get('/pay')).status, 503);
  assert.equal((await gw.get('/plain')).status, 200);

  const json = (await (await fetch(`${gw.proxy.adminUrl}/stats?format=json`)).json()) as { stats: { name?: string; value?: number }[] };
  const route = (prefix: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const s of json.stats) {
      const m = s.name !== undefined ? /^vhost\.[^]+\.route\.([a-z]+)\.(.+)$/.exec(s.name) : null;
      if (m !== null && m[1] === prefix && s.value !== undefined && s.value !== 0) out[m[2] as string] = s.value;
    }
    return out;
  };
  assert.deepEqual(route('shop'), { upstream_rq_2xx: 3, upstream_rq_200: 3, upstream_rq_completed: 3, upstream_rq_total: 3 });
  // Three attempts (two retries, then the limit), and the 503 the client got.
  assert.deepEqual(route('pay'), {
    upstream_rq_5xx: 1,
    upstream_rq_503: 1,
    upstream_rq_completed: 1,
    upstream_rq_retry: 2,
    upstream_rq_retry_limit_exceeded: 1,
    upstream_rq_total: 3,
  });
  assert.ok(json.stats.every((s) => s.name === undefined || !/\.route\.(?!shop\.|pay\.)/.test(s.name)), 'no stats for the route without a prefix');
  // The cluster's own count is unchanged by the route's: the /shop and /plain requests both went to `ok`.
  assert.equal((await gw.clusterStats('ok'))['upstream_rq_total'], 4);
  const vhost = json.stats.find((s) => s.name?.endsWith('.route.shop.upstream_rq_total') === true)?.name ?? '';
  assert.match(vhost, /^vhost\..+\.route\.shop\.upstream_rq_total$/);
});

// Virtual clusters (a virtual host's virtual_clusters, which Istio does not set; other xDS servers do): each
// request counts in the first whose header matchers all hold, else in Envoy's catch-all `other`, through a
// real listener and router with hand-written xDS.
it('virtual clusters count each request in the first that matches, else in other, and name it in the access log', async (t) => {
  const up = await startUpstream(t, 'up', '127.0.0.1', 0, (req, res) => {
    res.writeHead(req.url === '/missing' ? 404 : 200);
    res.end('up');
  });
  const cluster = fromJson(
    ClusterSchema,
    { name: 'svc', connect_timeout: '1s', type: 'STATIC', load_assignment: { cluster_name: 'svc', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: up.port } } } }] }] } },
    { registry: XDS_REGISTRY },
  );
  const store = new StatsStore();
  const clusters = clusterManagerOf([cluster], store);
  const completed: string[] = [];
  const routes = routeConfig('r', [
    vhost('shop', ['*'], [route('all', prefix('/'), toCluster('svc'))], {
      virtualClusters: [
        { name: 'writes', headers: [{ name: ':method', headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: 'POST' } } } }] },
        { name: 'api', headers: [{ name: ':path', headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'prefix', value: '/api/' } } } }] },
      ],
    }),
  ]);
  const { port, manager } = await startHcmListener('gw', { routes, clusters, stats: store, onStreamComplete: (s) => completed.push(s.info.virtualClusterName) });
  t.after(() => {
    manager.close();
    clusters.close();
  });
  await ask(port, { path: '/api/items' });
  await ask(port, { path: '/api/items', slowBody: { body: 'x', gapMs: 1 } }); // a POST: `writes` comes first
  await ask(port, { path: '/missing' });
  await ask(port, { path: '/home' });
  const v = (vc: string, stat: string): number => store.counter(`vhost.shop.vcluster.${vc}.${stat}`).value;
  assert.deepEqual(
    ['api', 'writes', 'other'].map((vc) => [vc, v(vc, 'upstream_rq_total'), v(vc, 'upstream_rq_2xx'), v(vc, 'upstream_rq_404')]),
    [
      ['api', 1, 1, 0],
      ['writes', 1, 1, 0],
      ['other', 2, 1, 1],
    ],
  );
  assert.deepEqual(completed, ['api', 'writes', 'other', 'other']);
  // Bad input: a virtual cluster without a name refuses the route table, with the field.
  const bad = compileRouteConfig(routeConfig('r', [vhost('v', ['*'], [route('all', prefix('/'), toCluster('svc'))], { virtualClusters: [{ name: '' }] })]));
  assert.deepEqual(bad.ok ? [] : bad.problems, ['virtual_hosts[0].virtual_clusters[0].name: value length must be at least 1 characters']);
});
