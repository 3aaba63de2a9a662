// Where the graph's nodes go: a layered left-to-right layout, one block per namespace (Kiali's namespace
// boxes), each block's columns by the node's depth in the traffic (ingress on the left), a column's nodes
// ordered by app then version so that `reviews v1/v2/v3` sit together inside one app box. Pure: graph in,
// coordinates out (unit-tested in Node); the page draws them.

import type { DashboardNode, GraphEdge } from '../shared/api-types.js';
import { versionOf } from './format.js';

export interface PlacedNode {
  readonly node: DashboardNode;
  readonly x: number;
  readonly y: number;
}

export interface Box {
  readonly label: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedEdge {
  readonly edge: GraphEdge;
  /** SVG path data from the source to the target. */
  readonly path: string;
  /** Where the label goes. */
  readonly labelX: number;
  readonly labelY: number;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly PlacedEdge[];
  readonly namespaces: readonly Box[];
  readonly apps: readonly Box[];
}

const COLUMN = 240;
const ROW = 96;
const PAD = 48;
const NODE_R = 18;
const BLOCK_GAP = 40;

/** Depth of each node: the longest path from a node without incoming edges (cycles broken by a bound). */
export function depths(nodes: readonly DashboardNode[], edges: readonly GraphEdge[]): Map<string, number> {
  const depth = new Map(nodes.map((n) => [n.id, 0]));
  const ids = new Set(depth.keys());
  const live = edges.filter((e) => e.source !== e.target && ids.has(e.source) && ids.has(e.target));
  // Bellman-Ford style relaxation; at most |nodes| rounds, so a cycle cannot loop forever.
  for (let round = 0; round < nodes.length; round++) {
    let changed = false;
    for (const e of live) {
      const d = (depth.get(e.source) ?? 0) + 1;
      if (d > (depth.get(e.target) ?? 0) && d < nodes.length) {
        depth.set(e.target, d);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return depth;
}

function order(a: DashboardNode, b: DashboardNode): number {
  const ka = `${a.kind === 'service' ? 0 : 1}|${a.app ?? a.name}|${versionOf(a) ?? ''}|${a.name}`;
  const kb = `${b.kind === 'service' ? 0 : 1}|${b.app ?? b.name}|${versionOf(b) ?? ''}|${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function layoutGraph(nodes: readonly DashboardNode[], edges: readonly GraphEdge[]): GraphLayout {
  const depth = depths(nodes, edges);
  const byNamespace = new Map<string, DashboardNode[]>();
  for (const n of nodes) {
    const ns = n.namespace === '' ? (n.kind === 'unknown' ? '(unknown)' : '(external)') : n.namespace;
    let list = byNamespace.get(ns);
    if (list === undefined) byNamespace.set(ns, (list = []));
    list.push(n);
  }
  // Blocks left to right by their shallowest node (the ingress namespace first), then by name.
  const blocks = [...byNamespace].sort(([na, a], [nb, b]) => {
    const da = Math.min(...a.map((n) => depth.get(n.id) ?? 0));
    const db = Math.min(...b.map((n) => depth.get(n.id) ?? 0));
    return da !== db ? da - db : na < nb ? -1 : 1;
  });
  const placed = new Map<string, PlacedNode>();
  const namespaces: Box[] = [];
  const apps: Box[] = [];
  let x0 = PAD;
  let maxY = 0;
  for (const [ns, list] of blocks) {
    const columns = [...new Set(list.map((n) => depth.get(n.id) ?? 0))].sort((a, b) => a - b);
    let tallest = 0;
    columns.forEach((d, ci) => {
      const col = list.filter((n) => (depth.get(n.id) ?? 0) === d).sort(order);
      tallest = Math.max(tallest, col.length);
      col.forEach((n, ri) => placed.set(n.id, { node: n, x: x0 + ci * COLUMN + COLUMN / 2, y: PAD + 40 + ri * ROW + ROW / 2 }));
      // App boxes: around the versions of one app in this column, when there are several.
      const byApp = new Map<string, PlacedNode[]>();
      for (const n of col) {
        if (n.kind !== 'workload' || n.app === undefined || versionOf(n) === undefined) continue;
        const p = placed.get(n.id) as PlacedNode;
        byApp.set(n.app, [...(byApp.get(n.app) ?? []), p]);
      }
      for (const [app, members] of byApp) {
        if (members.length < 2) continue;
        const ys = members.map((m) => m.y);
        const cx = members[0]?.x ?? 0;
        apps.push({ label: app, x: cx - COLUMN / 2 + 24, y: Math.min(...ys) - NODE_R - 22, width: COLUMN - 48, height: Math.max(...ys) - Math.min(...ys) + 2 * NODE_R + 44 });
      }
    });
    const width = columns.length * COLUMN;
    const height = tallest * ROW + 40;
    namespaces.push({ label: ns, x: x0, y: PAD, width, height });
    maxY = Math.max(maxY, PAD + height);
    x0 += width + BLOCK_GAP;
  }
  const placedEdges: PlacedEdge[] = [];
  for (const e of edges) {
    const a = placed.get(e.source);
    const b = placed.get(e.target);
    if (a === undefined || b === undefined) continue;
    const forward = b.x > a.x;
    const sx = a.x + (forward ? NODE_R : 0);
    const sy = a.y + (forward ? 0 : NODE_R);
    const tx = b.x - (forward ? NODE_R + 4 : 0);
    const ty = b.y + (forward ? 0 : NODE_R + 4);
    const bend = forward ? (tx - sx) / 2 : 80;
    const path = forward ? `M${sx},${sy} C${sx + bend},${sy} ${tx - bend},${ty} ${tx},${ty}` : `M${sx},${sy} C${sx},${sy + bend} ${tx},${ty + bend} ${tx},${ty}`;
    // The label sits on the curve's middle (a cubic's point at t=0.5), nudged above the line.
    const mx = forward ? (sx + tx) / 2 : (sx + tx) / 2;
    const my = forward ? (sy + ty) / 2 : (sy + ty) / 2 + 0.75 * bend;
    placedEdges.push({ edge: e, path, labelX: mx, labelY: my - 6 });
  }
  return { width: x0 - BLOCK_GAP + PAD, height: maxY + PAD, nodes: [...placed.values()], edges: placedEdges, namespaces, apps };
}
