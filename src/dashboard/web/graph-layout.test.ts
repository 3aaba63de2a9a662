// The graph layout and labels: columns follow the traffic, versions of an app share a box, edges carry
// requests/s with each version's share of a split service; in the Bookinfo demo's graph every edge label
// sits on its own edge's midpoint and no label covers another, a node or a namespace box's border.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DashboardNode, GraphEdge } from '../shared/api-types.js';
import { cubicPoint, rectsIntersect, straddles, type Rect } from './edge-labels.js';
import { depths, layoutGraph, nodeBoxes, type GraphLayout } from './graph-layout.js';
import { edgeHealth, edgeLabel, edgeLabelLines, edgeShares, formatPercent, formatRps, nodeLabel } from './format.js';
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

/** Bookinfo as the demo's graph shows it after traffic through the ingress (rates and latencies as seen in a run). */
function bookinfo(): { nodes: DashboardNode[]; edges: GraphEdge[] } {
  const ns = (name: string): DashboardNode => svc(name);
  const [ppS, dS, rS, raS] = [ns('productpage'), ns('details'), ns('reviews'), ns('ratings')];
  const [pp1, d1, r1v, r2v, r3v, ra1] = [wl('productpage-v1', 'productpage', 'v1'), wl('details-v1', 'details', 'v1'), r1, r2, wl('reviews-v3', 'reviews', 'v3'), wl('ratings-v1', 'ratings', 'v1')];
  const call = (a: DashboardNode, b: DashboardNode, rps: number, p95: number, errorRate = 0): GraphEdge => edge(a.id, b.id, rps, { p95LatencyMs: p95, errorRate });
  const edges = [
    call(gw, ppS, 4.93, 875), call(ppS, pp1, 4.93, 875), call(pp1, dS, 4.93, 194), call(pp1, rS, 6.3, 761), call(dS, d1, 4.93, 194),
    call(rS, r1v, 1.31, 220), call(rS, r2v, 1.77, 1820, 0.025), call(rS, r3v, 3.22, 675), call(r2v, raS, 1.77, 388), call(r3v, raS, 3.22, 92), call(raS, ra1, 4.99, 98),
  ].sort((a, b) => (a.id < b.id ? -1 : 1));
  return { nodes: [gw, ppS, pp1, dS, d1, rS, r1v, r2v, r3v, raS, ra1], edges };
}

/** Every way two things of a layout collide that a reader would notice; empty when the labels are readable. */
function labelCollisions(l: GraphLayout): string[] {
  const found: string[] = [];
  const shape = (x: number, y: number): Rect => ({ x: x - 20, y: y - 20, width: 40, height: 38 });
  l.edges.forEach((a, i) => {
    const name = a.edge.id;
    const mid = { x: a.label.x + a.label.width / 2, y: a.label.y + a.label.height / 2 };
    const on = cubicPoint(a.curve, a.label.t);
    if (Math.abs(on.x - mid.x) > 1e-6 || Math.abs(on.y - mid.y) > 1e-6) found.push(`${name}: label off its edge`);
    if (!a.label.clear) found.push(`${name}: not clear`);
    for (const b of l.edges.slice(i + 1)) if (rectsIntersect(a.label, b.label)) found.push(`${name}: covers the label of ${b.edge.id}`);
    for (const p of l.nodes) {
      if (rectsIntersect(a.label, shape(p.x, p.y))) found.push(`${name}: covers node ${p.node.id}`);
      if (nodeBoxes(p).some((r) => rectsIntersect(a.label, r))) found.push(`${name}: covers node ${p.node.id}'s name or arrowheads`);
    }
    for (const b of l.namespaces) if (straddles(a.label, b)) found.push(`${name}: across the border of namespace ${b.label}`);
  });
  return found;
}

describe('edge labels in the Bookinfo demo', () => {
  const { nodes: demoNodes, edges: demoEdges } = bookinfo();
  const idleGatewayService: DashboardNode = { id: 'service:istio-system/istio-ingressgateway', kind: 'service', namespace: 'istio-system', name: 'istio-ingressgateway', idle: true };
  const cases: [string, DashboardNode[]][] = [
    ['idle nodes hidden', demoNodes],
    ['idle nodes shown', [...demoNodes, idleGatewayService]],
  ];
  for (const [name, graphNodes] of cases) {
    it(`puts every label on its edge's midpoint, clear of the other labels, the nodes and the namespace borders (${name})`, () => {
      const l = layoutGraph(graphNodes, demoEdges);
      assert.equal(l.edges.length, demoEdges.length);
      assert.deepEqual(labelCollisions(l), []);
      assert.deepEqual(l.edges.filter((e) => e.label.t !== 0.5).map((e) => e.edge.id), [], 'labels off the midpoint');
    });
  }

  it("widens the gap between namespaces to hold the gateway's label", () => {
    const l = layoutGraph(demoNodes, demoEdges);
    const [system, def] = l.namespaces;
    const label = l.edges.find((e) => e.edge.source === gw.id)?.label;
    assert.ok(system !== undefined && def !== undefined && label !== undefined);
    assert.ok(system.x + system.width < label.x && label.x + label.width < def.x, JSON.stringify({ system, def, label }));
  });

  it('slides a label along its edge when the midpoint is taken', () => {
    // Two workloads calling across each other: both curves cross at the same midpoint.
    const [a, b, c, d] = [wl('a', 'a', 'v1'), wl('b', 'b', 'v1'), wl('c', 'c', 'v1'), wl('d', 'd', 'v1')];
    const crossing = [edge(a.id, d.id, 1, { p95LatencyMs: 5 }), edge(b.id, c.id, 1, { p95LatencyMs: 5 })];
    const l = layoutGraph([a, b, c, d], crossing);
    assert.deepEqual(labelCollisions(l), []);
    assert.ok(l.edges.some((e) => e.label.t !== 0.5));
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
    // The graph draws the rate on one line, errors and latency on a second.
    assert.deepEqual(edgeLabelLines(edge('a', 'b', 10, { errorRate: 0.05, p95LatencyMs: 12.4 }), 0.5), ['10.0 rps (50%)', '5.0% err · p95 12ms']);
    assert.deepEqual(edgeLabelLines(edge('a', 'b', 2.5)), ['2.50 rps']);
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
