// Where the graph's nodes go: a layered left-to-right layout, one block per namespace (Kiali's namespace
// boxes), each block's columns by the node's depth in the traffic (ingress on the left), a column's nodes
// ordered by app then version so that `reviews v1/v2/v3` sit together inside one app box. Edges are cubic
// curves; each label is placed on its own curve by edge-labels.ts, clear of the nodes, box titles and
// other labels. The gap between two namespace blocks widens to hold the labels of the edges that cross
// it, so that no label straddles a namespace box. Pure: graph in, coordinates out (unit-tested in Node);
// the page draws them.

import type { DashboardNode, GraphEdge } from '../shared/api-types.js';
import { cubicPath, placeLabels, type Cubic, type LabelRequest, type PlacedLabel, type Rect } from './edge-labels.js';
import { edgeLabelLines, edgeShares, nodeLabel, versionOf } from './format.js';
import { APP_TITLE_FONT, BOX_TITLE_FONT, EDGE_LABEL_FONT, NODE_NAME_FONT, estimateTextWidth, type TextWidth } from './text-width.js';

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

/** An edge's label: its lines (the first after the mTLS lock, when there is one) in a box on its curve. */
export interface EdgeLabelBox extends Rect {
  readonly lines: readonly string[];
  readonly lock: boolean;
  /** Where on the curve the box's centre is (0.5: the midpoint). */
  readonly t: number;
  /** false when the label could not be kept off every other label, node and border (see edge-labels.ts). */
  readonly clear: boolean;
}

export interface PlacedEdge {
  readonly edge: GraphEdge;
  readonly curve: Cubic;
  /** SVG path data from the source to the target. */
  readonly path: string;
  readonly label: EdgeLabelBox;
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
/** A forward edge ends this far left of its target's centre; the arrowhead (7 × stroke 1.8) goes back 13 px more. */
const ARROW_TIP = NODE_R + 4;
const ARROW_LENGTH = 13;
/** Node names: baseline under the shape (the page draws them there), and their box around it. */
export const NAME_BASELINE = 36;
/** Edge label box: padding, line height (11px text), the lock's width and the space after it. */
export const LABEL_PAD_X = 5;
export const LABEL_PAD_Y = 2;
export const LABEL_LINE = 13;
const LOCK_WIDTH = 10;
const LOCK_GAP = 4;
/** Space kept between a label in a block gap and the boxes on either side. */
const GAP_MARGIN = 8;

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

/** The rectangles a label must keep off around a node: its shape with the arrowheads coming in, and its name. */
export function nodeBoxes(p: PlacedNode, measure: TextWidth = estimateTextWidth): Rect[] {
  const name = measure(nodeLabel(p.node), NODE_NAME_FONT);
  return [
    { x: p.x - ARROW_TIP - ARROW_LENGTH, y: p.y - NODE_R - 4, width: ARROW_TIP + ARROW_LENGTH + NODE_R + 4, height: 2 * NODE_R + 4 },
    { x: p.x - name / 2, y: p.y + NAME_BASELINE - 11, width: name, height: 15 },
  ];
}

/** Where a label's lines start, from its box's left side: after the lock when there is one. */
export function labelIndent(lock: boolean): number {
  return LABEL_PAD_X + (lock ? LOCK_WIDTH + LOCK_GAP : 0);
}

/** The size of an edge label's box: its lines left-aligned after the lock, 13 px apart. */
export function labelSize(lines: readonly string[], lock: boolean, measure: TextWidth = estimateTextWidth): { width: number; height: number } {
  const widest = Math.max(0, ...lines.map((l) => measure(l, EDGE_LABEL_FONT)));
  return { width: Math.ceil(labelIndent(lock) + widest + LABEL_PAD_X), height: lines.length * LABEL_LINE + 2 * LABEL_PAD_Y };
}

function curveOf(a: PlacedNode, b: PlacedNode): Cubic {
  if (b.x > a.x) {
    // Forward: out of the source's right side, into the target's left side.
    const from = { x: a.x + NODE_R, y: a.y };
    const to = { x: b.x - ARROW_TIP, y: b.y };
    const bend = (to.x - from.x) / 2;
    return { from, c1: { x: from.x + bend, y: from.y }, c2: { x: to.x - bend, y: to.y }, to };
  }
  // Backward or in one column: a loop under the nodes.
  const from = { x: a.x, y: a.y + NODE_R };
  const to = { x: b.x, y: b.y + ARROW_TIP };
  return { from, c1: { x: from.x, y: from.y + 80 }, c2: { x: to.x, y: to.y + 80 }, to };
}

function namespaceOf(n: DashboardNode): string {
  return n.namespace === '' ? (n.kind === 'unknown' ? '(unknown)' : '(external)') : n.namespace;
}

/** `measure` gives text widths (the page passes the browser's; tests the estimate). */
export function layoutGraph(nodes: readonly DashboardNode[], edges: readonly GraphEdge[], measure: TextWidth = estimateTextWidth): GraphLayout {
  const depth = depths(nodes, edges);
  const byNamespace = new Map<string, DashboardNode[]>();
  for (const n of nodes) {
    const ns = namespaceOf(n);
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
  const blockOf = new Map<string, number>();
  blocks.forEach(([, list], i) => list.forEach((n) => blockOf.set(n.id, i)));
  const shares = edgeShares(nodes, edges);
  const labels = new Map(edges.map((e) => {
    const lines = edgeLabelLines(e, shares.get(e.id));
    return [e.id, { lines, lock: e.mtls, ...labelSize(lines, e.mtls, measure) }] as const;
  }));
  // The gap before a block holds the labels of the edges coming into it from blocks on its left.
  const gaps = blocks.map(() => BLOCK_GAP);
  for (const e of edges) {
    const from = blockOf.get(e.source);
    const to = blockOf.get(e.target);
    const width = labels.get(e.id)?.width ?? 0;
    if (from !== undefined && to !== undefined && from < to) gaps[to] = Math.max(gaps[to] ?? BLOCK_GAP, width + 2 * GAP_MARGIN);
  }

  const placed = new Map<string, PlacedNode>();
  const namespaces: Box[] = [];
  const apps: Box[] = [];
  let x0 = PAD - (gaps[0] ?? BLOCK_GAP);
  let maxY = 0;
  blocks.forEach(([ns, list], bi) => {
    x0 += gaps[bi] ?? BLOCK_GAP;
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
    x0 += width;
  });

  const drawn: { edge: GraphEdge; curve: Cubic; lines: readonly string[]; lock: boolean; request: LabelRequest }[] = [];
  for (const e of edges) {
    const a = placed.get(e.source);
    const b = placed.get(e.target);
    const label = labels.get(e.id);
    if (a === undefined || b === undefined || label === undefined) continue;
    const curve = curveOf(a, b);
    drawn.push({ edge: e, curve, lines: label.lines, lock: label.lock, request: { curve, width: label.width, height: label.height } });
  }
  const blocked: Rect[] = [...placed.values()].flatMap((p) => nodeBoxes(p, measure));
  // Box titles: the namespace's at (x + 12, y + 22), an app's at (x + 8, y + 14), as the page draws them.
  for (const b of namespaces) blocked.push({ x: b.x + 12, y: b.y + 9, width: measure(b.label, BOX_TITLE_FONT), height: 17 });
  for (const b of apps) blocked.push({ x: b.x + 8, y: b.y + 4, width: measure(b.label, APP_TITLE_FONT), height: 13 });
  const boxes = placeLabels(drawn.map((d) => d.request), { blocked, regions: namespaces });
  // placeLabels answers one box per request, in order.
  const placedEdges: PlacedEdge[] = drawn.map((d, i) => ({
    edge: d.edge,
    curve: d.curve,
    path: cubicPath(d.curve),
    label: { ...(boxes[i] as PlacedLabel), lines: d.lines, lock: d.lock },
  }));
  return { width: x0 + PAD, height: maxY + PAD, nodes: [...placed.values()], edges: placedEdges, namespaces, apps };
}
