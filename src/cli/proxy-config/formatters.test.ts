// The proxy-config formatters on a config dump captured from a real Isthmus sidecar (control plane +
// proxy in this process): the rows a user looks for, derived from the mesh config below.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { startMesh, startTestProxy } from '../../../test/support/data-plane.js';
import { waitFor } from '../../../test/support/wait.js';
import { parseConfigDump, type ConfigDump, type Table } from './config-dump.js';
import { clusterData, clusterTable } from './clusters.js';
import { listenerData, listenerTable } from './listeners.js';
import { routeData, routeTable } from './routes.js';
import { edsTable, endpointData, endpointTable, parseClusterStatuses, statusesFromDump, type ClusterStatus } from './endpoints.js';

const NS = 'default';
const REVIEWS = `reviews.${NS}.svc.cluster.local`;
const PRODUCTPAGE = `productpage.${NS}.svc.cluster.local`;
const PORT = 9080;
const REVIEWS_IP = '127.0.41.2';
const PRODUCTPAGE_IP = '127.0.41.1';

const service = (name: string): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${NS}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: ${PORT}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}-v1, namespace: ${NS}, labels: {app: ${name}, version: v1}}
spec:
  selector: {matchLabels: {app: ${name}, version: v1}}
  template:
    metadata: {labels: {app: ${name}, version: v1}}
    spec: {containers: [{name: ${name}, image: ${name}:v1}]}
---
`;

const CONFIG = {
  'services.yaml': service('reviews') + service('productpage'),
  'destination-rule.yaml': `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-subsets, namespace: ${NS}}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
`,
  'virtual-service.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-route, namespace: ${NS}}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /v2}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
`,
};

const cleanups: (() => unknown)[] = [];
const fakeContext = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as TestContext;
let dump: ConfigDump;
let statuses: ClusterStatus[];

before(async () => {
  const mesh = await startMesh(fakeContext, CONFIG);
  mesh.cp.workloads.register({ name: 'reviews-v1', namespace: NS, address: REVIEWS_IP, labels: { app: 'reviews', version: 'v1' }, tlsMode: 'disabled' });
  mesh.cp.workloads.register({ name: 'productpage-v1', namespace: NS, address: PRODUCTPAGE_IP, labels: { app: 'productpage', version: 'v1' }, tlsMode: 'disabled' });
  const proxy = await startTestProxy(fakeContext, mesh, { node: 'productpage-v1-5f9c7', ip: PRODUCTPAGE_IP, labels: { app: 'productpage', version: 'v1' } });
  // Ready means configured; wait until the reviews v1 endpoint has arrived over EDS as well.
  dump = await waitFor(async () => {
    const d = parseConfigDump(await (await fetch(`${proxy.adminUrl}/config_dump?include_eds`)).json());
    return d !== undefined && JSON.stringify(d.section('endpoints') ?? {}).includes(REVIEWS_IP) ? d : undefined;
  }, 'the reviews endpoint in the config dump');
  const parsed = parseClusterStatuses(await (await fetch(`${proxy.adminUrl}/clusters?format=json`)).text());
  assert.ok(parsed !== undefined, "the admin's /clusters parses");
  statuses = parsed;
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** The rows of `t` as objects keyed by header, for asserting on the columns a user reads. */
function records(t: Table): Record<string, string>[] {
  return t.rows.map((r) => Object.fromEntries(t.headers.map((h, i) => [h, r[i] ?? ''])));
}

describe('clusters', () => {
  it('splits subset keys into columns and names the DestinationRule of each subset cluster', () => {
    const rows = records(clusterTable(dump));
    const reviews = rows.filter((r) => r['SERVICE FQDN'] === REVIEWS);
    assert.deepEqual(
      reviews.map((r) => [r['PORT'], r['SUBSET'], r['DIRECTION'], r['TYPE'], r['DESTINATION RULE']]),
      [
        [String(PORT), '-', 'outbound', 'EDS', `reviews-subsets.${NS}`],
        [String(PORT), 'v1', 'outbound', 'EDS', `reviews-subsets.${NS}`],
        [String(PORT), 'v2', 'outbound', 'EDS', `reviews-subsets.${NS}`],
      ],
      'sorted by host, then subset',
    );
    const productpage = rows.find((r) => r['SERVICE FQDN'] === PRODUCTPAGE);
    assert.equal(productpage?.['DESTINATION RULE'], '', 'no rule for productpage');
    const blackhole = rows.find((r) => r['SERVICE FQDN'] === 'BlackHoleCluster');
    assert.deepEqual([blackhole?.['PORT'], blackhole?.['SUBSET'], blackhole?.['DIRECTION'], blackhole?.['TYPE']], ['-', '-', '-', 'STATIC']);
    assert.ok(rows.some((r) => r['SERVICE FQDN'] === 'PassthroughCluster' && r['TYPE'] === 'ORIGINAL_DST'));
  });

  const cases: { name: string; filter: Parameters<typeof clusterTable>[1]; want: string[] }[] = [
    { name: 'subset', filter: { subset: 'v2' }, want: [`outbound|${PORT}|v2|${REVIEWS}`] },
    { name: 'fqdn and direction', filter: { fqdn: REVIEWS, direction: 'outbound' }, want: [`outbound|${PORT}||${REVIEWS}`, `outbound|${PORT}|v1|${REVIEWS}`, `outbound|${PORT}|v2|${REVIEWS}`] },
    { name: 'port', filter: { port: PORT, direction: 'inbound' }, want: [`inbound|${PORT}||`] },
    { name: 'a port nothing uses', filter: { port: 1 }, want: [] },
  ];
  for (const c of cases) {
    it(`filters by ${c.name}; -o json prints the matching Cluster messages`, () => {
      assert.deepEqual(clusterData(dump, c.filter).map((x) => x['name']), c.want);
      assert.equal(clusterTable(dump, c.filter).rows.length, c.want.length);
    });
  }

  it('prefixes NAME for `all`', () => {
    const t = clusterTable(dump, { subset: 'v1' }, true);
    assert.deepEqual(t.headers, ['NAME', 'SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']);
    assert.deepEqual(t.rows[0]?.[0], `cluster/outbound|${PORT}|v1|${REVIEWS}`);
  });
});

describe('listeners', () => {
  it('prints one row per filter chain: the outbound HTTP chain goes to route config 9080', () => {
    const rows = records(listenerTable(dump, { port: PORT }));
    assert.deepEqual(
      rows.map((r) => [r['ADDRESSES'], r['PORT'], r['MATCH'], r['DESTINATION']]),
      [
        ['0.0.0.0', String(PORT), 'Trans: raw_buffer; App: http/1.1,h2c', `Route: ${PORT}`],
        ['0.0.0.0', String(PORT), 'ALL', 'PassthroughCluster'],
      ],
    );
  });

  it('shows the inbound chain of the service port and the catch-all passthrough on 15006', () => {
    const rows = records(listenerTable(dump, { port: 15006 }));
    assert.ok(rows.some((r) => r['MATCH'] === `Trans: raw_buffer; Addr: *:${PORT}` && r['DESTINATION'] === `Cluster: inbound|${PORT}||`), JSON.stringify(rows));
    assert.ok(rows.some((r) => r['DESTINATION'] === 'InboundPassthroughClusterIpv4'));
    assert.ok(rows.some((r) => r['MATCH'] === 'Addr: *:15006' && r['DESTINATION'] === 'Non-HTTP/Non-TCP'), 'the blackhole chain names no destination');
  });

  it('--verbose=false types each listener; rows are sorted by port', () => {
    const t = listenerTable(dump, {}, { verbose: false });
    assert.deepEqual(t.headers, ['ADDRESSES', 'PORT', 'TYPE']);
    assert.deepEqual(
      t.rows.map((r) => r[1]),
      [String(PORT), '15001', '15006'],
    );
    assert.deepEqual(records(listenerTable(dump, { type: 'tcp' }, { verbose: false })).map((r) => r['PORT']), ['15001']);
  });

  it('filters by address and -o json prints the Listener messages', () => {
    assert.deepEqual(listenerData(dump, { address: '0.0.0.0', port: 15001 }).map((l) => l['name']), ['virtualOutbound']);
    assert.deepEqual(listenerData(dump, { address: '10.9.9.9' }), []);
  });
});

describe('routes', () => {
  it('lists the VirtualService routes of reviews with their matches, after the service default', () => {
    const rows = records(routeTable(dump, { name: String(PORT) }));
    const reviews = rows.filter((r) => r['VHOST NAME'] === `${REVIEWS}:${PORT}`);
    assert.deepEqual(
      reviews.map((r) => [r['NAME'], r['MATCH'], r['VIRTUAL SERVICE']]),
      [
        [String(PORT), '/v2*', `reviews-route.${NS}`],
        [String(PORT), '/*', `reviews-route.${NS}`],
      ],
    );
    assert.match(reviews[0]?.['DOMAINS'] ?? '', /\breviews\b/, 'the short host is shown');
    assert.match(reviews[0]?.['DOMAINS'] ?? '', /\+ \d+ more\.\.\.$/, 'extra domains are counted');
    const productpage = rows.find((r) => r['VHOST NAME'] === `${PRODUCTPAGE}:${PORT}`);
    assert.deepEqual([productpage?.['MATCH'], productpage?.['VIRTUAL SERVICE']], ['/*', ''], 'the default route belongs to no VirtualService');
  });

  it('--verbose=false counts virtual hosts; -o json prints the RouteConfiguration', () => {
    const t = routeTable(dump, { name: String(PORT) }, { verbose: false });
    const data = routeData(dump, { name: String(PORT) });
    assert.equal(data.length, 1);
    const vhosts = data[0]?.['virtualHosts'] ?? data[0]?.['virtual_hosts'];
    assert.ok(Array.isArray(vhosts));
    assert.deepEqual(t.rows, [[String(PORT), String(vhosts.length)]]);
    assert.deepEqual(routeTable(dump, { name: 'nope' }).rows, []);
  });
});

describe('endpoints', () => {
  it("reads the admin's /clusters: the reviews pod is HEALTHY in the v1 subset and not in v2", () => {
    const rows = records(endpointTable(statuses, { address: REVIEWS_IP }));
    assert.deepEqual(
      rows.map((r) => [r['ENDPOINT'], r['STATUS'], r['OUTLIER CHECK'], r['CLUSTER']]),
      [
        [`${REVIEWS_IP}:${PORT}`, 'HEALTHY', 'OK', `outbound|${PORT}|v1|${REVIEWS}`],
        [`${REVIEWS_IP}:${PORT}`, 'HEALTHY', 'OK', `outbound|${PORT}||${REVIEWS}`],
      ],
    );
    assert.deepEqual(endpointTable(statuses, { cluster: `outbound|${PORT}|v2|${REVIEWS}` }).rows, []);
  });

  const cases: { name: string; filter: Parameters<typeof endpointTable>[1]; clusters: string[] }[] = [
    { name: 'cluster (ignoring case)', filter: { cluster: `OUTBOUND|${PORT}||${PRODUCTPAGE}` }, clusters: [`outbound|${PORT}||${PRODUCTPAGE}`] },
    { name: 'status', filter: { status: 'unhealthy' }, clusters: [] },
    { name: 'port', filter: { port: 1 }, clusters: [] },
  ];
  for (const c of cases) {
    it(`filters by ${c.name}`, () => {
      assert.deepEqual(endpointData(statuses, c.filter).map((x) => x['name']), c.clusters);
    });
  }

  it("derives the same endpoints from the dump's EDS (for --file with a config dump)", () => {
    const fromDump = endpointTable(statusesFromDump(dump), { address: REVIEWS_IP });
    assert.deepEqual(fromDump.rows, endpointTable(statuses, { address: REVIEWS_IP }).rows);
  });

  it("prints the EDS table of `all`: NAME STATUS LOCALITY CLUSTER", () => {
    const rows = records(edsTable(dump, { address: `${REVIEWS_IP}:${PORT}` }, true));
    assert.deepEqual(
      rows.map((r) => [r['NAME'], r['STATUS'], r['CLUSTER']]),
      [
        [`endpoint/${REVIEWS_IP}:${PORT}`, 'HEALTHY', `outbound|${PORT}||${REVIEWS}`],
        [`endpoint/${REVIEWS_IP}:${PORT}`, 'HEALTHY', `outbound|${PORT}|v1|${REVIEWS}`],
      ],
    );
  });
});
