// The graph page's options in its URL, and the idle nodes it hides unless asked (Kiali's "Idle nodes").

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DashboardNode, GraphEdge, GraphResponse } from '../shared/api-types.js';
import { graphApiQuery, parseGraphOptions, visibleGraph, withGraphOption } from './graph-options.js';

const node = (id: string, idle = false): DashboardNode => ({ id, kind: id.startsWith('service:') ? 'service' : 'workload', namespace: 'istio-system', name: id.split('/')[1] ?? id, ...(idle ? { idle } : {}) });
const edge = (source: string, target: string): GraphEdge => ({ id: `${source} -> ${target} (http)`, source, target, protocol: 'http', requestsPerSecond: 1, errorsPerSecond: 0, errorRate: 0, responses: {}, p95LatencyMs: null, mtlsPercent: null, mtls: false });

describe('graph page options', () => {
  it('reads the window, namespace and idle-nodes option from the query, hiding idle nodes by default', () => {
    const cases: [string, ReturnType<typeof parseGraphOptions>][] = [
      ['', { window: '1m', namespace: '', idleNodes: false }],
      ['?window=10s&namespace=default', { window: '10s', namespace: 'default', idleNodes: false }],
      ['?idleNodes=true', { window: '1m', namespace: '', idleNodes: true }],
      ['?idleNodes=1', { window: '1m', namespace: '', idleNodes: true }],
      ['?idleNodes=false', { window: '1m', namespace: '', idleNodes: false }],
      ['?window=', { window: '1m', namespace: '', idleNodes: false }],
    ];
    for (const [search, want] of cases) assert.deepEqual(parseGraphOptions(search), want, search);
  });

  it('changes one option in the query and keeps the others', () => {
    const cases: [string, string, Parameters<typeof withGraphOption>[1], string][] = [
      ['show idle nodes', '?window=10s', { idleNodes: true }, '?window=10s&idleNodes=true'],
      ['hide them again', '?window=10s&idleNodes=true', { idleNodes: false }, '?window=10s'],
      ['change the window', '?idleNodes=true&window=10s', { window: '5m' }, '?idleNodes=true&window=5m'],
      ['all namespaces', '?namespace=default', { namespace: '' }, ''],
    ];
    for (const [name, search, change, want] of cases) assert.equal(withGraphOption(search, change), want, name);
  });

  it('asks the API for the window and namespace only', () => {
    assert.equal(graphApiQuery({ window: '10s', namespace: '', idleNodes: true }), 'window=10s');
    assert.equal(graphApiQuery({ window: '1m', namespace: 'default', idleNodes: false }), 'window=1m&namespace=default');
  });
});

describe('idle nodes', () => {
  // The demo's ingress gateway: its workload carries the traffic, its Service is idle.
  const g: GraphResponse = {
    timestamp: '2024-01-01T00:00:00.000Z',
    windowMs: 60_000,
    nodes: [node('service:istio-system/istio-ingressgateway', true), node('workload:istio-system/istio-ingressgateway'), node('service:istio-system/productpage')],
    edges: [edge('workload:istio-system/istio-ingressgateway', 'service:istio-system/productpage')],
  };

  it('are hidden unless asked for, and counted', () => {
    const hidden = visibleGraph(g, false);
    assert.deepEqual(hidden.graph.nodes.map((n) => n.id), ['workload:istio-system/istio-ingressgateway', 'service:istio-system/productpage']);
    assert.equal(hidden.graph.edges.length, 1);
    assert.equal(hidden.hiddenIdle, 1);
    const shown = visibleGraph(g, true);
    assert.equal(shown.graph.nodes.length, 3);
    assert.equal(shown.hiddenIdle, 0);
  });

  it('take their edges with them', () => {
    const withEdge: GraphResponse = { ...g, edges: [...g.edges, edge('service:istio-system/istio-ingressgateway', 'workload:istio-system/istio-ingressgateway')] };
    assert.equal(visibleGraph(withEdge, false).graph.edges.length, 1);
  });
});
