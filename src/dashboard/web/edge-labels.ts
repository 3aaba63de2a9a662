// Where each edge label of the graph goes. As in Kiali, a label sits on its own edge, centred on the
// curve's midpoint, over a light background so it reads across the lines under it. Where the midpoint
// would cover another label, a node (its shape, arrowhead or name), a box's title, or would straddle a
// namespace box's border, the label slides along its own curve (t = 0.5, then 0.5 ± 0.0125, ±0.025 … up
// to 0.05 / 0.95) to the first place that is clear of all of them. Labels are placed one at a time, in
// the order given, each against those already placed. When no place on the curve is clear, the label
// takes the one it overlaps least and is marked `clear: false`.
// Pure geometry: rectangles and cubic Béziers in, rectangles out (unit-tested in Node).

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A cubic Bézier curve: an SVG path `M from C c1 c2 to`. */
export interface Cubic {
  readonly from: Point;
  readonly c1: Point;
  readonly c2: Point;
  readonly to: Point;
}

export interface LabelRequest {
  readonly curve: Cubic;
  readonly width: number;
  readonly height: number;
}

export interface LabelObstacles {
  /** Rectangles a label must not overlap: nodes and their names, box titles. */
  readonly blocked: readonly Rect[];
  /** Boxes whose border a label must not straddle: it is either inside or outside each. */
  readonly regions: readonly Rect[];
}

export interface PlacedLabel extends Rect {
  /** Where on its curve the label's centre is. */
  readonly t: number;
  /** false when no place on the curve was clear and the label overlaps something. */
  readonly clear: boolean;
}

/** Empty space kept around labels, nodes and box borders. */
export const LABEL_CLEARANCE = 2;

/** The places tried along a curve, midpoint first, then alternately after and before it. */
export const LABEL_POSITIONS: readonly number[] = (() => {
  const ts = [0.5];
  for (let k = 1; k <= 36; k++) ts.push(0.5 + k * 0.0125, 0.5 - k * 0.0125);
  return ts;
})();

export function cubicPoint(c: Cubic, t: number): Point {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const d = 3 * u * t * t;
  const e = t * t * t;
  return { x: a * c.from.x + b * c.c1.x + d * c.c2.x + e * c.to.x, y: a * c.from.y + b * c.c1.y + d * c.c2.y + e * c.to.y };
}

export function cubicPath(c: Cubic): string {
  return `M${c.from.x},${c.from.y} C${c.c1.x},${c.c1.y} ${c.c2.x},${c.c2.y} ${c.to.x},${c.to.y}`;
}

/** The area two rectangles share; 0 when they only touch. */
export function overlapArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

export function rectsIntersect(a: Rect, b: Rect): boolean {
  return overlapArea(a, b) > 0;
}

/** Whether `r` lies partly inside and partly outside `box` (it straddles the border). */
export function straddles(r: Rect, box: Rect): boolean {
  const inside = r.x >= box.x && r.y >= box.y && r.x + r.width <= box.x + box.width && r.y + r.height <= box.y + box.height;
  return !inside && rectsIntersect(r, box);
}

export function inflate(r: Rect, by: number): Rect {
  return { x: r.x - by, y: r.y - by, width: r.width + 2 * by, height: r.height + 2 * by };
}

function centredAt(p: Point, width: number, height: number): Rect {
  return { x: p.x - width / 2, y: p.y - height / 2, width, height };
}

/** How much a label box collides with what is already there: 0 when it is clear. */
function collision(r: Rect, placed: readonly Rect[], o: LabelObstacles): number {
  const padded = inflate(r, LABEL_CLEARANCE);
  let sum = 0;
  for (const b of o.blocked) sum += overlapArea(padded, b);
  for (const b of placed) sum += overlapArea(padded, b);
  // A straddled border counts as much as the label's own area: worse than grazing a node.
  for (const b of o.regions) if (straddles(padded, b)) sum += r.width * r.height;
  return sum;
}

export function placeLabels(requests: readonly LabelRequest[], obstacles: LabelObstacles): PlacedLabel[] {
  const placed: PlacedLabel[] = [];
  for (const q of requests) {
    let best: PlacedLabel | undefined;
    let bestCost = Infinity;
    for (const t of LABEL_POSITIONS) {
      const r = centredAt(cubicPoint(q.curve, t), q.width, q.height);
      const cost = collision(r, placed, obstacles);
      if (cost < bestCost) {
        bestCost = cost;
        best = { ...r, t, clear: cost === 0 };
        if (cost === 0) break;
      }
    }
    // LABEL_POSITIONS is never empty, so `best` is set.
    placed.push(best as PlacedLabel);
  }
  return placed;
}
