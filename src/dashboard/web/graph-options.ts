// The graph page's display options, kept in its URL query as Kiali keeps them: the metrics window
// (`window=1m`), the namespace (`namespace=default`) and whether idle nodes show (`idleNodes=true`).
// Idle nodes are the services the mesh knows that had no traffic in the window (the API flags them
// `idle`); like Kiali's "Idle nodes" display option they are hidden unless asked for, which also keeps a
// gateway from showing twice (its workload carries the traffic, its Service none).
// Pure functions of the query string and the API's answer (unit-tested in Node).

import type { GraphResponse } from '../shared/api-types.js';

export interface GraphPageOptions {
  readonly window: string;
  /** '' for every namespace. */
  readonly namespace: string;
  readonly idleNodes: boolean;
}

export const DEFAULT_GRAPH_WINDOW = '1m';
/** Kiali's graph URL parameter for the same option. */
export const IDLE_NODES_PARAM = 'idleNodes';

export function parseGraphOptions(search: string): GraphPageOptions {
  const q = new URLSearchParams(search);
  const idle = q.get(IDLE_NODES_PARAM);
  return {
    window: q.get('window') || DEFAULT_GRAPH_WINDOW,
    namespace: q.get('namespace') ?? '',
    idleNodes: idle === 'true' || idle === '1',
  };
}

/** The query string (`?…`) with one option changed; other parameters are kept, a default option is left out. */
export function withGraphOption(search: string, change: Partial<GraphPageOptions>): string {
  const q = new URLSearchParams(search);
  if (change.window !== undefined) q.set('window', change.window);
  if (change.namespace !== undefined) {
    if (change.namespace === '') q.delete('namespace');
    else q.set('namespace', change.namespace);
  }
  if (change.idleNodes !== undefined) {
    if (change.idleNodes) q.set(IDLE_NODES_PARAM, 'true');
    else q.delete(IDLE_NODES_PARAM);
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** The /api/graph query for the options (the API always lists idle nodes; the page filters them). */
export function graphApiQuery(o: GraphPageOptions): string {
  return new URLSearchParams({ window: o.window, ...(o.namespace !== '' ? { namespace: o.namespace } : {}) }).toString();
}

export interface VisibleGraph {
  readonly graph: GraphResponse;
  /** How many idle nodes were left out. */
  readonly hiddenIdle: number;
}

/** The graph as the page draws it: without idle nodes (and any edge of theirs) unless they are asked for. */
export function visibleGraph(g: GraphResponse, idleNodes: boolean): VisibleGraph {
  if (idleNodes) return { graph: g, hiddenIdle: 0 };
  const nodes = g.nodes.filter((n) => n.idle !== true);
  if (nodes.length === g.nodes.length) return { graph: g, hiddenIdle: 0 };
  const kept = new Set(nodes.map((n) => n.id));
  const edges = g.edges.filter((e) => kept.has(e.source) && kept.has(e.target));
  return { graph: { ...g, nodes, edges }, hiddenIdle: g.nodes.length - nodes.length };
}
