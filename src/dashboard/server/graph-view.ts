// The dashboard's graph: the metrics service graph (service-graph.ts) plus a node for every service the
// mesh knows that had no traffic in the window, flagged `idle`, so a quiet service can still be put on the
// map (Kiali's "idle nodes" option: the page hides them unless it is ticked). Workloads without traffic
// are not added: the registry knows pods, while the graph's workloads are the metrics' workload names
// (Deployments).

import type { Service } from '../../registry/types.js';
import type { DashboardNode, GraphResponse } from '../shared/api-types.js';
import type { ServiceGraph } from './service-graph.js';

export function withIdleServices(graph: ServiceGraph, services: readonly Service[], namespace?: string): GraphResponse {
  const have = new Set(graph.nodes.map((n) => n.id));
  const idle: DashboardNode[] = [];
  for (const s of services) {
    if (s.name === '' || s.namespace === '' || (namespace !== undefined && s.namespace !== namespace)) continue;
    const id = `service:${s.namespace}/${s.name}`;
    if (have.has(id)) continue;
    have.add(id);
    idle.push({ id, kind: 'service', namespace: s.namespace, name: s.name, host: s.hostname, idle: true });
  }
  if (idle.length === 0) return graph;
  const nodes = [...graph.nodes, ...idle].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ...graph, nodes };
}
