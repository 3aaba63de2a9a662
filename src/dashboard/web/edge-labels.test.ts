// Edge label placement: a label sits on its own curve, at the midpoint when that is free, else slid along
// the curve to the nearest free place; it never covers another label, a blocked rectangle or a box border
// when a free place exists.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cubicPoint, placeLabels, rectsIntersect, straddles, type Cubic, type Rect } from './edge-labels.js';

/** A straight horizontal curve from (x0, y) to (x1, y). */
const line = (x0: number, x1: number, y: number): Cubic => ({ from: { x: x0, y }, c1: { x: (x0 + x1) / 2, y }, c2: { x: (x0 + x1) / 2, y }, to: { x: x1, y } });
/** The layout's forward curve: horizontal at both ends, bending between two rows. */
const bend = (x0: number, y0: number, x1: number, y1: number): Cubic => {
  const h = (x1 - x0) / 2;
  return { from: { x: x0, y: y0 }, c1: { x: x0 + h, y: y0 }, c2: { x: x1 - h, y: y1 }, to: { x: x1, y: y1 } };
};
const centre = (r: Rect): { x: number; y: number } => ({ x: r.x + r.width / 2, y: r.y + r.height / 2 });
/** Whether a label's centre is on its curve at its `t` (to a thousandth of a pixel). */
const onCurve = (l: Rect & { t: number }, c: Cubic): boolean => {
  const p = cubicPoint(c, l.t);
  const m = centre(l);
  return Math.abs(p.x - m.x) < 1e-3 && Math.abs(p.y - m.y) < 1e-3;
};

describe('edge label geometry', () => {
  it('finds points on a cubic curve', () => {
    const c = bend(0, 0, 200, 100);
    assert.deepEqual(cubicPoint(c, 0), { x: 0, y: 0 });
    assert.deepEqual(cubicPoint(c, 1), { x: 200, y: 100 });
    assert.deepEqual(cubicPoint(c, 0.5), { x: 100, y: 50 });
  });

  it('tells overlapping rectangles and straddled borders apart from touching ones', () => {
    const box: Rect = { x: 0, y: 0, width: 100, height: 100 };
    const cases: [string, Rect, boolean, boolean][] = [
      // name, rect, intersects box, straddles its border
      ['inside', { x: 10, y: 10, width: 20, height: 20 }, true, false],
      ['outside', { x: 120, y: 10, width: 20, height: 20 }, false, false],
      ['touching the right side', { x: 100, y: 10, width: 20, height: 20 }, false, false],
      ['across the right side', { x: 90, y: 10, width: 20, height: 20 }, true, true],
      ['around the box', { x: -10, y: -10, width: 120, height: 120 }, true, true],
    ];
    for (const [name, r, intersects, across] of cases) {
      assert.equal(rectsIntersect(r, box), intersects, name);
      assert.equal(straddles(r, box), across, name);
    }
  });
});

describe('placing edge labels', () => {
  it('puts a label on its curve’s midpoint when nothing is there', () => {
    const [l] = placeLabels([{ curve: line(0, 200, 50), width: 60, height: 30 }], { blocked: [], regions: [] });
    assert.ok(l !== undefined);
    assert.deepEqual({ ...centre(l), t: l.t, clear: l.clear }, { x: 100, y: 50, t: 0.5, clear: true });
  });

  it('slides a label along its own curve, off a blocked midpoint, to the nearest free place', () => {
    const curve = line(0, 400, 50);
    const blocked: Rect = { x: 160, y: 0, width: 80, height: 100 };
    const [l] = placeLabels([{ curve, width: 60, height: 30 }], { blocked: [blocked], regions: [] });
    assert.ok(l !== undefined && l.clear);
    assert.equal(rectsIntersect(l, blocked), false);
    assert.ok(onCurve(l, curve), 'the label is centred on its curve');
    assert.ok(Math.abs(l.t - 0.5) < 0.25, `t = ${l.t}`);
  });

  it('keeps the labels of edges fanning out of one node apart', () => {
    // One source, five targets one row (96 px) apart, as reviews -> v1/v2/v3 are drawn.
    const requests = [0, 1, 2, 3, 4].map((row) => ({ curve: bend(20, 100, 220, 100 + row * 96), width: 150, height: 30 }));
    const labels = placeLabels(requests, { blocked: [], regions: [] });
    for (const [i, a] of labels.entries()) {
      assert.ok(a.clear, `label ${i} is clear`);
      for (const b of labels.slice(i + 1)) assert.equal(rectsIntersect(a, b), false, `labels ${i} and ${labels.indexOf(b)}`);
    }
  });

  it('keeps a label out of a box border: inside it or outside', () => {
    const region: Rect = { x: 150, y: 0, width: 300, height: 100 };
    const [l] = placeLabels([{ curve: line(0, 400, 50), width: 60, height: 30 }], { blocked: [], regions: [region] });
    assert.ok(l !== undefined && l.clear);
    assert.equal(straddles(l, region), false);
  });

  it('marks a label that cannot be placed clear, and still keeps it on its curve', () => {
    const curve = line(0, 100, 50);
    const [l] = placeLabels([{ curve, width: 60, height: 30 }], { blocked: [{ x: -10, y: 0, width: 120, height: 100 }], regions: [] });
    assert.ok(l !== undefined);
    assert.equal(l.clear, false);
    assert.ok(onCurve(l, curve));
  });
});
