// The graph layout and labels: columns follow the traffic, versions of an app share a box, edges carry
// requests/s with each version's share of a split service.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DashboardNode, GraphEdge } from '../shared/api-types.js';
import { depths, layoutGraph } from './graph-layout.js';
import { edgeHealth, edgeLabel, edgeShares, formatPercent, formatRps, nodeLabel } from './format.js';
import { nextPage, nodePath, parseRoute, proxyPath, resourcePath, servicePath, workloadPath } from './routes.js';

const wl = (name: string, app: string, version?: string, namespace = 'default'): DashboardNode => ({ id: `workload:${namespace}/${name}`, kind: 'workload', namespace, name, app, ...(version !== undefined ? { version } : {}) });
const svc = (name: string): DashboardNode => ({ id: `service:default/${name}`, kind: 'service', namespace: 'default', name, host: `${name}.default.svc.cluster.local` });
const edge = (source: string, target: string, rps: number, extra: Partial<GraphEdge> = {}): GraphEdge => ({
  id: `${source} -> ${target} (http)`, source, target, protocol: 'http', requestsPerSecond: rps, errorsPerSecond: 0, errorRate: 0, responses: {}, p95LatencyMs: null, mtlsPercent: 100, mtls: true, ...extra,
});

const gw = wl('istio-ingressgateway', 'istio-ingressgateway', undefined, 'istio-system');
const pp = wl('productpage-v1', 'productpage', 'v1');
const reviews = svc('reviews');
const r1 = wl('reviews-v1', 'reviews', 'v1');
const r2 = wl('reviews-v2', 'reviews', 'v2');
const ppSvc = svc('productpage');
const nodes = [gw, pp, reviews, r1, r2, ppSvc];
const edges = [edge(gw.id, ppSvc.id, 1), edge(ppSvc.id, pp.id, 1), edge(pp.id, reviews.id, 1), edge(reviews.id, r1.id, 0.75), edge(reviews.id, r2.id, 0.25)];

describe('graph layout', () => {
  it('puts each node in the column of its depth in the traffic', () => {
    const d = depths(nodes, edges);
    assert.deepEqual([gw, ppSvc, pp, reviews, r1, r2].map((n) => d.get(n.id)), [0, 1, 2, 3, 4, 4]);
  });

  it('survives a cycle', () => {
    const d = depths([pp, reviews], [edge(pp.id, reviews.id, 1), edge(reviews.id, pp.id, 1)]);
    assert.ok([...d.values()].every((v) => v < 2));
  });

  it('draws the ingress namespace first, left to right along the traffic, with one box around the versions of an app', () => {
    const l = layoutGraph(nodes, edges);
    assert.deepEqual(l.namespaces.map((b) => b.label), ['istio-system', 'default']);
    const x = (n: DashboardNode): number => l.nodes.find((p) => p.node.id === n.id)?.x ?? NaN;
    assert.ok(x(gw) < x(ppSvc) && x(ppSvc) < x(pp) && x(pp) < x(reviews) && x(reviews) < x(r1));
    assert.equal(x(r1), x(r2));
    assert.deepEqual(l.apps.map((a) => a.label), ['reviews']);
    assert.equal(l.edges.length, edges.length);
    assert.ok(l.width > 0 && l.height > 0);
  });
});

describe('labels', () => {
  it('names nodes as Kiali does', () => {
    const cases: [string, DashboardNode, string][] = [
      ['versioned workload', r2, 'reviews v2'],
      ['workload without version', gw, 'istio-ingressgateway'],
      ["Istio's default revision", { ...gw, version: 'latest' }, 'istio-ingressgateway'],
      ['service', reviews, 'reviews'],
      ['host without a service', { id: 'service:httpbin.org', kind: 'service', namespace: '', name: 'httpbin.org', host: 'httpbin.org' }, 'httpbin.org'],
      ['unknown', { id: 'unknown', kind: 'unknown', namespace: '', name: 'unknown' }, 'unknown'],
    ];
    for (const [name, n, want] of cases) assert.equal(nodeLabel(n), want, name);
  });

  it('labels edges with rps, split share, error rate and p95', () => {
    const shares = edgeShares(nodes, edges);
    assert.equal(shares.get(edges[3]?.id ?? ''), 0.75);
    assert.equal(shares.has(edges[2]?.id ?? ''), false, 'a workload calling one service is no split');
    const cases: [string, GraphEdge, number | undefined, string][] = [
      ['plain', edge('a', 'b', 2.5), undefined, '2.50 rps'],
      ['split share', edge('a', 'b', 0.75), 0.75, '0.75 rps (75%)'],
      ['errors and latency', edge('a', 'b', 10, { errorRate: 0.05, p95LatencyMs: 12.4 }), undefined, '10.0 rps · 5.0% err · p95 12ms'],
      ['tcp', edge('a', 'b', 0, { protocol: 'tcp', errorRate: null, bytesPerSecond: 2048 }), undefined, '2.0 kB/s'],
    ];
    for (const [name, e, share, want] of cases) assert.equal(edgeLabel(e, share), want, name);
    assert.equal(formatRps(0.001), '<0.01');
    assert.equal(formatPercent(0.0004), '<0.1%');
  });

  it('colours edges by error rate', () => {
    assert.deepEqual([edge('a', 'b', 1), edge('a', 'b', 1, { errorRate: 0.01 }), edge('a', 'b', 1, { errorRate: 0.5 }), edge('a', 'b', 0)].map(edgeHealth), ['healthy', 'degraded', 'failure', 'idle']);
  });
});

describe('routes', () => {
  it('parses the page paths', () => {
    const cases: [string, ReturnType<typeof parseRoute>][] = [
      ['/', { page: 'graph' }],
      ['/graph', { page: 'graph' }],
      ['/config', { page: 'config' }],
      [resourcePath('networking.istio.io/VirtualService/default/reviews'), { page: 'resource', id: 'networking.istio.io/VirtualService/default/reviews' }],
      ['/proxies', { page: 'proxies' }],
      [proxyPath('reviews-v1-x.default', 'routes'), { page: 'proxy', id: 'reviews-v1-x.default', section: 'routes' }],
      ['/proxies/p.default/nonsense', { page: 'proxy', id: 'p.default', section: 'listeners' }],
      ['/services', { page: 'services' }],
      [servicePath('default', 'reviews'), { page: 'service', namespace: 'default', name: 'reviews' }],
      ['/services/default', { page: 'services' }],
      ['/workloads', { page: 'workloads' }],
      [workloadPath('istio-system', 'istio-ingressgateway'), { page: 'workload', namespace: 'istio-system', name: 'istio-ingressgateway' }],
    ];
    for (const [path, want] of cases) assert.deepEqual(parseRoute(path), want, path);
  });

  it("links graph nodes and traffic peers to their service's or workload's page", () => {
    const cases: [string, string | undefined][] = [
      ['workload:default/reviews-v2', '/workloads/default/reviews-v2'],
      ['service:default/reviews', '/services/default/reviews'],
      ['service:httpbin.org', undefined],
      ['unknown', undefined],
    ];
    for (const [id, want] of cases) assert.equal(nodePath(id), want, id);
  });

  it('returns after login to pages of this site only', () => {
    const cases: [string, string][] = [
      ['?next=%2Fconfig', '/config'],
      ['', '/graph'],
      ['?next=https%3A%2F%2Fevil.example', '/graph'],
      ['?next=%2F%2Fevil.example', '/graph'],
      ['?next=%2Flogin', '/graph'],
    ];
    for (const [search, want] of cases) assert.equal(nextPage(search), want, search);
  });
});
